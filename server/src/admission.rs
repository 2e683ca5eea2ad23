//! Admission: every request but the health check and static files is counted against its
//! sender's share before anything else is done for it. An API key (or, without one, the
//! client's address) may have so many requests in progress and make so many a second; past
//! either it is answered 429 with `Retry-After`. API and ingestion requests together hold at
//! most the database pool less a reserve, so that pages, the health check and the background
//! jobs always find a connection; sign-ins, which hash a password, have their own small share.

use crate::AppState;
use crate::error::ApiError;
use crate::limits::{Limits, Refused, Share};
use app::db::Db;
use app::service::auth::hash_api_key;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Senders tracked at once; idle ones are forgotten past it.
const MAX_TRACKED: usize = 10_000;
/// How long an API request waits for its share of the database pool before the answer is 503.
const DB_SHARE_WAIT: Duration = Duration::from_secs(2);

/// The shares of every sender, and the server-wide ones.
pub struct Admission {
    pub limits: Limits,
    senders: Mutex<HashMap<String, Sender>>,
    /// Database connections API and ingestion requests may hold at once.
    db_share: Arc<Semaphore>,
    /// Sign-ins in progress.
    sign_ins: Arc<Semaphore>,
    /// Ingestion bodies in memory, in KiB.
    pub intake: crate::intake::Budget,
}

/// One sender's requests in progress and its token bucket.
struct Sender {
    in_flight: usize,
    tokens: f64,
    refilled: Instant,
    share: Share,
}

impl Sender {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.share.rate).min(self.share.burst);
        self.refilled = now;
    }

    fn forgettable(&self) -> bool {
        self.in_flight == 0 && self.tokens >= self.share.burst
    }
}

/// A request counted in its sender's share until dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    sender: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut senders = self
            .admission
            .senders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = senders.get_mut(&self.sender) {
            sender.in_flight = sender.in_flight.saturating_sub(1);
        }
    }
}

impl Admission {
    /// The shares for a pool of `pool_connections` database connections.
    pub fn new(limits: Limits, pool_connections: usize) -> Admission {
        let db_share = pool_connections
            .saturating_sub(limits.reserved_connections)
            .max(1);
        Admission {
            senders: Mutex::default(),
            db_share: Arc::new(Semaphore::new(db_share)),
            sign_ins: Arc::new(Semaphore::new(limits.sign_ins)),
            intake: crate::intake::Budget::new(limits.intake_memory),
            limits,
        }
    }

    /// The shares for `db`'s pool.
    pub fn for_db(limits: Limits, db: &Db) -> Admission {
        let connections = match db {
            Db::Sqlite(pool, _) => pool.options().get_max_connections(),
            Db::Postgres(pool) => pool.options().get_max_connections(),
        };
        Admission::new(limits, connections as usize)
    }

    /// Counts one request against `sender`'s share, or says why not.
    pub fn take(self: &Arc<Self>, sender: String, share: Share) -> Result<Ticket, Refused> {
        let now = Instant::now();
        let mut senders = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
        if senders.len() >= MAX_TRACKED && !senders.contains_key(&sender) {
            senders.retain(|_, s| {
                s.refill(now);
                !s.forgettable()
            });
            if senders.len() >= MAX_TRACKED {
                return Err(Refused::Busy);
            }
        }
        let entry = senders.entry(sender.clone()).or_insert(Sender {
            in_flight: 0,
            tokens: share.burst,
            refilled: now,
            share,
        });
        entry.refill(now);
        if entry.in_flight >= share.concurrency {
            return Err(Refused::TooManyAtOnce);
        }
        if entry.tokens < 1.0 {
            let wait = ((1.0 - entry.tokens) / share.rate).ceil().max(1.0);
            return Err(Refused::TooFast(wait as u64));
        }
        entry.tokens -= 1.0;
        entry.in_flight += 1;
        Ok(Ticket {
            admission: self.clone(),
            sender,
        })
    }

    async fn db_share(&self) -> Result<OwnedSemaphorePermit, Refused> {
        tokio::time::timeout(DB_SHARE_WAIT, self.db_share.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(Refused::Busy)
    }
}

/// Which share a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// The health check and static files: never refused here.
    Free,
    /// The API and the OTLP receiver: the key's share and the API's part of the pool.
    Machine,
    /// Checking a password: the address's sign-in share and the server's.
    SignIn,
    /// Pages and server functions: the address's share.
    Browser,
}

fn class_of(method: &Method, path: &str) -> Class {
    if path == "/healthz"
        || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
        || path == "/favicon.svg"
    {
        Class::Free
    } else if path.starts_with("/api/") || path.starts_with("/v1/") {
        Class::Machine
    } else if method == Method::POST && (path == "/rpc/sign_in" || path == "/rpc/change_password") {
        Class::SignIn
    } else {
        Class::Browser
    }
}

