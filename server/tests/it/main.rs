//! Integration tests: the real router and the real databases, SQLite and PostgreSQL both.

mod demo;
mod helpers;
mod pages;
mod storage;
