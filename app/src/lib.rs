//! Finishline's web application: pages, components and server functions, rendered on the
//! server (`ssr`) and hydrated in the browser (`hydrate`).

#![recursion_limit = "256"]

pub mod access;
pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod model;
pub mod pages;
pub mod report;
mod shell;

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod costs;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod exports;
#[cfg(feature = "ssr")]
pub mod gate;
#[cfg(feature = "ssr")]
pub mod review;
#[cfg(feature = "ssr")]
pub mod success;
#[cfg(feature = "ssr")]
pub mod tasks;

pub use shell::{App, shell};

/// Browser entry point: attaches the server-rendered page to the reactive runtime.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