/// The bearer secret of a request, if it sends one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    text.strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
}

/// The middleware: admits a request or answers 429/503 with `Retry-After`.
pub async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let admission = state.admission.clone();
    let limits = &admission.limits;
    let path = request.uri().path().to_owned();
    let class = class_of(request.method(), &path);
    if class == Class::Free {
        return next.run(request).await;
    }
    let address = crate::web::client_address(&request, state.web.trust_proxy);
    let admitted = match class {
        Class::Machine => {
            let (sender, share) = match bearer(request.headers()) {
                Some(secret) => (format!("key:{}", hash_api_key(secret)), limits.per_key),
                None => (format!("address:{address}"), limits.per_address),
            };
            match admission.take(sender, share) {
                Ok(ticket) => match admission.db_share().await {
                    Ok(permit) => Ok((ticket, Some(permit))),
                    Err(refused) => Err(refused),
                },
                Err(refused) => Err(refused),
            }
        }
        Class::SignIn => {
            let share = Share {
                concurrency: limits.sign_in_per_address,
                ..limits.per_address
            };
            match admission.take(format!("sign-in:{address}"), share) {
                Ok(ticket) => match admission.sign_ins.clone().try_acquire_owned() {
                    Ok(permit) => Ok((ticket, Some(permit))),
                    Err(_) => Err(Refused::Busy),
                },
                Err(refused) => Err(refused),
            }
        }
        Class::Browser | Class::Free => admission
            .take(format!("address:{address}"), limits.per_address)
            .map(|ticket| (ticket, None)),
    };
    match admitted {
        Ok(held) => {
            let response = next.run(request).await;
            drop(held);
            response
        }
        Err(refused) => refusal(class, &path, request.headers(), &refused),
    }
}

/// The answer to a refused request, in the form its route answers in.
fn refusal(class: Class, path: &str, headers: &HeaderMap, refused: &Refused) -> Response {
    if path.starts_with("/v1/") {
        return crate::otlp::refused(headers, refused);
    }
    if class == Class::Machine {
        return match refused {
            Refused::Busy => ApiError::Busy.into_response(),
            _ => ApiError::TooManyRequests {
                message: refused.message(),
                retry_after: refused.retry_after(),
            }
            .into_response(),
        };
    }
    let mut response = (refused.status(), refused.message()).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(refused.retry_after()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(concurrency: usize, rate: f64, burst: f64) -> (Arc<Admission>, Share) {
        let share = Share {
            concurrency,
            rate,
            burst,
        };
        (Arc::new(Admission::new(Limits::default(), 8)), share)
    }

    #[test]
    fn a_sender_over_its_concurrency_is_refused_until_a_request_ends() {
        let (admission, share) = admission(2, 1000.0, 1000.0);
        let first = admission.take("key:a".into(), share).unwrap();
        let _second = admission.take("key:a".into(), share).unwrap();
        assert_eq!(
            admission.take("key:a".into(), share).err(),
            Some(Refused::TooManyAtOnce)
        );
        assert!(admission.take("key:b".into(), share).is_ok(), "another key");
        drop(first);
        assert!(admission.take("key:a".into(), share).is_ok());
    }

    #[test]
    fn a_sender_over_its_rate_is_told_when_to_come_back() {
        let (admission, share) = admission(100, 0.5, 2.0);
        for _ in 0..2 {
            drop(admission.take("address:x".into(), share).unwrap());
        }
        assert_eq!(
            admission.take("address:x".into(), share).err(),
            Some(Refused::TooFast(2))
        );
    }

    #[test]
    fn the_health_check_and_files_are_never_counted() {
        assert_eq!(class_of(&Method::GET, "/healthz"), Class::Free);
        assert_eq!(class_of(&Method::GET, "/pkg/finishline.js"), Class::Free);
        assert_eq!(class_of(&Method::POST, "/v1/traces"), Class::Machine);
        assert_eq!(class_of(&Method::POST, "/rpc/sign_in"), Class::SignIn);
        assert_eq!(class_of(&Method::GET, "/overview"), Class::Browser);
    }

    #[test]
    fn the_api_keeps_back_the_reserved_connections() {
        let limits = Limits {
            reserved_connections: 3,
            ..Limits::default()
        };
        assert_eq!(
            Admission::new(limits.clone(), 8)
                .db_share
                .available_permits(),
            5
        );
        assert_eq!(Admission::new(limits, 2).db_share.available_permits(), 1);
    }
}
