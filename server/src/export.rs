//! CSV exports for signed-in people: the rows behind a page, with the page's filters, and
//! every table of the finance and engineering pages, computed by the page's own server
//! function so the file always says what the page says.

use app::api::models::get_models;
use app::api::overview::get_overview;
use app::api::workflows::{compare_versions, get_workflow};
use app::db::Db;
use app::db::catalog::Catalog;
use app::error::AppError;
use app::service::accounts::SignedIn;
use app::service::exports::{Table, models_file, models_table, overview_file, overview_table};
use app::views::access::Viewer;
use app::views::audit::AuditQuery;
use app::views::tasks::TaskQuery;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::prelude::{Owner, provide_context};
use leptos::reactive::computed::ScopedFuture;
use std::collections::HashMap;

/// The most rows one export carries; a narrower filter gets the rest.
pub const MAX_ROWS: i64 = 100_000;

/// `GET /export/tasks.csv?<the task list's filters>`: every matching task (up to
/// [`MAX_ROWS`]) in the list's order, money in exact dollars.
pub async fn tasks_csv(
    State(db): State<Db>,
    signed_in: Option<Extension<SignedIn>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match reader(signed_in, |v| v.reads_finance(), "financial figures") {
        Ok(viewer) => viewer,
        Err(refused) => return refused.into_response(),
    };
    let query = TaskQuery::from_pairs(|name| params.get(name).cloned());
    let file = app::service::exports::tasks_file(
        &query,
        app::db::now_ms() / app::domain::time::MS_PER_DAY,
    );
    let result = async {
        let catalog = Catalog::load(&db).await?;
        let (search, _) =
            match app::service::tasks::search_of(&viewer, &catalog, &query, app::db::now_ms()) {
                Ok(found) => found,
                Err(problem) => return Ok(Err(problem)),
            };
        let rows = app::db::task::search_tasks(&db, &search, &query.sort, MAX_ROWS, 0).await?;
        Ok::<_, app::db::DbError>(Ok(app::service::tasks::csv(&catalog, &rows)))
    };
    match result.await {
        Ok(Ok(body)) => csv_response(&file, body),
        Ok(Err(problem)) => (StatusCode::UNPROCESSABLE_ENTITY, problem).into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "task export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The export could not be read from the database; try again shortly.",
            )
                .into_response()
        }
    }
}

/// `GET /export/audit.csv?<the audit log's filters>`: the entries the reader may see that
/// match (up to [`app::service::audit::MAX_EXPORT`]), one row per changed field.
pub async fn audit_csv(
    State(db): State<Db>,
    signed_in: Option<Extension<SignedIn>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match reader(signed_in, |v| v.reads_audit(), "the audit log") {
        Ok(viewer) => viewer,
        Err(refused) => return refused.into_response(),
    };
    let query = AuditQuery::from_pairs(|name| params.get(name).cloned());
    match app::service::audit::audit_csv(&db, &viewer, &query).await {
        Ok(body) => csv_response(&app::service::audit::audit_file(&query), body),
        Err(err) => error_response(err),
    }
}

/// `GET /export/alerts.csv?state=&workflow=&days=`: the alerts page's list as CSV.
pub async fn alerts_csv(
    State(db): State<Db>,
    signed_in: Option<Extension<SignedIn>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match reader(signed_in, |v| v.reads_finance(), "alerts") {
        Ok(viewer) => viewer,
        Err(refused) => return refused.into_response(),
    };
    let days = match params
        .get("days")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(days) => days,
            Err(_) => {
                return error_response(AppError::invalid("days", "must be a whole number of days"));
            }
        },
    };
    let query = app::views::alerts::AlertQuery {
        state: params.get("state").cloned().unwrap_or_default(),
        workflow: params.get("workflow").cloned().unwrap_or_default(),
        days,
    };
    match app::service::alerts::alerts_csv(&db, &viewer, &query, app::db::now_ms()).await {
        Ok((file, body)) => csv_response(&file, body),
        Err(err) => error_response(err),
    }
}

/// `GET /export/focus.csv?days=|from=&to=`: the period's costs of every workflow the reader
/// sees as a FOCUS 1.2 file (see `app::report::focus` and docs/focus.md).
pub async fn focus_csv(
    State(db): State<Db>,
    signed_in: Option<Extension<SignedIn>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match reader(signed_in, |v| v.reads_finance(), "financial figures") {
        Ok(viewer) => viewer,
        Err(refused) => return refused.into_response(),
    };
    let (days, from, to) = period(&params);
    let today = app::domain::time::day_of(app::db::now_ms());
    let window = match app::report::Window::chosen(
        days,
        from.as_deref().unwrap_or_default(),
        to.as_deref().unwrap_or_default(),
        today,
    ) {
        Ok(window) => window,
        Err(problem) => return error_response(AppError::from_field_problem(problem)),
    };
    match app::service::focus::focus_csv(&db, &viewer, window).await {
        Ok((file, body)) => csv_response(&file, body),
        Err(err) => error_response(err),
    }
}

