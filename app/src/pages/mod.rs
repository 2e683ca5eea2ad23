//! One module per route.

pub mod account;
pub mod audit;
pub mod costs;
pub mod home;
pub mod keys;
pub mod not_found;
pub mod sign_in;
pub mod users;
