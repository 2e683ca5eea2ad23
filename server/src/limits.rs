//! The limits the server holds every client to: how long a connection may take to send a
//! request, how many connections and requests may be open at once, how fast one API key or
//! one address may go, and how much uploaded data may be in memory. Set from `serve`'s flags
//! ([`crate::config::LimitArgs`]); tests set small ones directly.

use crate::config::LimitArgs;
use axum::http::StatusCode;
use std::time::Duration;

/// Requests in progress at once and requests per second, for one API key or one address.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    pub concurrency: usize,
    /// Requests per second on average.
    pub rate: f64,
    /// Requests at once above the rate, after a quiet spell.
    pub burst: f64,
}

/// Every limit, with its unit in its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// From a connection's opening, or from the first byte of a later request, to its headers'
    /// end.
    pub header_timeout: Duration,
    /// From a request's headers to its body's end.
    pub body_timeout: Duration,
    /// A kept-alive connection's wait for its next request.
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// Each API key's share (requests with `Authorization: Bearer`).
    pub per_key: Share,
    /// Each client address's share of everything else but the health check and static files.
    pub per_address: Share,
    /// Sign-ins in progress at once from one address.
    pub sign_in_per_address: usize,
    /// Sign-ins in progress at once in all.
    pub sign_ins: usize,
    /// Passwords hashed at once.
    pub password_hashes: usize,
    /// Database connections API and ingestion requests may not use.
    pub reserved_connections: usize,
    /// Bytes of ingestion bodies, decompressed, in memory at once.
    pub intake_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&LimitArgs::default())
    }
}

impl From<&LimitArgs> for Limits {
    fn from(args: &LimitArgs) -> Self {
        Limits {
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_timeout: Duration::from_secs(args.body_timeout_secs),
            idle_timeout: Duration::from_secs(args.idle_timeout_secs),
            max_connections: args.max_connections as usize,
            per_key: Share {
                concurrency: args.key_concurrency as usize,
                rate: f64::from(args.key_rate),
                burst: f64::from(args.key_burst),
            },
            per_address: Share {
                concurrency: args.address_concurrency as usize,
                rate: f64::from(args.address_rate),
                burst: f64::from(args.address_burst),
            },
            sign_in_per_address: args.sign_in_concurrency as usize,
            sign_ins: args.sign_ins as usize,
            password_hashes: args.password_hashes as usize,
            reserved_connections: args.reserved_connections as usize,
            intake_memory: args.intake_memory_mib as usize * 1024 * 1024,
        }
    }
}

/// Why a request was not admitted, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The sender has its share of requests in progress.
    TooManyAtOnce,
    /// The sender is over its rate; seconds until a request would be admitted.
    TooFast(u64),
    /// The server as a whole is at a limit.
    Busy,
}

impl Refused {
    pub fn retry_after(&self) -> u64 {
        match self {
            Refused::TooManyAtOnce | Refused::Busy => 1,
            Refused::TooFast(seconds) => *seconds,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Refused::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refused::TooManyAtOnce => {
                "too many requests in progress for this API key or address; retry after Retry-After seconds".to_owned()
            }
            Refused::TooFast(seconds) => format!(
                "too many requests per second for this API key or address; retry in {seconds} s"
            ),
            Refused::Busy => "the server is busy; retry after Retry-After seconds".to_owned(),
        }
    }
}
