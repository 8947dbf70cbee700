//! Work orders (工单): fields, lifecycle commands, events and the current view.

mod command;
mod decide;
mod error;
mod event;
mod fields;
mod types;
mod view;

#[cfg(test)]
mod tests;

pub use command::Command;
pub use decide::{decide, register, Ctx};
pub use error::OrderError;
pub use event::{ClockSet, Event, EventKind};
pub use fields::{Caller, FieldPatch, GeoPoint, OrderFields};
pub use types::{Channel, OrderType, Satisfaction, Status, Urgency};
pub use view::{AttachmentRef, CoReply, DeadlineStage, WorkOrder};
