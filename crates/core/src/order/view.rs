//! The current state of a work order: the fold of its events.

use super::event::{Event, EventKind};
use super::fields::OrderFields;
use super::types::{Satisfaction, Status};
use crate::deadline::{Clock, ClockState, Light};
use crate::ids::{DepartmentId, OrderId};
use crate::values::CaseNumber;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which deadline event is due for a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineStage {
    Warning,
    Overdue,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoReply {
    pub department: DepartmentId,
    pub text: String,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: i64,
    pub name: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: OrderId,
    pub case_number: CaseNumber,
    /// Number of events applied; the optimistic-concurrency token.
    pub version: i64,
    pub status: Status,
    pub suspended: bool,
    #[serde(flatten)]
    pub fields: OrderFields,
    pub suggested_department: Option<DepartmentId>,
    pub main_department: Option<DepartmentId>,
    pub co_departments: Vec<DepartmentId>,
    /// The unit that dispatched it to `main_department` (the centre, or a
    /// district that passed it down).
    pub dispatched_from: Option<DepartmentId>,
    pub sign_clock: Option<ClockState>,
    pub reply_clock: Option<ClockState>,
    pub callback_clock: Option<ClockState>,
    pub pending_extension_minutes: Option<i64>,
    /// The status to go back to when a return is rejected.
    pub status_before_return: Option<Status>,
    pub answer: Option<String>,
    pub reply_text: Option<String>,
    pub co_replies: Vec<CoReply>,
    pub satisfaction: Option<Satisfaction>,
    pub callback_note: Option<String>,
    pub supervised: bool,
    pub supervise_count: i64,
    pub reminder_count: i64,
    pub rework_count: i64,
    pub return_count: i64,
    pub rejected_return_count: i64,
    pub extension_count: i64,
    pub merged_into: Option<OrderId>,
    pub merged_from: Vec<OrderId>,
    pub links: Vec<OrderId>,
    pub warned: Vec<Clock>,
    pub overdue: Vec<Clock>,
    pub attachments: Vec<AttachmentRef>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl WorkOrder {
    /// Builds the view from the first event (which must be `Registered`).
    pub fn from_registration(id: OrderId, first: &Event) -> Option<Self> {
        let EventKind::Registered {
            case_number,
            fields,
            suggested_department,
        } = &first.kind
        else {
            return None;
        };
        Some(Self {
            id,
            case_number: case_number.clone(),
            version: first.seq,
            status: Status::Registered,
            suspended: false,
            fields: fields.clone(),
            suggested_department: *suggested_department,
            main_department: None,
            co_departments: vec![],
            dispatched_from: None,
            sign_clock: None,
            reply_clock: None,
            callback_clock: None,
            pending_extension_minutes: None,
            status_before_return: None,
            answer: None,
            reply_text: None,
            co_replies: vec![],
            satisfaction: None,
            callback_note: None,
            supervised: false,
            supervise_count: 0,
            reminder_count: 0,
            rework_count: 0,
            return_count: 0,
            rejected_return_count: 0,
            extension_count: 0,
            merged_into: None,
            merged_from: vec![],
            links: vec![],
            warned: vec![],
            overdue: vec![],
            attachments: vec![],
            created_at: first.at,
            created_by: first.actor.name.clone(),
            updated_at: first.at,
            closed_at: None,
        })
    }

    /// Folds a whole history; `None` when it does not start with a registration.
    pub fn fold(id: OrderId, events: &[Event]) -> Option<Self> {
        let (first, rest) = events.split_first()?;
        let mut o = Self::from_registration(id, first)?;
        for e in rest {
            o.apply(e);
        }
        Some(o)
    }

    pub fn clock(&self, c: Clock) -> Option<&ClockState> {
        match c {
            Clock::Sign => self.sign_clock.as_ref(),
            Clock::Reply => self.reply_clock.as_ref(),
            Clock::Callback => self.callback_clock.as_ref(),
        }
    }

    pub fn clock_light(&self, c: Clock, now: DateTime<Utc>) -> Option<Light> {
        if self.suspended || self.status.is_terminal() {
            return None;
        }
        self.clock(c).and_then(|s| s.light(now))
    }

    /// The worst light of the running clocks.
    pub fn light(&self, now: DateTime<Utc>) -> Option<Light> {
        Clock::ALL
            .iter()
            .filter_map(|c| self.clock_light(*c, now))
            .max()
    }

    /// Deadline events still to be raised for the running clocks, earliest
    /// first: each clock's warning (if it lies before the due instant) and its
    /// overdue, unless already raised. Empty while suspended or once closed.
    pub fn pending_deadlines(&self) -> Vec<(DateTime<Utc>, Clock, DeadlineStage)> {
        let mut v = vec![];
        if self.suspended || self.status.is_terminal() {
            return v;
        }
        for c in Clock::ALL {
            let Some(s) = self.clock(c).filter(|s| s.is_running()) else {
                continue;
            };
            if !self.warned.contains(&c) && !self.overdue.contains(&c) && s.warn_at < s.due_at {
                v.push((s.warn_at, c, DeadlineStage::Warning));
            }
            if !self.overdue.contains(&c) {
                v.push((s.due_at, c, DeadlineStage::Overdue));
            }
        }
        v.sort_by_key(|(at, _, _)| *at);
        v
    }

    /// Departments that see this order (main and co-handlers).
    pub fn departments(&self) -> Vec<DepartmentId> {
        let mut v: Vec<_> = self.main_department.into_iter().collect();
        v.extend(self.co_departments.iter().copied());
        v
    }

    fn stop_clock(clock: &mut Option<ClockState>, at: DateTime<Utc>) {
        if let Some(c) = clock {
            if c.done_at.is_none() {
                c.done_at = Some(at);
            }
        }
    }

    pub fn apply(&mut self, e: &Event) {
        self.version = e.seq;
        self.updated_at = e.at;
        let at = e.at;
        match &e.kind {
            EventKind::Registered { .. } => {}
            EventKind::AnsweredOnTheSpot { answer } => {
                self.answer = Some(answer.clone());
                self.status = Status::Closed;
                self.closed_at = Some(at);
            }
            EventKind::Dispatched {
                main,
                co,
                from_department,
                sign,
                reply,
                ..
            } => {
                self.main_department = Some(*main);
                self.co_departments = co.clone();
                self.dispatched_from = *from_department;
                self.sign_clock = Some(sign.clone());
                if let Some(r) = reply {
                    self.reply_clock = Some(r.clone());
                    self.warned.retain(|c| *c != Clock::Reply);
                    self.overdue.retain(|c| *c != Clock::Reply);
                }
                self.status = Status::Dispatched;
                self.warned.retain(|c| *c != Clock::Sign);
                self.overdue.retain(|c| *c != Clock::Sign);
            }
            EventKind::Signed => {
                Self::stop_clock(&mut self.sign_clock, at);
                self.status = Status::Signed;
            }
            EventKind::CoReplied { department, text } => self.co_replies.push(CoReply {
                department: *department,
                text: text.clone(),
                at,
            }),
            EventKind::ReturnRequested { .. } => {
                self.status_before_return = Some(self.status);
                self.status = Status::ReturnRequested;
            }
            EventKind::ReturnApproved { back_to } => {
                self.return_count += 1;
                self.status_before_return = None;
                self.pending_extension_minutes = None;
                match back_to {
                    Some(d) => {
                        self.main_department = Some(*d);
                        self.co_departments.clear();
                        self.dispatched_from = None;
                        self.status = Status::Signed;
                    }
                    None => {
                        self.main_department = None;
                        self.co_departments.clear();
                        self.dispatched_from = None;
                        self.sign_clock = None;
                        self.reply_clock = None;
                        self.warned.clear();
                        self.overdue.clear();
                        self.status = Status::Registered;
                    }
                }
            }
            EventKind::ReturnRejected => {
                self.rejected_return_count += 1;
                self.status = self.status_before_return.take().unwrap_or(Status::Signed);
            }
            EventKind::ExtensionRequested { minutes } => {
                self.pending_extension_minutes = Some(*minutes);
            }
            EventKind::ExtensionApproved { reply, .. } => {
                self.pending_extension_minutes = None;
                self.extension_count += 1;
                self.reply_clock = Some(reply.clone());
                self.warned.retain(|c| *c != Clock::Reply);
                self.overdue.retain(|c| *c != Clock::Reply);
            }
            EventKind::ExtensionRejected => self.pending_extension_minutes = None,
            EventKind::Replied { text } => {
                self.reply_text = Some(text.clone());
                self.pending_extension_minutes = None;
                Self::stop_clock(&mut self.sign_clock, at);
                Self::stop_clock(&mut self.reply_clock, at);
                self.status = Status::Replied;
            }
            EventKind::ReplyAccepted { callback } => {
                self.callback_clock = Some(callback.clone());
                self.warned.retain(|c| *c != Clock::Callback);
                self.overdue.retain(|c| *c != Clock::Callback);
                self.status = Status::AwaitingCallback;
            }
            EventKind::ReworkOrdered { reply } => {
                self.rework_count += 1;
                self.reply_clock = Some(reply.clone());
                self.warned.retain(|c| *c != Clock::Reply);
                self.overdue.retain(|c| *c != Clock::Reply);
                self.status = Status::Signed;
            }
            EventKind::CallbackRecorded {
                satisfaction,
                note,
                reopened,
            } => {
                self.satisfaction = Some(*satisfaction);
                self.callback_note = note.clone();
                Self::stop_clock(&mut self.callback_clock, at);
                match reopened {
                    Some(reply) => {
                        self.rework_count += 1;
                        self.reply_clock = Some(reply.clone());
                        self.warned.retain(|c| *c != Clock::Reply);
                        self.overdue.retain(|c| *c != Clock::Reply);
                        self.status = Status::Signed;
                    }
                    None => self.status = Status::CallbackDone,
                }
            }
            EventKind::Closed { .. } => {
                Self::stop_clock(&mut self.callback_clock, at);
                self.status = Status::Closed;
                self.closed_at = Some(at);
            }
            EventKind::Suspended { clocks } | EventKind::Resumed { clocks } => {
                self.suspended = matches!(e.kind, EventKind::Suspended { .. });
                self.sign_clock = clocks.sign.clone();
                self.reply_clock = clocks.reply.clone();
                self.callback_clock = clocks.callback.clone();
            }
            EventKind::Supervised { .. } => {
                self.supervised = true;
                self.supervise_count += 1;
            }
            EventKind::Reminded { .. } => self.reminder_count += 1,
            EventKind::MergedInto { target, .. } => {
                self.merged_into = Some(*target);
                self.status = Status::Merged;
                self.closed_at = Some(at);
            }
            EventKind::MergedFrom { source, .. } => self.merged_from.push(*source),
            EventKind::Linked { other, .. } => {
                if !self.links.contains(other) {
                    self.links.push(*other);
                }
            }
            EventKind::Voided => {
                self.status = Status::Voided;
                self.closed_at = Some(at);
            }
            EventKind::Supplemented { patch } => patch.apply_to(&mut self.fields),
            EventKind::AttachmentAdded {
                attachment_id,
                name,
            } => self.attachments.push(AttachmentRef {
                id: *attachment_id,
                name: name.clone(),
            }),
            EventKind::DeadlineWarning { clock, .. } => {
                if !self.warned.contains(clock) {
                    self.warned.push(*clock);
                }
            }
            EventKind::DeadlineOverdue { clock, .. } => {
                if !self.overdue.contains(clock) {
                    self.overdue.push(*clock);
                }
            }
        }
    }
}
