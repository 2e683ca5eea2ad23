//! The one error type of the machine-facing routes (the read API, ingestion and OTLP): each
//! variant has a stable code and status, internal details are logged and never sent; and the
//! shapes the OpenAPI document gives those errors.

use app::db::DbError;
use app::error::ErrorCode;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::{IntoResponses, ToSchema};

/// Why an API request failed. Each variant has a stable code; internal details are logged,
/// never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("send an API key as 'Authorization: Bearer <key>'")]
    MissingKey,
    #[error("the API key is not valid or has been revoked")]
    InvalidKey,
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    InvalidParameter { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TimedOut(String),
    #[error("{message}")]
    BadBody {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("the server is busy; retry shortly")]
    Busy,
    #[error("storage failure")]
    Storage(#[from] DbError),
}

impl From<crate::intake::IntakeError> for ApiError {
    fn from(error: crate::intake::IntakeError) -> ApiError {
        use crate::intake::IntakeError;
        match error {
            IntakeError::TooLarge { limit, .. } => ApiError::TooLarge(format!(
                "a batch may be at most {} MiB, also once decompressed",
                limit / 1024 / 1024
            )),
            IntakeError::TimedOut => ApiError::TimedOut(error.to_string()),
            IntakeError::Broken | IntakeError::BadGzip(_) => {
                ApiError::invalid("body", error.to_string())
            }
            IntakeError::UnsupportedEncoding(_) => {
                ApiError::UnsupportedMediaType(error.to_string())
            }
            IntakeError::OverBudget => ApiError::Busy,
        }
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match &self {
            ApiError::MissingKey => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::MissingApiKey.as_str(),
                self.to_string(),
                None,
            ),
            ApiError::InvalidKey => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidApiKey.as_str(),
                self.to_string(),
                None,
            ),
            ApiError::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden.as_str(),
                m.clone(),
                None,
            ),
            ApiError::InvalidParameter { field, message } => (
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidParameter.as_str(),
                message.clone(),
                Some(field.clone()),
            ),
            ApiError::NotFound(m) => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound.as_str(),
                m.clone(),
                None,
            ),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType.as_str(),
                m.clone(),
                None,
            ),
            ApiError::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge.as_str(),
                m.clone(),
                None,
            ),
            ApiError::TimedOut(m) => (
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::TimedOut.as_str(),
                m.clone(),
                None,
            ),
            ApiError::BadBody {
                message,
                line,
                column,
            } => {
                let body = json!({"error": {"code": ErrorCode::MalformedJson.as_str(), "message": message, "line": line, "column": column}});
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
            ApiError::TooManyRequests {
                message,
                retry_after,
            } => {
                let body =
                    json!({"error": {"code": ErrorCode::RateLimited.as_str(), "message": message}});
                let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
                return response;
            }
            ApiError::Busy => {
                let body = json!({"error": {"code": ErrorCode::Busy.as_str(), "message": self.to_string()}});
                let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
            ApiError::Storage(err @ (DbError::Unavailable(_) | DbError::ReadOnly(_))) => {
                tracing::warn!(error = %self, source = ?self, "storage unavailable");
                let (code, message) = match err {
                    DbError::ReadOnly(_) => (
                        ErrorCode::ReadOnly.as_str(),
                        "The database refused the write: it is read-only or the disk is full. Nothing in this request was stored; retry after Retry-After seconds.",
                    ),
                    _ => (
                        ErrorCode::Unavailable.as_str(),
                        "The database is unavailable. Nothing in this request was stored; retry after Retry-After seconds.",
                    ),
                };
                let body = json!({"error": {"code": code, "message": message}});
                let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                return response;
            }
            ApiError::Storage(DbError::Overflow) => {
                tracing::error!(error = %self, "figures cannot be counted");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Uncountable.as_str(),
                    "These figures cannot be computed: the stored costs behind them add up to more than can be counted (about $9.2 trillion). The server log says which data.".to_owned(),
                    None,
                )
            }
            ApiError::Storage(err) => {
                tracing::error!(error = ?err, "storage error in the API");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::InternalError.as_str(),
                    "Something went wrong; it has been logged.".to_owned(),
                    None,
                )
            }
        };
        let mut error = json!({"code": code, "message": message});
        if let Some(field) = field {
            error["field"] = json!(field);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The failures every read route shares.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ReadErrors {
    /// A parameter is invalid; `field` names it.
    #[response(status = 400)]
    InvalidParameter(ErrorBody),
    /// No valid API key.
    #[response(status = 401)]
    NoKey(ErrorBody),
    /// A workflow or team outside the key's scope, or (for a key with scopes) one that does
    /// not exist: the two are not told apart.
    #[response(status = 403)]
    OutOfScope(ErrorBody),
    /// Too many requests in progress or per second for this key; retry after `Retry-After`.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// Every connection the API may use is busy, or the database is unavailable; retry after
    /// `Retry-After`.
    #[response(status = 503)]
    Busy(ErrorBody),
}

/// Every error: a stable code, a sentence, and the field at fault when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "invalid_parameter")]
    pub code: String,
    #[schema(example = "must be a date like 2026-11-22")]
    pub message: String,
    #[schema(example = "from")]
    pub field: Option<String>,
}
