//! Rexian's domain: work orders and their lifecycle, deadlines on a business
//! calendar, routing, the organisation and citizens. Pure types and
//! functions: no I/O, no async, no SQL, no HTTP.

pub mod calendar;
pub mod category;
pub mod citizen;
pub mod deadline;
pub mod ids;
pub mod order;
pub mod org;
pub mod routing;
#[cfg(feature = "openapi")]
mod schema;
pub mod values;

pub use calendar::BusinessCalendar;
