//! Whether the database is taking ingested data. Every batch the API and the OTLP receiver
//! write records its outcome here; pages read it to say when their figures may be stale.

use super::DbError;
use std::sync::{Arc, Mutex};

/// Since when, and why, the database has refused ingested data; nothing while it takes it.
#[derive(Clone, Debug, Default)]
pub struct WriteHealth(Arc<Mutex<Option<Refused>>>);

/// The first refusal of a run of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub since_ms: i64,
    pub reason: String,
}

impl WriteHealth {
    /// Records the outcome of one write at `now_ms`. A read-only or full database, or one that
    /// cannot be reached, starts (or continues) a refusal; a write that succeeds ends it. Other
    /// errors say nothing about the database taking data.
    pub fn record<T>(&self, written: &Result<T, DbError>, now_ms: i64) {
        let mut refused = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match written {
            Ok(_) => *refused = None,
            Err(err @ (DbError::ReadOnly(_) | DbError::Unavailable(_))) => {
                refused.get_or_insert_with(|| Refused {
                    since_ms: now_ms,
                    reason: err.to_string(),
                });
            }
            Err(_) => {}
        }
    }

    pub fn refused(&self) -> Option<Refused> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_only() -> Result<(), DbError> {
        Err(DbError::ReadOnly(sqlx::Error::Protocol(
            "attempt to write a readonly database".into(),
        )))
    }

    #[test]
    fn a_refusal_lasts_from_the_first_refused_write_until_one_succeeds() {
        let health = WriteHealth::default();
        assert_eq!(health.refused(), None);
        health.record(&read_only(), 1_000);
        health.record(&read_only(), 2_000);
        let refused = health.refused().expect("refused");
        assert_eq!(refused.since_ms, 1_000, "the first refusal of the run");
        assert!(
            refused.reason.contains("read-only or the disk is full"),
            "{refused:?}"
        );
        health.record(&Err::<(), _>(DbError::NotFound), 3_000);
        assert_eq!(
            health.refused().map(|r| r.since_ms),
            Some(1_000),
            "other errors say nothing"
        );
        health.record(&Ok(()), 4_000);
        assert_eq!(health.refused(), None);
    }
}
