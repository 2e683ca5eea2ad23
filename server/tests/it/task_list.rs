//! The task list's total: counted from the daily rollups where they are current and from the
//! tasks themselves elsewhere, it always equals counting every matching task, whatever the
//! background refresh has or has not caught up with.

use crate::helpers::{app, ingest, test_databases};
use app::db::task::{TaskSearch, count_tasks};
use app::db::{Db, on_db};
use app::domain::time::{MS_PER_DAY, day_of, format_day};
use serde_json::{Value, json};
use server::demo::{self, DemoSpec};
use std::collections::HashSet;

/// A task as a search reads it.
#[derive(sqlx::FromRow)]
struct Row {
    workflow_id: i64,
    status: String,
    task_type_id: Option<i64>,
    segment: String,
    config_version_id: Option<i64>,
    primary_model: String,
    started_at: i64,
}

async fn every_task(db: &Db) -> Vec<Row> {
    let sql = "SELECT workflow_id, status, task_type_id, segment, config_version_id,
                      primary_model, started_at FROM tasks";
    on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap()
}

/// The oracle: how many of `rows` the search matches, read one by one.
fn matching(rows: &[Row], search: &TaskSearch, users_workflows: &HashSet<i64>) -> i64 {
    rows.iter()
        .filter(|r| r.started_at >= search.from && r.started_at < search.to)
        .filter(|r| search.all_teams || users_workflows.contains(&r.workflow_id))
        .filter(|r| search.workflow_id.is_none_or(|id| r.workflow_id == id))
        .filter(|r| match search.status.as_deref() {
            None => true,
            Some("decided") => r.status != "pending",
            Some(status) => r.status == status,
        })
        .filter(|r| {
            search
                .task_type_id
                .is_none_or(|id| r.task_type_id == Some(id))
        })
        .filter(|r| search.segment.as_ref().is_none_or(|s| &r.segment == s))
        .filter(|r| (search.config_version_id).is_none_or(|id| r.config_version_id == Some(id)))
        .filter(|r| search.model.as_ref().is_none_or(|m| &r.primary_model == m))
        .count() as i64
}

/// Searches over whole and partial days, within one day, with each filter the rollups keep,
/// for everyone and for one user's teams.
fn searches(rows: &[Row], today: i64, user_id: i64) -> Vec<TaskSearch> {
    let sample = rows
        .iter()
        .find(|r| {
            r.task_type_id.is_some() && r.config_version_id.is_some() && !r.primary_model.is_empty()
        })
        .expect("the demo has typed, versioned tasks with a model");
    let periods = [
        ((today - 29) * MS_PER_DAY, (today + 1) * MS_PER_DAY),
        (
            (today - 30) * MS_PER_DAY + 12_345,
            today * MS_PER_DAY + 3_600_000,
        ),
        ((today - 89) * MS_PER_DAY + 1, (today + 1) * MS_PER_DAY - 1),
        (
            (today - 5) * MS_PER_DAY + 1_000,
            (today - 5) * MS_PER_DAY + 50_000_000,
        ),
    ];
    let mut searches = Vec::new();
    for (from, to) in periods {
        let all = TaskSearch {
            from,
            to,
            all_teams: true,
            ..TaskSearch::default()
        };
        searches.extend([
            TaskSearch { ..all.clone() },
            TaskSearch {
                all_teams: false,
                user_id,
                ..all.clone()
            },
            TaskSearch {
                workflow_id: Some(sample.workflow_id),
                ..all.clone()
            },
            TaskSearch {
                status: Some("decided".into()),
                ..all.clone()
            },
            TaskSearch {
                status: Some("failed".into()),
                workflow_id: Some(sample.workflow_id),
                ..all.clone()
            },
            TaskSearch {
                task_type_id: sample.task_type_id,
                ..all.clone()
            },
            TaskSearch {
                segment: Some(sample.segment.clone()),
                ..all.clone()
            },
            TaskSearch {
                config_version_id: sample.config_version_id,
                ..all.clone()
            },
            TaskSearch {
                model: Some(sample.primary_model.clone()),
                status: Some("succeeded".into()),
                ..all.clone()
            },
        ]);
    }
    searches
}

