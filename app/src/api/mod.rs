//! Server functions, grouped by feature. Each is thin: who is asking and may they, then db and
//! domain, then result.

pub mod account;
pub mod alerts;
pub mod audit;
pub mod costs;
pub mod gate;
pub mod keys;
pub mod models;
pub mod overview;
pub mod reconcile;
pub mod review;
pub mod setup;
pub mod tasks;
pub mod users;
pub mod whatif;
pub mod workflows;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::db::Db;
    use crate::error::AppError;
    use crate::service::accounts::{ClientAddress, SessionSettings, SignedIn};
    use crate::views::access::Viewer;
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    /// The database pool the server put in the request context.
    pub fn db() -> Result<Db, AppError> {
        use_context::<Db>().ok_or_else(|| AppError::Storage {
            message: "The server is not configured with a database.".to_owned(),
        })
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

    /// This server's address as the reader reached it: the `Host` they sent, over HTTPS when
    /// sessions are marked secure. Shown in snippets only (as text), never trusted for access.
    pub fn site_origin() -> String {
        let scheme = if session_settings().secure_cookies {
            "https"
        } else {
            "http"
        };
        let host = use_context::<Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::HOST)?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        format!("{scheme}://{host}")
    }

    /// The address notifications link to: the one the server was configured with, else the
    /// one this request reached it by.
    pub fn public_url() -> String {
        use_context::<crate::service::alerts::PublicUrl>()
            .map(|url| url.0)
            .filter(|url| !url.is_empty())
            .unwrap_or_else(site_origin)
    }

    /// Where alert webhooks may go, as the server was started.
    pub fn webhook_policy() -> crate::service::alerts::WebhookPolicy {
        use_context::<crate::service::alerts::WebhookPolicy>().unwrap_or_default()
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
    pub fn viewer() -> Result<Viewer, AppError> {
        signed_in()
            .map(|signed_in| signed_in.viewer)
            .ok_or_else(|| AppError::unauthorized("Sign in to continue."))
    }

    /// The signed-in viewer if their role allows `allowed`, or a 401/403 that says what the
    /// role does not include.
    pub fn viewer_who(allowed: impl Fn(&Viewer) -> bool, what: &str) -> Result<Viewer, AppError> {
        let viewer = viewer()?;
        if viewer.must_change_password {
            return Err(AppError::forbidden(
                "Choose a new password on the Account page first.",
            ));
        }
        if !allowed(&viewer) {
            return Err(AppError::forbidden(format!(
                "Your role ({}) does not include {what}.",
                viewer.role.as_str()
            )));
        }
        Ok(viewer)
    }

    /// The period a finance page asked for (see [`crate::report::Window::chosen`]), or a 422
    /// naming the field.
    pub fn chosen_window(
        days: i64,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<crate::report::Window, AppError> {
        crate::report::Window::chosen(
            days,
            from.as_deref().unwrap_or_default(),
            to.as_deref().unwrap_or_default(),
            crate::domain::time::day_of(crate::db::now_ms()),
        )
        .map_err(AppError::from_field_problem)
    }

    pub fn set_header(name: http::HeaderName, value: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<ResponseOptions>(),
            http::HeaderValue::from_str(value),
        ) {
            response.append_header(name, value);
        }
    }
}
