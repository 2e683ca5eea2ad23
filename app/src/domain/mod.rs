//! Pure domain logic: money, task verdicts and the cost-per-successful-task arithmetic.
//! No I/O, no sqlx, no Leptos: it compiles for the server and for the browser alike.

pub mod cpst;
pub mod money;
pub mod platform;
pub mod pricing;
pub mod rule;
pub mod sampling;
pub mod status;
pub mod time;

pub use cpst::{CostBreakdown, Cpst, TaskSet};
pub use money::Micros;
pub use status::{CallKind, ReportedStatus, TaskStatus};
