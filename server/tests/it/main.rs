//! Integration tests: the real router and the real databases, SQLite and PostgreSQL both.

mod bounds;
mod definitions;
mod demo;
mod durability;
mod engine;
mod errors;
mod faults;
mod focus;
mod hardening;
mod helpers;
mod import;
mod ingest;
mod limits;
mod markup;
mod openapi;
mod otlp;
mod pages;
mod pg_restart;
mod read_api;
mod schema;
mod security;
mod storage;
mod success;
mod tenancy;
mod verdicts;
mod views;
