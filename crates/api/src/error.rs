//! The API's one error type: a stable snake_case code, a message for people,
//! and an HTTP status. Internal errors are logged and never leaked.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rexian_core::order::OrderError;
use rexian_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `illegal_state`, `conflict`.
    pub code: String,
    pub message: String,
    /// The order's current version, on a conflict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub current_version: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            current_version: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first (session cookie or bearer token)",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden_role", message)
    }
    pub fn out_of_scope() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "out_of_scope",
            "this order is outside your department's scope",
        )
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found", what.into()),
        )
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        let status = match e {
            OrderError::IllegalState { .. } | OrderError::Suspended { .. } => StatusCode::CONFLICT,
            OrderError::Forbidden { .. } | OrderError::OutOfScope { .. } => StatusCode::FORBIDDEN,
            OrderError::ReasonRequired { .. } | OrderError::Invalid(_) | OrderError::Rule(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict { current } => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: e.to_string(),
                current_version: Some(current),
            },
            StoreError::Order(o) => o.into(),
            StoreError::Invalid(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", m)
            }
            StoreError::Duplicate(_) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", e.to_string())
            }
            StoreError::Locked(_) => ApiError::new(
                StatusCode::from_u16(423).unwrap_or(StatusCode::FORBIDDEN),
                "account_locked",
                e.to_string(),
            ),
            StoreError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string())
            }
            StoreError::Db(_)
            | StoreError::Sqlite(_)
            | StoreError::Corrupt(_)
            | StoreError::Io(_) => ApiError::internal(e),
        }
    }
}

impl From<rexian_core::values::ValueError> for ApiError {
    fn from(e: rexian_core::values::ValueError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                code: self.code.to_string(),
                message: self.message,
                current_version: self.current_version,
            }),
        )
            .into_response()
    }
}