/// The signed-in reader when their role includes `what` (as `allowed` says), else the 401 or
/// 403 that says so.
fn reader(
    signed_in: Option<Extension<SignedIn>>,
    allowed: impl Fn(&Viewer) -> bool,
    what: &str,
) -> Result<Viewer, (StatusCode, String)> {
    let Some(Extension(signed_in)) = signed_in else {
        return Err((StatusCode::UNAUTHORIZED, "Sign in to continue.".to_owned()));
    };
    let viewer = signed_in.viewer;
    if viewer.must_change_password || !allowed(&viewer) {
        let message = format!(
            "Your role ({}) does not include {what}.",
            viewer.role.as_str()
        );
        return Err((StatusCode::FORBIDDEN, message));
    }
    Ok(viewer)
}

/// `body` as a CSV download named `file`.
fn csv_response(file: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Runs one of the app's server functions for this request, as its page would: same viewer,
/// same checks, same figures. An error is its status and its sentence.
async fn as_page<T, Fut>(db: Db, parts: Parts, call: impl FnOnce() -> Fut) -> Result<T, Response>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let owner = Owner::new();
    let future = owner.with(|| {
        provide_context(parts);
        provide_context(db);
        ScopedFuture::new(call())
    });
    future.await.map_err(error_response)
}

/// An app error as the exports answer it: its status and its sentence, and when to come back
/// for a database that is briefly unavailable.
fn error_response(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, err.to_string()).into_response();
    if let AppError::Unavailable { retry_after, .. } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}

/// A table as a CSV download named `file` (see [`app::service::exports::file_name`]), or 404
/// for a table the page does not have.
fn csv_download(file: &str, table: Option<Table>) -> Response {
    match table {
        Some(table) => csv_response(file, table.csv()),
        None => (StatusCode::NOT_FOUND, "No such table.").into_response(),
    }
}

/// The table name of `<name>.csv`.
fn table_name(file: &str) -> Option<&str> {
    file.strip_suffix(".csv")
}

fn period(params: &HashMap<String, String>) -> (i64, Option<String>, Option<String>) {
    let days = params
        .get("days")
        .and_then(|d| d.parse().ok())
        .unwrap_or(30);
    let date = |name: &str| params.get(name).filter(|d| !d.trim().is_empty()).cloned();
    (days, date("from"), date("to"))
}

/// A table of a page whose server function takes the period in the address (`days`, or
/// `from` and `to`): the page's figures for the signed-in reader, then `table` picks one.
async fn period_csv<T, Fut>(
    db: Db,
    parts: Parts,
    file: &str,
    params: &HashMap<String, String>,
    page: impl FnOnce(i64, Option<String>, Option<String>) -> Fut,
    table: impl FnOnce(&T, &str) -> Option<Table>,
    named: impl FnOnce(&T, &str) -> String,
) -> Response
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let Some(name) = table_name(file) else {
        return csv_download(file, None);
    };
    let (days, from, to) = period(params);
    match as_page(db, parts, || page(days, from, to)).await {
        Ok(figures) => csv_download(&named(&figures, name), table(&figures, name)),
        Err(response) => response,
    }
}

/// `GET /export/overview/{workflows,teams}.csv?days=|from=&to=`: a table of the overview.
pub async fn overview_csv(
    State(db): State<Db>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    parts: Parts,
) -> Response {
    period_csv(
        db,
        parts,
        &file,
        &params,
        get_overview,
        overview_table,
        overview_file,
    )
    .await
}

/// `GET /export/models/{models,winners}.csv?days=|from=&to=`: a table of the models page.
pub async fn models_csv(
    State(db): State<Db>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    parts: Parts,
) -> Response {
    period_csv(
        db,
        parts,
        &file,
        &params,
        get_models,
        models_table,
        models_file,
    )
    .await
}

/// `GET /export/workflows/{slug}/{table}.csv`: a table of a workflow's page (`?trend=day` for
/// the daily trend), or `comparison.csv` with the comparison page's query.
pub async fn workflow_csv(
    State(db): State<Db>,
    Path((slug, file)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    parts: Parts,
) -> Response {
    let Some(name) = table_name(&file) else {
        return csv_download(&file, None);
    };
    let text = |name: &str| params.get(name).cloned().unwrap_or_default();
    let date = |name: &str| params.get(name).filter(|d| !d.trim().is_empty()).cloned();
    if name == "comparison" {
        let days = params
            .get("days")
            .and_then(|d| d.parse().ok())
            .unwrap_or(90);
        let call = || {
            compare_versions(
                slug,
                text("baseline"),
                text("candidate"),
                days,
                date("baseline_from"),
                date("baseline_to"),
                date("candidate_from"),
                date("candidate_to"),
            )
        };
        return match as_page(db, parts, call).await {
            Ok(found) => csv_download(
                &app::service::exports::comparison_file(&found),
                Some(app::service::exports::comparison_table(&found)),
            ),
            Err(response) => response,
        };
    }
    match as_page(db, parts, || get_workflow(slug, date("trend"))).await {
        Ok(detail) => csv_download(
            &app::service::exports::workflow_file(&detail, name),
            app::service::exports::workflow_table(&detail, name),
        ),
        Err(response) => response,
    }
}
