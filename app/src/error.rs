//! The one error every server function returns, [`AppError`], and the stable codes
//! ([`ErrorCode`]) it shares with the read API. Compiled for both targets: the server encodes
//! it, the page decodes it and shows its sentence.
//!
//! The HTTP status of a failed call is decided here, in [`AppError::status`], and applied in
//! one place per way an error leaves the server: a server function's answer (its encoding,
//! below) and a page rendered with it ([`crate::components::forms::error_text`]).

use leptos::server_fn;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// The machine-readable code of a refusal, shared by server functions and the read API so a
/// client learns one vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidParameter,
    MalformedJson,
    MissingApiKey,
    InvalidApiKey,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    UnsupportedMediaType,
    TooLarge,
    TimedOut,
    RateLimited,
    Busy,
    Unavailable,
    ReadOnly,
    Uncountable,
    InternalError,
}

impl ErrorCode {
    /// The code as it appears in answers: `snake_case`, never renamed once published.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MissingApiKey => "missing_api_key",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TimedOut => "timed_out",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Busy => "busy",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::Uncountable => "uncountable",
            ErrorCode::InternalError => "internal_error",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a server function refused or failed. Every variant carries a sentence fit to show the
/// person who asked; none carries database or internal text (that is logged when a storage
/// error is converted, see `From<DbError>`).
///
/// On the wire it is a JSON object whose `code` is an [`ErrorCode`], e.g.
/// `{"code":"invalid_parameter","field":"slug","label":"Short name","reason":"must be …"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// A field the person filled in is not acceptable. `field` is the form's name for it,
    /// `label` the words the page shows, `reason` plain words on what is acceptable.
    #[error("{label}: {reason}")]
    InvalidParameter {
        field: String,
        label: String,
        reason: String,
    },
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("{message}")]
    Forbidden { message: String },
    /// The change contradicts what is stored (someone else got there first, or a name is taken).
    #[error("{message}")]
    Conflict { message: String },
    /// Too many attempts from this person or address; retry after `retry_after` seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// The server or its database cannot answer right now; the same request may succeed if
    /// retried after `retry_after` seconds.
    #[error("{message}")]
    Unavailable { message: String, retry_after: u64 },
    /// Storage failed in a way retrying will not fix. The sentence never echoes the database.
    #[error("{message}")]
    #[serde(rename = "internal_error")]
    Storage { message: String },
}

/// What a page says when the server could not be reached or its answer could not be read.
const UNREACHABLE: &str =
    "The request did not reach the server. Check your connection and try again.";
const STORAGE_SENTENCE: &str = "Something went wrong on the server; nothing was changed. Try again, and if it persists the server log says why.";

impl AppError {
    /// A refused field: the label shown is the field's name in plain words (`edit_severity`
    /// becomes "Severity").
    pub fn invalid(field: &str, reason: impl Into<String>) -> AppError {
        AppError::invalid_labelled(field, &label_of(field), reason)
    }

    /// A refused field with the label the page shows for it.
    pub fn invalid_labelled(field: &str, label: &str, reason: impl Into<String>) -> AppError {
        AppError::InvalidParameter {
            field: field.to_owned(),
            label: label.to_owned(),
            reason: reason.into(),
        }
    }

    /// A refusal written as `"field: reason"` (as the period parser and the rule checker word
    /// theirs) as an invalid parameter naming that field; text without a field prefix names
    /// `input`.
    pub fn from_field_problem(problem: impl Into<String>) -> AppError {
        let problem = problem.into();
        let is_field = |name: &str| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        match problem.split_once(": ") {
            Some((field, reason)) if is_field(field) => AppError::invalid(field, reason),
            _ => AppError::invalid("input", problem),
        }
    }

