//! Signing in and out, and one's own password. Sign-in, sign-out and the password change are
//! posted by plain HTML forms (they work before the page is interactive) and answer with a
//! redirect; called from code they answer with a status and a message instead.

use crate::error::AppError;
use crate::views::access::Viewer;
#[cfg(feature = "ssr")]
use crate::views::account::Problem;
use crate::views::account::StaleNotice;
#[cfg(feature = "ssr")]
use crate::views::format::encode_query_value;
use leptos::prelude::*;

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "get_viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(crate::api::context::signed_in().map(|signed_in| signed_in.viewer))
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
    use crate::service::access::local_path;
    use crate::service::accounts::SignInError;

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
            &back(Problem::Incorrect),
            AppError::unauthorized(Problem::Incorrect.message()),
        )),
        Err(SignInError::Throttled { retry_after_ms }) => {
            let seconds = (retry_after_ms + 999) / 1000;
            let minutes = (seconds + 59) / 60;
            let message = format!(
                "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            Err(send_back(
                &back(Problem::Throttled),
                AppError::RateLimited {
                    message,
                    retry_after: u64::try_from(seconds).unwrap_or(u64::MAX),
                },
            ))
        }
        Err(SignInError::Storage(err)) => Err(err.into()),
    }
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

    let viewer = viewer()?;
    let back = |problem: Problem| format!("/account?problem={}", problem.code());
    if new_password != confirm_password {
        return Err(send_back(
            &back(Problem::Mismatch),
            AppError::invalid_labelled(
                "confirm_password",
                "New password, again",
                Problem::Mismatch.message(),
            ),
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
        Err(AppError::InvalidParameter { field, reason, .. }) => {
            let problem = match (field.as_str(), reason.as_str()) {
                ("current_password", _) => Problem::Current,
                (_, "must differ from the current password") => Problem::Same,
                _ => Problem::Policy,
            };
            Err(send_back(
                &back(problem),
                AppError::invalid(&field, problem.message()),
            ))
        }
        Err(err) => Err(err),
    }
}

/// A refused form: a plain form post goes back to `page` (which names the problem in its
/// query); a call from code gets the error, with its status.
#[cfg(feature = "ssr")]
fn send_back(page: &str, error: AppError) -> AppError {
    if crate::api::context::from_html_form() {
        leptos_axum::redirect(page);
    }
    error
}
