//! Work orders in the store: creation with case numbers and idempotency
//! keys, commands appended as events with the read model updated in the
//! same transaction, and the queries behind lists and history.

pub(crate) mod columns;
mod create;
pub(crate) mod execute;
mod import;
mod query;

pub use create::NewOrder;
pub use query::{HistoryEntry, ListPage, OrderFilter, OrderStats};
