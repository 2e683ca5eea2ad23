//! What the CPST engine reads: the catalogue, rollup rows and one line per decided task.

use super::{Db, DbResult, on_db};
use super::{config_version, identity, platform_cost, price, rollup, workflow};
use crate::domain::stats::{Bucket, Buckets};
use crate::domain::time::MS_PER_DAY;
use crate::model::{
    ConfigVersion, PlatformCost, Price, TaskRollup, TaskType, Team, Workflow, workflow_handle,
};
use crate::report::Window;
use crate::report::detail::DecidedTask;
use crate::report::figures::Ledger;
use crate::report::spread::{Measure, WindowSpreads, costly_task};

/// The catalogue every figure is labelled and allocated with.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub workflows: Vec<Workflow>,
    pub teams: Vec<Team>,
    pub task_types: Vec<TaskType>,
    pub config_versions: Vec<ConfigVersion>,
    pub platform_costs: Vec<PlatformCost>,
    /// Billed spend no call explains, allocated to workflows by month when finance chose to
    /// (see [`super::bill::unattributed_allocations`]).
    pub unattributed: Vec<PlatformCost>,
    pub baselines: Vec<crate::model::HumanBaseline>,
    pub prices: Vec<Price>,
}

impl Catalog {
    /// The catalogue as `viewer` may see it: owners see their own teams and those teams'
    /// workflows only.
    pub async fn load_for(db: &Db, viewer: &crate::views::access::Viewer) -> DbResult<Catalog> {
        let mut catalog = Catalog::load(db).await?;
        catalog.workflows.retain(|w| viewer.sees_team(w.team_id));
        catalog.teams.retain(|t| viewer.sees_team(t.id));
        Ok(catalog)
    }

    /// How `workflow` is named in links for whoever this catalogue was loaded for.
    pub fn handle(&self, workflow: &Workflow) -> String {
        workflow_handle(workflow, &self.workflows, &self.teams)
    }

    /// The window's rollup rows of this catalogue's workflows.
    pub async fn window_rows(&self, db: &Db, window: Window) -> DbResult<Vec<TaskRollup>> {
        let mut rows = window_rows(db, window).await?;
        rows.retain(|row| self.workflows.iter().any(|w| w.id == row.workflow_id));
        Ok(rows)
    }

    /// Everything figures are labelled and allocated with.
    pub async fn load(db: &Db) -> DbResult<Catalog> {
        Ok(Catalog {
            platform_costs: platform_cost::list_platform_costs(db).await?,
            unattributed: super::bill::unattributed_allocations(db).await?,
            baselines: super::baseline::list_baselines(db).await?,
            ..Catalog::load_names(db).await?
        })
    }

    /// What storing data needs: workflows, teams, task types, versions and prices, without the
    /// inputs only figures read (fixed costs, allocated unattributed spend, human baselines),
    /// so that ingesting a batch never reads a bill.
    pub async fn load_names(db: &Db) -> DbResult<Catalog> {
        Ok(Catalog {
            workflows: workflow::list_workflows(db).await?,
            teams: identity::list_teams(db).await?,
            task_types: workflow::list_all_task_types(db).await?,
            config_versions: config_version::list_all_config_versions(db).await?,
            prices: price::list_prices(db).await?,
            ..Catalog::default()
        })
    }

    /// One workflow's configuration versions in the order they were first seen.
    pub fn versions_of(&self, workflow_id: i64) -> Vec<&ConfigVersion> {
        let mut versions: Vec<&ConfigVersion> = self
            .config_versions
            .iter()
            .filter(|v| v.workflow_id == workflow_id)
            .collect();
        versions.sort_by_key(|v| (v.first_seen_at, v.id));
        versions
    }

    /// A ledger over `rows` (every rollup row of `window`).
    pub fn ledger<'a>(&'a self, window: Window, rows: &'a [TaskRollup]) -> Ledger<'a> {
        Ledger {
            window,
            workflows: &self.workflows,
            teams: &self.teams,
            task_types: &self.task_types,
            config_versions: &self.config_versions,
            platform_costs: &self.platform_costs,
            unattributed: &self.unattributed,
            baselines: &self.baselines,
            rows,
        }
    }
}

/// Every rollup row of the window.
pub async fn window_rows(db: &Db, window: Window) -> DbResult<Vec<TaskRollup>> {
    rollup::task_rollups(db, window.first_day, window.last_day, None).await
}

