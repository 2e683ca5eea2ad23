//! One module per route.

pub mod account;
pub mod alerts;
pub mod audit;
pub mod call_levers;
pub mod compare;
pub mod costs;
pub mod gate;
pub mod home;
pub mod keys;
pub mod models;
pub mod not_found;
pub mod prices;
pub mod reconcile;
pub mod review;
pub mod rule_editor;
pub mod setup;
pub mod sign_in;
pub mod task;
pub mod tasks;
pub mod users;
pub mod whatif;
pub mod workflows;
