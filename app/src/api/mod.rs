//! Server functions, grouped by feature. Each is thin: who is asking and may they, then db and
//! domain, then result.

pub mod account;
pub mod audit;
pub mod costs;
pub mod gate;
pub mod keys;
pub mod models;
pub mod overview;
pub mod review;
pub mod tasks;
pub mod users;
pub mod workflows;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::db::{Db, DbError};
    use crate::service::accounts::{AccountError, ClientAddress, SessionSettings, SignedIn};
    use crate::views::access::Viewer;
    use http::StatusCode;
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    /// The database pool the server put in the request context.
    pub fn db() -> Result<Db, ServerFnError> {
        use_context::<Db>()
            .ok_or_else(|| ServerFnError::new("The server is not configured with a database."))
    }

    pub fn session_settings() -> SessionSettings {
        use_context::<SessionSettings>().unwrap_or_default()
    }

    /// The signed-in session the server found for this request, if any.
    pub fn signed_in() -> Option<SignedIn> {
        use_context::<Parts>()?
            .extensions
            .get::<SignedIn>()
            .cloned()
    }

    pub fn client_address() -> String {
        use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddress>().cloned())
            .map(|address| address.0)
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// Whether the request is a plain form post from a page (rather than a call from code):
    /// such requests are answered with a redirect back to a page.
    pub fn from_html_form() -> bool {
        use_context::<Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::ACCEPT)?
                    .to_str()
                    .ok()
                    .map(|accept| accept.contains("text/html"))
            })
            .unwrap_or(false)
    }

    /// The signed-in viewer, or a 401.
    pub fn viewer() -> Result<Viewer, ServerFnError> {
        signed_in()
            .map(|signed_in| signed_in.viewer)
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "Sign in to continue."))
    }

    /// The signed-in viewer if their role allows `allowed`, or a 401/403 that says what the
    /// role does not include.
    pub fn viewer_who(
        allowed: impl Fn(&Viewer) -> bool,
        what: &str,
    ) -> Result<Viewer, ServerFnError> {
        let viewer = viewer()?;
        if viewer.must_change_password {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "Choose a new password on the Account page first.",
            ));
        }
        if !allowed(&viewer) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                &format!(
                    "Your role ({}) does not include {what}.",
                    viewer.role.as_str()
                ),
            ));
        }
        Ok(viewer)
    }

    /// The period a finance page asked for (see [`crate::report::Window::chosen`]), or a 422
    /// naming the field.
    pub fn chosen_window(
        days: i64,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<crate::report::Window, ServerFnError> {
        crate::report::Window::chosen(
            days,
            from.as_deref().unwrap_or_default(),
            to.as_deref().unwrap_or_default(),
            crate::domain::time::day_of(crate::db::now_ms()),
        )
        .map_err(|problem| refuse(StatusCode::UNPROCESSABLE_ENTITY, &problem))
    }

    /// Sets the response status and returns the message as the error.
    pub fn refuse(status: StatusCode, message: &str) -> ServerFnError {
        set_status(status);
        ServerFnError::new(message)
    }

    pub fn set_status(status: StatusCode) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
        }
    }

    pub fn set_header(name: http::HeaderName, value: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<ResponseOptions>(),
            http::HeaderValue::from_str(value),
        ) {
            response.append_header(name, value);
        }
    }

    /// Logs a storage failure and returns a sentence fit for the browser: never the database's text.
    pub fn storage_failure(err: DbError) -> ServerFnError {
        match err {
            DbError::Unavailable(_) | DbError::ReadOnly(_) => {
                tracing::warn!(error = %err, "storage unavailable");
                refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable right now; the figures may be stale. Try again shortly.",
                )
            }
            DbError::Overflow => {
                tracing::error!(error = %err, "figures cannot be counted");
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "These figures cannot be computed: the stored costs behind them add up to more than can be counted (about $9.2 trillion). Nothing was changed; the server log says which data.",
                )
            }
            other => {
                tracing::error!(error = ?other, "storage error");
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server; nothing was changed. Try again, and if it persists the server log says why.",
                )
            }
        }
    }

    /// A refused account change as a 4xx naming the field, or a storage failure.
    pub fn account_failure(err: AccountError) -> ServerFnError {
        match err {
            AccountError::Invalid { .. } => {
                refuse(StatusCode::UNPROCESSABLE_ENTITY, &err.to_string())
            }
            AccountError::NotFound(_) => refuse(StatusCode::NOT_FOUND, &format!("{err}.")),
            AccountError::Storage(err) => storage_failure(err),
        }
    }
}
