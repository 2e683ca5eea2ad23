//! Signing in and out, and one's own password. Sign-in, sign-out and the password change are
//! posted by plain HTML forms (they work before the page is interactive) and answer with a
//! redirect; called from code they answer with a status and a message instead.

use crate::error::AppError;
use crate::views::access::Viewer;
use crate::views::account::StaleNotice;
use leptos::prelude::*;

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "get_viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(crate::api::context::signed_in().map(|signed_in| signed_in.viewer))
}

/// The header's view of the signed-in person, with their open alerts counted; `None` when
/// nobody is signed in.
#[server(prefix = "/rpc", endpoint = "get_header")]
pub async fn get_header() -> Result<Option<crate::views::access::HeaderView>, AppError> {
    use crate::api::context::*;

    let Some(signed_in) = signed_in() else {
        return Ok(None);
    };
    let open_alerts = crate::service::alerts::open_count(&db()?, &signed_in.viewer).await?;
    Ok(Some(crate::views::access::HeaderView {
        viewer: signed_in.viewer,
        open_alerts,
    }))
}

/// For signed-in people, whether ingested data is being refused, and since when.
#[server(prefix = "/rpc", endpoint = "get_stale_notice")]
pub async fn get_stale_notice() -> Result<Option<StaleNotice>, AppError> {
    use crate::db::health::WriteHealth;
    use crate::domain::time::format_instant;

    if crate::api::context::signed_in().is_none() {
        return Ok(None);
    }
    let refused = use_context::<WriteHealth>().and_then(|health| health.refused());
    Ok(refused.map(|refused| StaleNotice {
        since: format_instant(refused.since_ms),
        reason: refused.reason,
    }))
}

/// Checks the email and password and starts a session (an `HttpOnly` cookie), then sends the
/// browser to `next` or the role's first page.
#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::api::context::*;

    let (db, settings) = (db()?, session_settings());
    let form = (email.as_str(), password, next.as_deref());
    let now = crate::db::now_ms();
    let answer =
        crate::service::accounts::sign_in_form(&db, form, &client_address(), &settings, now).await;
    land(answer)
}

/// Ends this browser's session.
#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::api::context::*;

    let settings = session_settings();
    if let Some(signed_in) = signed_in() {
        crate::service::accounts::sign_out(&db()?, &signed_in.session_hash, crate::db::now_ms())
            .await?;
    }
    set_header(http::header::SET_COOKIE, &settings.cleared_cookie());
    leptos_axum::redirect("/sign-in?signed_out=1");
    Ok(())
}

/// Replaces the viewer's password; every other session of the account ends.
#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::api::context::*;

    let (viewer, db, settings) = (viewer()?, db()?, session_settings());
    let form = (current_password, new_password, confirm_password);
    let now = crate::db::now_ms();
    let answer =
        crate::service::accounts::change_password_form(&db, &viewer, form, &settings, now).await;
    land(answer)
}

/// Sets the new session's cookie and sends the browser on; a refused form goes back to the page
/// that names the problem when it was a plain form post, and a call from code gets the error,
/// with its status.
#[cfg(feature = "ssr")]
fn land(
    answer: Result<crate::service::accounts::Landing, crate::service::accounts::FormRefusal>,
) -> Result<(), AppError> {
    match answer {
        Ok(landing) => {
            crate::api::context::set_header(http::header::SET_COOKIE, &landing.cookie);
            leptos_axum::redirect(&landing.to);
            Ok(())
        }
        Err(refusal) => {
            if let Some(page) = refusal
                .back_to
                .filter(|_| crate::api::context::from_html_form())
            {
                leptos_axum::redirect(&page);
            }
            Err(refusal.error)
        }
    }
}
