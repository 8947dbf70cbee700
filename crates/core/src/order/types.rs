//! The small vocabularies of a work order.

use serde::{Deserialize, Serialize};

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocab!(
    /// 工单类型
    OrderType {
        Consultation = "consultation" / "咨询",
        Complaint = "complaint" / "投诉",
        Report = "report" / "举报",
        Help = "help" / "求助",
        Suggestion = "suggestion" / "建议",
        Praise = "praise" / "表扬",
        Other = "other" / "其他",
    }
);

vocab!(
    /// 来源渠道
    Channel {
        Phone = "phone" / "电话",
        Web = "web" / "网站",
        Open311 = "open311" / "Open311",
        Wechat = "wechat" / "微信",
        Sms = "sms" / "短信",
        Email = "email" / "电子邮件",
        Chat = "chat" / "在线客服",
        Letter = "letter" / "来信",
        Fax = "fax" / "传真",
        Voicemail = "voicemail" / "语音留言",
        Leader = "leader" / "领导交办",
        Other = "other" / "其他",
    }
);

vocab!(
    /// 紧急程度
    Urgency {
        Normal = "normal" / "一般",
        Urgent = "urgent" / "紧急",
        VeryUrgent = "very_urgent" / "特急",
    }
);

vocab!(
    /// 工单状态
    Status {
        Registered = "registered" / "待派单",
        Dispatched = "dispatched" / "待签收",
        Signed = "signed" / "办理中",
        ReturnRequested = "return_requested" / "退单待审",
        Replied = "replied" / "待审核",
        AwaitingCallback = "awaiting_callback" / "待回访",
        CallbackDone = "callback_done" / "已回访",
        Closed = "closed" / "已办结",
        Voided = "voided" / "已作废",
        Merged = "merged" / "已合并",
    }
);

vocab!(
    /// 回访满意度
    Satisfaction {
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Unsatisfied = "unsatisfied" / "不满意",
        Unreachable = "unreachable" / "未联系上",
    }
);

impl Status {
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Voided | Status::Merged)
    }
    /// Statuses counted as open (待办) in lists and metrics.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
        assert_eq!(OrderType::parse("complaint").unwrap().label_zh(), "投诉");
        assert_eq!(Channel::parse("nope"), None);
    }
}