/// One workflow's spreads over the window, added up by the database: a month of them is a few
/// thousand rows however many tasks it holds.
pub async fn window_spreads(db: &Db, workflow_id: i64, window: Window) -> DbResult<WindowSpreads> {
    let (first, last) = (window.first_day, window.last_day);
    let buckets = "SELECT measure, bucket, CAST(SUM(tasks) AS BIGINT), CAST(SUM(total) AS BIGINT), MAX(largest)
        FROM task_spreads WHERE workflow_id = $1 AND day BETWEEN $2 AND $3
        GROUP BY measure, bucket";
    let rows: Vec<(String, i64, i64, i64, i64)> = on_db!(db, pool => sqlx::query_as(buckets).bind(workflow_id).bind(first).bind(last).fetch_all(pool).await)?;
    let mut spreads = WindowSpreads::default();
    let (mut cost, mut duration) = (Vec::new(), Vec::new());
    for (measure, from, count, total, largest) in rows {
        let bucket = Bucket {
            from,
            count: count as u64,
            total,
            largest,
        };
        match Measure::parse(&measure) {
            Some(Measure::Cost) => cost.push(bucket),
            Some(Measure::Duration) => duration.push(bucket),
            None => {}
        }
    }
    spreads.cost = Buckets::merge(cost);
    spreads.duration = Buckets::merge(duration);
    let reasons = "SELECT reason, CAST(SUM(tasks) AS BIGINT) FROM escalation_counts
        WHERE workflow_id = $1 AND day BETWEEN $2 AND $3 GROUP BY reason";
    let reasons: Vec<(String, i64)> = on_db!(db, pool => sqlx::query_as(reasons).bind(workflow_id).bind(first).bind(last).fetch_all(pool).await)?;
    spreads.escalations = reasons.into_iter().map(|(r, n)| (r, n as u64)).collect();
    let costliest = "SELECT c.task_id, t.external_id, t.status, c.cost_micros
        FROM costliest_tasks c JOIN tasks t ON t.id = c.task_id
        WHERE c.workflow_id = $1 AND c.day BETWEEN $2 AND $3
        ORDER BY c.cost_micros DESC, c.task_id LIMIT $4";
    let limit = crate::report::detail::COSTLIEST_LISTED as i64;
    let costliest: Vec<(i64, String, String, i64)> = on_db!(db, pool => sqlx::query_as(costliest).bind(workflow_id).bind(first).bind(last).bind(limit).fetch_all(pool).await)?;
    for (id, external_id, status, cost) in costliest {
        spreads
            .costliest
            .push(costly_task(id, external_id, status.parse()?, cost));
    }
    Ok(spreads)
}

/// Each (workflow, primary model)'s task durations over the window, added up by the database
/// from the stored buckets: what a model's p95 task time is read from.
pub async fn model_durations(
    db: &Db,
    window: Window,
) -> DbResult<std::collections::BTreeMap<(i64, String), Buckets>> {
    let sql = "SELECT workflow_id, model, bucket, CAST(SUM(tasks) AS BIGINT), CAST(SUM(total) AS BIGINT), MAX(largest)
        FROM model_durations WHERE day BETWEEN $1 AND $2
        GROUP BY workflow_id, model, bucket";
    let rows: Vec<(i64, String, i64, i64, i64, i64)> = on_db!(db, pool => sqlx::query_as(sql).bind(window.first_day).bind(window.last_day).fetch_all(pool).await)?;
    Ok(merged(rows.into_iter().map(
        |(workflow_id, model, from, count, total, largest)| {
            ((workflow_id, model), (from, count, total, largest))
        },
    )))
}

type LineRow = (
    i64,
    String,
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
);

/// One line per decided task that started in the window, optionally of some workflows only
/// (read through the workflow's index then, not by scanning every workflow's tasks).
pub async fn task_lines(
    db: &Db,
    window: Window,
    workflow_ids: Option<&[i64]>,
) -> DbResult<Vec<DecidedTask>> {
    let (from, to) = (
        window.first_day * MS_PER_DAY,
        (window.last_day + 1) * MS_PER_DAY,
    );
    let rows: Vec<LineRow> = match workflow_ids {
        None => {
            let sql = format!(
                "{LINES} WHERE started_at >= $1 AND started_at < $2 AND status <> 'pending'"
            );
            on_db!(db, pool => sqlx::query_as(&sql).bind(from).bind(to).fetch_all(pool).await)?
        }
        Some(ids) => {
            let sql = format!(
                "{LINES} WHERE workflow_id = $3 AND started_at >= $1 AND started_at < $2 AND status <> 'pending'"
            );
            let mut rows = Vec::new();
            for id in ids {
                let some: Vec<LineRow> = on_db!(db, pool => sqlx::query_as(&sql).bind(from).bind(to).bind(id).fetch_all(pool).await)?;
                rows.extend(some);
            }
            rows
        }
    };
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        lines.push(DecidedTask {
            id: row.0,
            external_id: row.1,
            workflow_id: row.2,
            team_id: row.3,
            task_type_id: row.4,
            segment: row.5,
            config_version_id: row.6,
            model: row.7,
            day: row.8,
            status: row.9.parse()?,
            cost_micros: row.10,
            calls: row.11,
            tokens: row.12,
            duration_ms: row.13,
            escalation_reason: row.14,
        });
    }
    Ok(lines)
}

