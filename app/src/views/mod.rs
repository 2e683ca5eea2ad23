//! What pages show and forms send, one module per feature: plain serde types compiled for the
//! server and the browser alike. Services fill them, server functions carry them, pages render
//! them; nothing here reads storage.

pub mod access;
pub mod account;
pub mod alerts;
pub mod audit;
pub mod choice;
pub mod costs;
pub mod format;
pub mod gate;
pub mod keys;
pub mod overview;
pub mod reconcile;
pub mod review;
pub mod setup;
pub mod tasks;
pub mod tone;
pub mod users;
pub mod whatif;
pub mod workflows;
