//! Tasks: one task's trace and the task list, for finance readers; the work is in
//! `service::trace` and `service::tasks`.

use crate::error::AppError;
use crate::views::tasks::{TaskList, TaskQuery, TaskTrace};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "get_task_trace")]
pub async fn get_task_trace(id: i64) -> Result<TaskTrace, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::trace::task_trace(&db()?, &viewer, id).await
}

#[server(prefix = "/rpc", endpoint = "list_tasks")]
pub async fn list_tasks(query: TaskQuery) -> Result<TaskList, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let db = db()?;
    crate::service::tasks::list(&db, &viewer, &query, crate::db::now_ms()).await
}