const LINES: &str = "SELECT id, external_id, workflow_id, team_id, COALESCE(task_type_id, 0), segment,
        COALESCE(config_version_id, 0), primary_model, started_at / 86400000, status,
        model_cost_micros + tool_cost_micros + retry_cost_micros + cache_cost_micros + labour_cost_micros,
        call_count, token_count, COALESCE(finished_at - started_at, 0), escalation_reason
    FROM tasks";

/// One workflow's call-level lever figures over `window`, summed over its days by the
/// database: each step's calls by kind, each step's model-call input tokens in buckets, and
/// decided tasks by retrieval calls and verdict.
pub async fn step_window(
    db: &Db,
    workflow_id: i64,
    window: Window,
) -> DbResult<crate::report::call_levers::StepWindow> {
    use crate::report::steps::{RetrievalRow, StepRow};
    let (first, last) = (window.first_day, window.last_day);
    let steps = "SELECT CAST(0 AS BIGINT) AS day, step, kind, CAST(SUM(calls) AS BIGINT) AS calls,
            CAST(SUM(input_tokens) AS BIGINT) AS input_tokens,
            CAST(SUM(output_tokens) AS BIGINT) AS output_tokens,
            CAST(SUM(cost_micros) AS BIGINT) AS cost_micros,
            CAST(SUM(failed_calls) AS BIGINT) AS failed_calls,
            CAST(SUM(failed_cost_micros) AS BIGINT) AS failed_cost_micros
        FROM step_rollups WHERE workflow_id = $1 AND day BETWEEN $2 AND $3
        GROUP BY step, kind ORDER BY step, kind";
    let steps: Vec<StepRow> = on_db!(db, pool => sqlx::query_as(steps).bind(workflow_id).bind(first).bind(last).fetch_all(pool).await)?;
    let sizes =
        "SELECT step, bucket, CAST(SUM(calls) AS BIGINT), CAST(SUM(total) AS BIGINT), MAX(largest)
        FROM prompt_sizes WHERE workflow_id = $1 AND day BETWEEN $2 AND $3
        GROUP BY step, bucket";
    let rows: Vec<(String, i64, i64, i64, i64)> = on_db!(db, pool => sqlx::query_as(sizes).bind(workflow_id).bind(first).bind(last).fetch_all(pool).await)?;
    let retrievals =
        "SELECT CAST(0 AS BIGINT) AS day, retrievals, status, CAST(SUM(tasks) AS BIGINT) AS tasks,
            CAST(SUM(retrieval_tokens) AS BIGINT) AS retrieval_tokens
        FROM retrieval_outcomes WHERE workflow_id = $1 AND day BETWEEN $2 AND $3
        GROUP BY retrievals, status ORDER BY retrievals, status";
    let retrievals: Vec<RetrievalRow> = on_db!(db, pool => sqlx::query_as(retrievals).bind(workflow_id).bind(first).bind(last).fetch_all(pool).await)?;
    Ok(crate::report::call_levers::StepWindow {
        steps,
        sizes: merged(
            rows.into_iter()
                .map(|(step, from, count, total, largest)| (step, (from, count, total, largest))),
        ),
        retrievals,
    })
}

/// Stored bucket rows (lower edge, count, total, largest), summed by the database per key,
/// merged into one distribution per key.
fn merged<K: Ord>(
    rows: impl IntoIterator<Item = (K, (i64, i64, i64, i64))>,
) -> std::collections::BTreeMap<K, Buckets> {
    let mut buckets: std::collections::BTreeMap<K, Vec<Bucket>> = Default::default();
    for (key, (from, count, total, largest)) in rows {
        buckets.entry(key).or_default().push(Bucket {
            from,
            count: count as u64,
            total,
            largest,
        });
    }
    buckets
        .into_iter()
        .map(|(key, b)| (key, Buckets::merge(b)))
        .collect()
}
