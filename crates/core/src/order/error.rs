use super::types::Status;
use crate::org::Role;
use crate::values::ValueError;

/// Why a command was refused. Each has a stable code for the API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrderError {
    #[error("command {command} is not allowed while the order is {status}")]
    IllegalState {
        command: &'static str,
        status: Status,
    },
    #[error("command {command} is not allowed while the order is suspended")]
    Suspended { command: &'static str },
    #[error("command {command} is not allowed for role {role}")]
    Forbidden {
        command: &'static str,
        role: &'static str,
    },
    #[error("command {command} is outside your department's scope")]
    OutOfScope { command: &'static str },
    #[error("command {command} needs a reason")]
    ReasonRequired { command: &'static str },
    #[error("invalid {0}")]
    Invalid(#[from] ValueError),
    #[error("{0}")]
    Rule(String),
}

impl OrderError {
    pub fn code(&self) -> &'static str {
        match self {
            OrderError::IllegalState { .. } => "illegal_state",
            OrderError::Suspended { .. } => "order_suspended",
            OrderError::Forbidden { .. } => "forbidden_role",
            OrderError::OutOfScope { .. } => "out_of_scope",
            OrderError::ReasonRequired { .. } => "reason_required",
            OrderError::Invalid(_) => "invalid_input",
            OrderError::Rule(_) => "rule_violation",
        }
    }

    pub fn forbidden(command: &'static str, role: Option<Role>) -> Self {
        OrderError::Forbidden {
            command,
            role: role.map(|r| r.as_str()).unwrap_or("system"),
        }
    }
}
