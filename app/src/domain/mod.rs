//! Pure domain logic: money, task verdicts and the cost-per-successful-task arithmetic.
//! No I/O, no sqlx, no Leptos: it compiles for the server and for the browser alike, except
//! `verdict`, whose JSON Schema validation is server-only.

pub mod agreement;
pub mod alerting;
pub mod attribution;
pub mod basis_points;
pub mod bounds;
pub mod compare;
pub mod cpst;
pub mod gate;
pub mod money;
pub mod platform;
pub mod pricing;
pub mod reconcile;
pub mod review_time;
pub mod rule;
pub mod sampling;
pub mod slug;
pub mod stats;
pub mod status;
pub mod time;
#[cfg(feature = "ssr")]
pub mod verdict;

pub use basis_points::BasisPoints;
pub use cpst::{CostBreakdown, Cpst, TaskSet};
pub use money::Micros;
pub use review_time::ReviewTime;
pub use slug::Slug;
pub use status::{CallKind, ReportedStatus, TaskStatus};
