//! Server functions, grouped by feature. Each is thin: context, then db and domain, then result.

pub mod overview;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::db::{Db, DbError};
    use leptos::prelude::*;

    /// The database pool the server put in the request context.
    pub fn db() -> Result<Db, ServerFnError> {
        use_context::<Db>()
            .ok_or_else(|| ServerFnError::new("The server is not configured with a database."))
    }

    /// Logs a storage failure and returns a sentence fit for the browser: never the database's text.
    pub fn storage_failure(err: DbError) -> ServerFnError {
        match err {
            DbError::Unavailable(_) | DbError::ReadOnly(_) => {
                tracing::warn!(error = %err, "storage unavailable");
                ServerFnError::new(
                    "The database is unavailable right now; the figures may be stale. Try again shortly.",
                )
            }
            other => {
                tracing::error!(error = ?other, "storage error");
                ServerFnError::new("Something went wrong while loading the figures.")
            }
        }
    }
}
