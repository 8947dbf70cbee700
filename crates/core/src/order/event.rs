//! Every change of a work order is one of these, appended and never rewritten.

use super::fields::{FieldPatch, OrderFields};
use super::types::Satisfaction;
use crate::deadline::{Clock, ClockState};
use crate::ids::{DepartmentId, OrderId};
use crate::org::Actor;
use crate::values::CaseNumber;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1 for the registration, then one more per event of this order.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub reason: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Clock states after suspension or resumption (all three, as they now stand).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockSet {
    pub sign: Option<ClockState>,
    pub reply: Option<ClockState>,
    pub callback: Option<ClockState>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Registered {
        case_number: CaseNumber,
        fields: OrderFields,
        suggested_department: Option<DepartmentId>,
    },
    AnsweredOnTheSpot {
        answer: String,
    },
    Dispatched {
        main: DepartmentId,
        co: Vec<DepartmentId>,
        from_department: Option<DepartmentId>,
        instructions: Option<String>,
        sign: ClockState,
        /// `None` keeps the running reply clock (re-dispatch down the tree).
        reply: Option<ClockState>,
    },
    Signed,
    CoReplied {
        department: DepartmentId,
        text: String,
    },
    ReturnRequested {
        department: DepartmentId,
    },
    /// Back to `back_to` (the unit that dispatched it down), or to the centre
    /// for re-dispatch when `None`.
    ReturnApproved {
        back_to: Option<DepartmentId>,
    },
    ReturnRejected,
    ExtensionRequested {
        minutes: i64,
    },
    ExtensionApproved {
        minutes: i64,
        reply: ClockState,
    },
    ExtensionRejected,
    Replied {
        text: String,
    },
    ReplyAccepted {
        callback: ClockState,
    },
    ReworkOrdered {
        reply: ClockState,
    },
    CallbackRecorded {
        satisfaction: Satisfaction,
        note: Option<String>,
        /// Unsatisfied and sent back to the department with a fresh reply clock.
        reopened: Option<ClockState>,
    },
    Closed {
        note: Option<String>,
    },
    Suspended {
        clocks: ClockSet,
    },
    Resumed {
        clocks: ClockSet,
    },
    Supervised {
        note: Option<String>,
    },
    Reminded {
        auto: bool,
        note: Option<String>,
    },
    MergedInto {
        target: OrderId,
        target_case: CaseNumber,
    },
    MergedFrom {
        source: OrderId,
        source_case: CaseNumber,
    },
    Linked {
        other: OrderId,
        other_case: CaseNumber,
    },
    Voided,
    Supplemented {
        patch: FieldPatch,
    },
    AttachmentAdded {
        attachment_id: i64,
        name: String,
    },
    DeadlineWarning {
        clock: Clock,
        due_at: DateTime<Utc>,
    },
    DeadlineOverdue {
        clock: Clock,
        due_at: DateTime<Utc>,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Registered { .. } => "registered",
            EventKind::AnsweredOnTheSpot { .. } => "answered_on_the_spot",
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::Signed => "signed",
            EventKind::CoReplied { .. } => "co_replied",
            EventKind::ReturnRequested { .. } => "return_requested",
            EventKind::ReturnApproved { .. } => "return_approved",
            EventKind::ReturnRejected => "return_rejected",
            EventKind::ExtensionRequested { .. } => "extension_requested",
            EventKind::ExtensionApproved { .. } => "extension_approved",
            EventKind::ExtensionRejected => "extension_rejected",
            EventKind::Replied { .. } => "replied",
            EventKind::ReplyAccepted { .. } => "reply_accepted",
            EventKind::ReworkOrdered { .. } => "rework_ordered",
            EventKind::CallbackRecorded { .. } => "callback_recorded",
            EventKind::Closed { .. } => "closed",
            EventKind::Suspended { .. } => "suspended",
            EventKind::Resumed { .. } => "resumed",
            EventKind::Supervised { .. } => "supervised",
            EventKind::Reminded { .. } => "reminded",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::MergedFrom { .. } => "merged_from",
            EventKind::Linked { .. } => "linked",
            EventKind::Voided => "voided",
            EventKind::Supplemented { .. } => "supplemented",
            EventKind::AttachmentAdded { .. } => "attachment_added",
            EventKind::DeadlineWarning { .. } => "deadline_warning",
            EventKind::DeadlineOverdue { .. } => "deadline_overdue",
        }
    }
}
