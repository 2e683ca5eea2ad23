//! Finishline's web application: pages, components and server functions, rendered on the
//! server (`ssr`) and hydrated in the browser (`hydrate`).
//!
//! Every feature has the same rooms, and imports run one way:
//!
//! ```text
//! pages/<feature>.rs    one file per route              (both targets)
//!   -> api/<feature>.rs     server functions: who asks -> service -> result
//!     -> service/<feature>.rs   the work (server only): returns views
//!       -> db/  report/  domain/   storage, the figures engine, pure rules
//! views/<feature>.rs    what pages show and forms send  (both targets)
//! ```
//!
//! Anything may use `views`, `model` and `domain`; nothing below `api` imports `api`, and
//! `db`, `report` and `domain` never import `service`. Adding a feature (say, alerts): the
//! types the page shows go in `views/alerts.rs`; the reads, checks and writes in
//! `service/alerts.rs`, returning those views; a server function per action in
//! `api/alerts.rs` that finds the viewer, calls the service and returns; the page in
//! `pages/alerts.rs`. `docs/architecture.md` walks through it.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod model;
pub mod pages;
pub mod report;
mod shell;
pub mod views;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod service;

pub use shell::{App, shell};

/// Browser entry point: attaches the server-rendered page to the reactive runtime.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