async fn counts_agree(
    db: &Db,
    today: i64,
    user_id: i64,
    users_workflows: &HashSet<i64>,
    when: &str,
) {
    let rows = every_task(db).await;
    for search in searches(&rows, today, user_id) {
        assert_eq!(
            count_tasks(db, &search).await.unwrap(),
            matching(&rows, &search, users_workflows),
            "{when}: {search:?}"
        );
    }
}

/// New tasks of support triage started `days_ago`, each with a model call.
fn batch(prefix: &str, days_ago: i64, count: usize) -> Value {
    let day = format_day(day_of(app::db::now_ms()) - days_ago);
    let (mut tasks, mut attempts, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..count {
        let id = format!("{prefix}-{i}");
        tasks.push(json!({"id": id, "workflow": "support-triage", "task_type": "billing-question",
            "started_at": format!("{day}T00:00:0{}Z", i % 10), "finished_at": format!("{day}T00:01:00Z"),
            "status": "completed", "output": {"category": "billing"}}));
        attempts.push(json!({"correlation_id": format!("{id}-a1"), "workflow": "support-triage",
            "task": id, "number": 1, "status": "succeeded", "started_at": format!("{day}T00:00:00Z")}));
        calls.push(
            json!({"id": format!("{id}-c1"), "workflow": "support-triage",
            "correlation_id": format!("{id}-a1"), "kind": "model", "provider": "anthropic",
            "model": "claude-haiku-4-5", "input_tokens": 900, "output_tokens": 120,
            "started_at": format!("{day}T00:00:10Z"), "latency_ms": 800}),
        );
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls})
}

#[tokio::test]
async fn the_task_lists_total_equals_counting_every_task_before_during_and_after_a_refresh() {
    for t in test_databases().await {
        let db = &t.db;
        let today = day_of(app::db::now_ms());
        demo::load(
            db,
            &DemoSpec {
                seed: 5,
                tasks: 1_500,
                end_day: today,
            },
        )
        .await
        .unwrap();
        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        let user_sql = "SELECT user_id FROM user_teams ORDER BY user_id, team_id";
        let user_id: i64 =
            on_db!(db, pool => sqlx::query_scalar(user_sql).fetch_one(pool).await).unwrap();
        let workflows_sql =
            "SELECT w.id FROM workflows w JOIN user_teams ut ON ut.team_id = w.team_id
                             WHERE ut.user_id = $1";
        let users_workflows: HashSet<i64> = on_db!(db, pool => sqlx::query_scalar(workflows_sql).bind(user_id).fetch_all(pool).await)
            .unwrap()
            .into_iter()
            .collect();
        assert!(!users_workflows.is_empty(), "{}", t.backend);
        counts_agree(
            db,
            today,
            user_id,
            &users_workflows,
            &format!("{}, refreshed", t.backend),
        )
        .await;

        // New tasks on a whole day inside the period and on today: their marks wait for the
        // refresh, so those days' rollups are behind and the count reads their tasks instead.
        let key = server::api::create_api_key(db, "test", &[], None)
            .await
            .unwrap();
        let router = app(db);
        ingest(&router, &key, &batch("mid", 5, 40)).await;
        ingest(&router, &key, &batch("now", 0, 10)).await;
        let marks: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM rollup_marks").fetch_one(pool).await).unwrap();
        assert!(marks > 0, "{}: the batches left marks", t.backend);
        counts_agree(
            db,
            today,
            user_id,
            &users_workflows,
            &format!("{}, marked", t.backend),
        )
        .await;

        // Folded into versions not yet refreshed.
        app::db::rollup::fold_marks(db).await.unwrap();
        counts_agree(
            db,
            today,
            user_id,
            &users_workflows,
            &format!("{}, folded", t.backend),
        )
        .await;

        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        counts_agree(
            db,
            today,
            user_id,
            &users_workflows,
            &format!("{}, refreshed again", t.backend),
        )
        .await;
    }
}