    /// "No such {what}."
    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound {
            message: format!("No such {what}."),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::Unauthorized {
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::Forbidden {
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::Conflict {
            message: message.into(),
        }
    }

    /// The server is busy with other work: retry in a second.
    pub fn busy(message: impl Into<String>) -> AppError {
        AppError::Unavailable {
            message: message.into(),
            retry_after: 1,
        }
    }

    /// The stable code of this error, as the read API would use it.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::InvalidParameter { .. } => ErrorCode::InvalidParameter,
            AppError::NotFound { .. } => ErrorCode::NotFound,
            AppError::Unauthorized { .. } => ErrorCode::Unauthorized,
            AppError::Forbidden { .. } => ErrorCode::Forbidden,
            AppError::Conflict { .. } => ErrorCode::Conflict,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Unavailable { .. } => ErrorCode::Unavailable,
            AppError::Storage { .. } => ErrorCode::InternalError,
        }
    }

    /// The field at fault, for an invalid parameter.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::InvalidParameter { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status a call failing with this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::InvalidParameter { field, .. } if field == ARGUMENTS => 400,
            AppError::InvalidParameter { .. } => 422,
            AppError::NotFound { .. } => 404,
            AppError::Unauthorized { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::Conflict { .. } => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Unavailable { .. } => 503,
            AppError::Storage { .. } => 500,
        }
    }
}

/// The field named when a call's arguments could not be read at all (a 400: the caller's
/// mistake, before the function ran).
const ARGUMENTS: &str = "arguments";

/// A form field's name in plain words: `edit_severity` → "Severity", `from_day` → "From day".
pub fn label_of(field: &str) -> String {
    let bare = ["edit_", "new_"]
        .iter()
        .find_map(|prefix| field.strip_prefix(prefix))
        .unwrap_or(field);
    let words = bare.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "This field".to_owned(),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The caller sent arguments the function cannot read: refused before it ran.
            ServerFnErrorErr::Args(reason) => AppError::invalid_labelled(
                ARGUMENTS,
                "The request",
                format!("its arguments could not be read ({reason})"),
            ),
            ServerFnErrorErr::MissingArg(name) => AppError::invalid_labelled(
                ARGUMENTS,
                "The request",
                format!("is missing the argument '{name}'"),
            ),
            // On the server this is an argument that did not decode; in the browser, an answer
            // that did not (the server answers JSON, so a proxy or an outage is speaking).
            ServerFnErrorErr::Deserialization(reason) => {
                if cfg!(feature = "ssr") {
                    AppError::invalid_labelled(
                        ARGUMENTS,
                        "The request",
                        format!("its arguments could not be read ({reason})"),
                    )
                } else {
                    AppError::busy(UNREACHABLE)
                }
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                AppError::busy(UNREACHABLE)
            }
            ServerFnErrorErr::Registration(_) | ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                AppError::not_found("server function")
            }
            ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Serialization(_) => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = ?value, "server function failed");
                AppError::Storage {
                    message: STORAGE_SENTENCE.to_owned(),
                }
            }
        }
    }

    /// Encodes the answer and, on the server, sets its status: the one place a server
    /// function's failure gets its HTTP status.
    fn ser(&self) -> server_fn::Bytes {
        #[cfg(feature = "ssr")]
        answer_with(self);
        <JsonEncoding as server_fn::Encodes<AppError>>::encode(self).unwrap_or_else(|_| {
            server_fn::Bytes::from_static(
                br#"{"code":"internal_error","message":"The answer could not be encoded."}"#,
            )
        })
    }
}

/// Sets the status (and `Retry-After`) of the response being built for this request, if there
/// is one: a server function's answer or a page rendered with this error.
#[cfg(feature = "ssr")]
pub fn answer_with(error: &AppError) {
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;
    let Some(response) = use_context::<ResponseOptions>() else {
        return;
    };
    // A refused plain form post that was sent back to its page keeps its redirect.
    let redirected = response
        .0
        .read()
        .ok()
        .and_then(|parts| parts.status)
        .is_some_and(|status| status.is_redirection());
    if redirected {
        return;
    }
    if let Ok(status) = http::StatusCode::from_u16(error.status()) {
        response.set_status(status);
    }
    if let AppError::Unavailable { retry_after, .. } | AppError::RateLimited { retry_after, .. } =
        error
    {
        response.insert_header(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(*retry_after),
        );
    }
}

