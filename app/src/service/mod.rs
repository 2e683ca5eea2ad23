//! The work behind each feature (server only): reads and writes through `db`, computes through
//! `report` and `domain`, and returns `views`. Server functions and the server's own routes
//! call in here; nothing here calls a server function.

pub mod access;
pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod compare;
pub mod costs;
pub mod exports;
pub mod figures;
pub mod focus;
pub mod gate;
pub mod reconcile;
pub mod retention;
pub mod review;
pub mod setup;
pub mod success;
pub mod tasks;
pub mod trace;
pub mod whatif;
pub mod workflows;
