use rexian_core::order::OrderError;
use rexian_core::values::ValueError;

/// The storage layer's one error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// Someone else changed the order first (optimistic concurrency).
    #[error("the order was changed by someone else (now at version {current})")]
    Conflict { current: i64 },
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("account locked until {0}")]
    Locked(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("SQLite error: {0}")]
    Sqlite(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ValueError> for StoreError {
    fn from(e: ValueError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
