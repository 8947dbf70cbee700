//! What people (and the scheduler) ask of a work order.

use super::fields::FieldPatch;
use super::types::Satisfaction;
use crate::deadline::{Clock, WorkSpan};
use crate::ids::{DepartmentId, OrderId};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// 直接办结: a consultation answered during the call.
    AnswerOnTheSpot {
        answer: String,
    },
    /// 派单 / 改派 / 下派: to a main department and optional co-handlers.
    Dispatch {
        main_department_id: DepartmentId,
        #[serde(default)]
        co_department_ids: Vec<DepartmentId>,
        instructions: Option<String>,
    },
    /// 签收
    Sign,
    /// 协办意见: a co-handling department's contribution.
    CoReply {
        text: String,
    },
    /// 退单申请
    RequestReturn,
    ApproveReturn,
    RejectReturn,
    /// 延期申请: more working time, e.g. `3d`.
    RequestExtension {
        extra: WorkSpan,
    },
    ApproveExtension,
    RejectExtension,
    /// 办结反馈
    Reply {
        text: String,
    },
    /// 审核通过
    AcceptReply,
    /// 审核退回重办
    OrderRework,
    /// 回访
    RecordCallback {
        satisfaction: Satisfaction,
        note: Option<String>,
        /// Send an unsatisfied order back to the department (重办).
        #[serde(default)]
        reopen: bool,
    },
    /// 结案归档
    Close,
    /// 挂起: the clocks stop.
    Suspend,
    Resume,
    /// 督办
    Supervise,
    /// 催办
    Remind,
    /// 合并: this order is a duplicate of `into`.
    Merge {
        into: OrderId,
    },
    /// 关联
    Link {
        other: OrderId,
    },
    /// 作废: crank or test call.
    Void,
    /// 补填
    Supplement {
        patch: FieldPatch,
    },
    /// Raised by the scheduler only.
    DeadlineWarning {
        clock: Clock,
    },
    /// Raised by the scheduler only.
    DeadlineOverdue {
        clock: Clock,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::AnswerOnTheSpot { .. } => "answer_on_the_spot",
            Command::Dispatch { .. } => "dispatch",
            Command::Sign => "sign",
            Command::CoReply { .. } => "co_reply",
            Command::RequestReturn => "request_return",
            Command::ApproveReturn => "approve_return",
            Command::RejectReturn => "reject_return",
            Command::RequestExtension { .. } => "request_extension",
            Command::ApproveExtension => "approve_extension",
            Command::RejectExtension => "reject_extension",
            Command::Reply { .. } => "reply",
            Command::AcceptReply => "accept_reply",
            Command::OrderRework => "order_rework",
            Command::RecordCallback { .. } => "record_callback",
            Command::Close => "close",
            Command::Suspend => "suspend",
            Command::Resume => "resume",
            Command::Supervise => "supervise",
            Command::Remind => "remind",
            Command::Merge { .. } => "merge",
            Command::Link { .. } => "link",
            Command::Void => "void",
            Command::Supplement { .. } => "supplement",
            Command::DeadlineWarning { .. } => "deadline_warning",
            Command::DeadlineOverdue { .. } => "deadline_overdue",
        }
    }

    /// The other order a command touches in the same transaction.
    pub fn other_order(&self) -> Option<OrderId> {
        match self {
            Command::Merge { into } => Some(*into),
            Command::Link { other } => Some(*other),
            _ => None,
        }
    }
}