#[cfg(feature = "ssr")]
impl From<crate::db::DbError> for AppError {
    /// Logs the database's own words and keeps only a sentence fit for the browser.
    fn from(err: crate::db::DbError) -> AppError {
        use crate::db::DbError;
        match err {
            DbError::Unavailable(_) | DbError::ReadOnly(_) => {
                tracing::warn!(error = %err, source = ?err, "storage unavailable");
                let message = match err {
                    DbError::ReadOnly(_) => {
                        "The database refused the write: it is read-only or the disk is full. Nothing was changed; try again shortly."
                    }
                    _ => {
                        "The database is unavailable right now; the figures may be stale. Try again shortly."
                    }
                };
                AppError::Unavailable {
                    message: message.to_owned(),
                    retry_after: 5,
                }
            }
            DbError::Overflow => {
                tracing::error!(error = %err, "figures cannot be counted");
                AppError::Storage {
                    message: "These figures cannot be computed: the stored costs behind them add up to more than can be counted (about $9.2 trillion). Nothing was changed; the server log says which data.".to_owned(),
                }
            }
            DbError::NotFound => AppError::not_found("record"),
            DbError::Pruned(day) => AppError::invalid(
                "from",
                format!(
                    "the calls of every day up to {} were removed under the retention setting, so their costs can no longer be repriced: choose a later day",
                    crate::domain::time::format_day(day)
                ),
            ),
            other => {
                tracing::error!(error = ?other, "storage error");
                AppError::Storage {
                    message: STORAGE_SENTENCE.to_owned(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<AppError> {
        vec![
            AppError::invalid("edit_severity", "must be from 1 to 5"),
            AppError::not_found("workflow"),
            AppError::unauthorized("Sign in to continue."),
            AppError::forbidden("Your role (viewer) does not include editing costs."),
            AppError::conflict("Another reviewer has just graded this task."),
            AppError::RateLimited {
                message: "Too many failed sign-ins.".to_owned(),
                retry_after: 60,
            },
            AppError::busy("The server is busy; try again shortly."),
            AppError::Storage {
                message: STORAGE_SENTENCE.to_owned(),
            },
        ]
    }

    #[test]
    fn each_kind_of_refusal_answers_its_own_status() {
        let statuses: Vec<u16> = every_kind().iter().map(AppError::status).collect();
        assert_eq!(statuses, [422, 404, 401, 403, 409, 429, 503, 500]);
    }

    #[test]
    fn the_code_on_the_wire_is_the_stable_code_the_read_api_uses() {
        for error in every_kind() {
            let wire = serde_json::to_value(&error).expect("encodes");
            assert_eq!(wire["code"], error.code().as_str(), "{error:?}");
            let back: AppError = serde_json::from_value(wire).expect("decodes");
            assert_eq!(back, error);
        }
    }

    #[test]
    fn an_invalid_field_is_named_by_its_label_in_the_sentence() {
        let error = AppError::invalid("edit_severity", "must be from 1 to 5");
        assert_eq!(error.to_string(), "Severity: must be from 1 to 5");
        assert_eq!(error.field(), Some("edit_severity"));
        assert_eq!(label_of("from_day"), "From day");
    }

    #[test]
    fn arguments_the_server_could_not_read_are_a_400_not_a_500() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("days".into()));
        assert_eq!(
            (error.status(), error.code()),
            (400, ErrorCode::InvalidParameter)
        );
    }

    #[test]
    fn internal_failures_never_carry_their_own_text() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "no such table: secrets".into(),
        ));
        assert!(!error.to_string().contains("secrets"), "{error}");
        assert_eq!(error.status(), 500);
    }
}
