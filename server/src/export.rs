//! CSV exports for signed-in people: the rows behind a page, with the page's filters.

use app::accounts::SignedIn;
use app::api::tasks::TaskQuery;
use app::db::Db;
use app::db::report::Catalog;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
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
    let Some(Extension(signed_in)) = signed_in else {
        return (StatusCode::UNAUTHORIZED, "Sign in to continue.").into_response();
    };
    let viewer = signed_in.viewer;
    if viewer.must_change_password || !viewer.reads_finance() {
        let message = format!(
            "Your role ({}) does not include financial figures.",
            viewer.role.as_str()
        );
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let query = TaskQuery::from_pairs(|name| params.get(name).cloned());
    let result = async {
        let catalog = Catalog::load(&db).await?;
        let (search, _) = match app::tasks::search_of(&viewer, &catalog, &query, app::db::now_ms())
        {
            Ok(found) => found,
            Err(problem) => return Ok(Err(problem)),
        };
        let rows = app::db::task::search_tasks(&db, &search, &query.sort, MAX_ROWS, 0).await?;
        Ok::<_, app::db::DbError>(Ok(app::tasks::csv(&catalog, &rows)))
    };
    match result.await {
        Ok(Ok(body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"tasks.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
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
