//! Signing in and out, and one's own password. Sign-in, sign-out and the password change are
//! posted by plain HTML forms (they work before the page is interactive) and answer with a
//! redirect; called from code they answer with a status and a message instead.

use crate::views::access::Viewer;
#[cfg(feature = "ssr")]
use crate::views::account::Problem;
use crate::views::account::StaleNotice;
#[cfg(feature = "ssr")]
use crate::views::format::encode_query_value;
use leptos::prelude::*;

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "get_viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, ServerFnError> {
    Ok(crate::api::context::signed_in().map(|signed_in| signed_in.viewer))
}

/// For signed-in people, whether ingested data is being refused, and since when.
#[server(prefix = "/rpc", endpoint = "get_stale_notice")]
pub async fn get_stale_notice() -> Result<Option<StaleNotice>, ServerFnError> {
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
) -> Result<(), ServerFnError> {
    use crate::api::context::*;
    use crate::service::access::local_path;
    use crate::service::accounts::SignInError;
    use http::StatusCode;

    let (db, settings) = (db()?, session_settings());
    let outcome = crate::service::accounts::sign_in(
        &db,
        &email,
        password,
        &client_address(),
        &settings,
        crate::db::now_ms(),
    )
    .await;
    let next = next.as_deref().and_then(local_path);
    let back = |problem: Problem| {
        let mut url = format!("/sign-in?problem={}", problem.code());
        if let Some(next) = &next {
            url.push_str("&next=");
            url.push_str(&encode_query_value(next));
        }
        url
    };
    match outcome {
        Ok(started) => {
            set_header(
                http::header::SET_COOKIE,
                &settings.session_cookie(&started.secret),
            );
            let to = match next.as_deref() {
                _ if started.viewer.must_change_password => "/account",
                Some(next) if !next.starts_with("/sign-in") => next,
                _ => started.viewer.landing(),
            };
            leptos_axum::redirect(to);
            Ok(())
        }
        Err(SignInError::Incorrect) => Err(send_back(
            StatusCode::UNAUTHORIZED,
            &back(Problem::Incorrect),
            Problem::Incorrect.message(),
        )),
        Err(SignInError::Throttled { retry_after_ms }) => {
            let seconds = (retry_after_ms + 999) / 1000;
            set_header(http::header::RETRY_AFTER, &seconds.to_string());
            let minutes = (seconds + 59) / 60;
            let message = format!(
                "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            Err(send_back(
                StatusCode::TOO_MANY_REQUESTS,
                &back(Problem::Throttled),
                &message,
            ))
        }
        Err(SignInError::Storage(err)) => Err(storage_failure(err)),
    }
}

/// Ends this browser's session.
#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use crate::api::context::*;

    let settings = session_settings();
    if let Some(signed_in) = signed_in() {
        crate::service::accounts::sign_out(&db()?, &signed_in.session_hash, crate::db::now_ms())
            .await
            .map_err(storage_failure)?;
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
) -> Result<(), ServerFnError> {
    use crate::api::context::*;
    use crate::service::accounts::AccountError;
    use http::StatusCode;

    let viewer = viewer()?;
    let back = |problem: Problem| format!("/account?problem={}", problem.code());
    if new_password != confirm_password {
        return Err(send_back(
            StatusCode::UNPROCESSABLE_ENTITY,
            &back(Problem::Mismatch),
            Problem::Mismatch.message(),
        ));
    }
    let settings = session_settings();
    let changed = crate::service::accounts::change_password(
        &db()?,
        &viewer,
        current_password,
        new_password,
        &settings,
        crate::db::now_ms(),
    )
    .await;
    match changed {
        Ok(secret) => {
            set_header(http::header::SET_COOKIE, &settings.session_cookie(&secret));
            leptos_axum::redirect("/account?changed=1");
            Ok(())
        }
        Err(AccountError::Invalid { field, reason }) => {
            let problem = match (field, reason.as_str()) {
                ("current_password", _) => Problem::Current,
                (_, "must differ from the current password") => Problem::Same,
                _ => Problem::Policy,
            };
            Err(send_back(
                StatusCode::UNPROCESSABLE_ENTITY,
                &back(problem),
                problem.message(),
            ))
        }
        Err(err) => Err(account_failure(err)),
    }
}

/// A refused form: a plain form post goes back to `page` (which names the problem in its
/// query); a call from code gets `status` and the message.
#[cfg(feature = "ssr")]
fn send_back(status: http::StatusCode, page: &str, message: &str) -> ServerFnError {
    use crate::api::context::{from_html_form, set_status};
    if from_html_form() {
        leptos_axum::redirect(page);
    } else {
        set_status(status);
    }
    ServerFnError::new(message)
}
