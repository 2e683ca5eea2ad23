//! Keeps task verdicts current: gathers a task's evidence (its report, the success rule in force
//! when it started, grades, outcome events), lets the domain decide, stores the verdict and
//! refreshes the rollups it touched, all in the caller's transaction.

use super::rollup::{refresh_call_rollups, refresh_task_rollups};
use super::{Db, DbError, DbResult, Tx, on_db, on_tx, task::set_task_status};
use crate::domain::rule::Rule;
use crate::domain::status::{GradeVerdict, OutcomeKind, ReportedStatus, TaskStatus, UnknownValue};
use crate::domain::time::day_of;
use crate::domain::verdict::{Evidence, Verdict, evaluate_task};
use std::collections::{BTreeMap, BTreeSet};

type TaskRow = (
    i64,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
);

/// Re-decides one task's verdict at `now`; stores it when it changed and says whether it did.
/// The caller refreshes the rollups of the task's day (see [`reevaluate_tasks`]).
pub async fn reevaluate_task(tx: &mut Tx, task_id: i64, now: i64) -> DbResult<(Verdict, bool)> {
    let sql =
        "SELECT id, started_at, finished_at, workflow_id, task_type_id, reported_status, status,
                   output, expected, checks, metrics, pending_until, status_reason
               FROM tasks WHERE id = $1";
    let row: TaskRow = on_tx!(tx, conn => sqlx::query_as(sql).bind(task_id).fetch_one(conn).await)?;
    let (
        _,
        started_at,
        finished_at,
        _,
        task_type_id,
        reported,
        status,
        output,
        expected,
        checks,
        metrics,
        pending_until,
        reason,
    ) = row;
    let rule = match task_type_id {
        Some(task_type_id) => rule_in_force(tx, task_type_id, started_at).await?,
        None => None,
    };
    let grades: Vec<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT verdict FROM grades WHERE task_id = $1 ORDER BY graded_at, id").bind(task_id).fetch_all(conn).await)?;
    let outcomes: Vec<(String, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT kind, occurred_at FROM outcome_events WHERE task_id = $1 ORDER BY occurred_at, id").bind(task_id).fetch_all(conn).await)?;
    let stored = StoredEvidence {
        reported,
        finished_at,
        output,
        expected,
        checks,
        metrics,
    };
    let evidence = stored.into_evidence(&grades, outcomes)?;
    let verdict = evaluate_task(rule.as_ref().map(|r| &r.1), &evidence, now);
    let before = status.parse::<TaskStatus>()?;
    let changed = (before, pending_until, reason.as_str())
        != (
            verdict.status,
            verdict.pending_until,
            verdict.reason.as_str(),
        );
    if changed {
        let rule_id = rule.map(|r| r.0);
        set_task_status(
            tx,
            task_id,
            verdict.status,
            rule_id,
            &verdict.reason,
            verdict.pending_until,
            now,
        )
        .await?;
    }
    Ok((verdict, changed))
}

async fn rule_in_force(tx: &mut Tx, task_type_id: i64, at: i64) -> DbResult<Option<(i64, Rule)>> {
    let sql =
        "SELECT id, definition FROM success_rules WHERE task_type_id = $1 AND effective_from <= $2
               ORDER BY effective_from DESC, version DESC LIMIT 1";
    let row: Option<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(sql).bind(task_type_id).bind(at).fetch_optional(conn).await)?;
    row.map(|(id, definition)| {
        Rule::from_json(&definition)
            .map(|rule| (id, rule))
            .map_err(|e| DbError::Corrupt(format!("success rule {id}: {e}")))
    })
    .transpose()
}

/// A task's evidence columns as stored.
struct StoredEvidence {
    reported: String,
    finished_at: Option<i64>,
    output: Option<String>,
    expected: Option<String>,
    checks: Option<String>,
    metrics: Option<String>,
}

impl StoredEvidence {
    fn into_evidence(
        self,
        grades: &[String],
        outcomes: Vec<(String, i64)>,
    ) -> Result<Evidence, UnknownValue> {
        Ok(Evidence {
            reported: Some(self.reported.parse::<ReportedStatus>()?),
            finished_at: self.finished_at,
            output: self
                .output
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            expected: self
                .expected
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            checks: json_map(self.checks.as_deref(), serde_json::Value::as_bool),
            metrics: json_map(self.metrics.as_deref(), serde_json::Value::as_f64),
            grades: grades
                .iter()
                .map(|g| g.parse::<GradeVerdict>())
                .collect::<Result<_, _>>()?,
            outcomes: outcomes
                .into_iter()
                .map(|(kind, at)| Ok((kind.parse::<OutcomeKind>()?, at)))
                .collect::<Result<_, UnknownValue>>()?,
        })
    }
}

/// A task with the verdict it holds now and everything a rule could look at.
#[derive(Clone, Debug)]
pub struct TaskEvidence {
    pub id: i64,
    pub external_id: String,
    pub started_at: i64,
    pub status: TaskStatus,
    pub evidence: Evidence,
}

type EvidenceRow = (
    i64,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every task of a task type that started in `from..to`, with its evidence, in three reads
/// rather than three per task: what a draft rule is tried on.
pub async fn task_type_evidence(
    db: &Db,
    task_type_id: i64,
    from: i64,
    to: i64,
) -> DbResult<Vec<TaskEvidence>> {
    let tasks = "SELECT id, external_id, started_at, status, reported_status, finished_at,
                     output, expected, checks, metrics
                 FROM tasks WHERE task_type_id = $1 AND started_at >= $2 AND started_at < $3
                 ORDER BY started_at, id";
    let rows: Vec<EvidenceRow> = on_db!(db, pool => sqlx::query_as(tasks)
        .bind(task_type_id).bind(from).bind(to).fetch_all(pool).await)?;
    let grades = "SELECT g.task_id, g.verdict FROM grades g JOIN tasks t ON t.id = g.task_id
                  WHERE t.task_type_id = $1 AND t.started_at >= $2 AND t.started_at < $3
                  ORDER BY g.task_id, g.graded_at, g.id";
    let grade_rows: Vec<(i64, String)> = on_db!(db, pool => sqlx::query_as(grades)
        .bind(task_type_id).bind(from).bind(to).fetch_all(pool).await)?;
    let outcomes = "SELECT o.task_id, o.kind, o.occurred_at FROM outcome_events o
                    JOIN tasks t ON t.id = o.task_id
                    WHERE t.task_type_id = $1 AND t.started_at >= $2 AND t.started_at < $3
                    ORDER BY o.task_id, o.occurred_at, o.id";
    let outcome_rows: Vec<(i64, String, i64)> = on_db!(db, pool => sqlx::query_as(outcomes)
        .bind(task_type_id).bind(from).bind(to).fetch_all(pool).await)?;
    let mut grades_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (task_id, verdict) in grade_rows {
        grades_of.entry(task_id).or_default().push(verdict);
    }
    let mut outcomes_of: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    for (task_id, kind, at) in outcome_rows {
        outcomes_of.entry(task_id).or_default().push((kind, at));
    }
    rows.into_iter()
        .map(|row| {
            let (
                id,
                external_id,
                started_at,
                status,
                reported,
                finished_at,
                output,
                expected,
                checks,
                metrics,
            ) = row;
            let stored = StoredEvidence {
                reported,
                finished_at,
                output,
                expected,
                checks,
                metrics,
            };
            Ok(TaskEvidence {
                id,
                external_id,
                started_at,
                status: status.parse()?,
                evidence: stored.into_evidence(
                    grades_of.get(&id).map_or(&[][..], Vec::as_slice),
                    outcomes_of.remove(&id).unwrap_or_default(),
                )?,
            })
        })
        .collect()
}

fn json_map<T>(
    text: Option<&str>,
    convert: fn(&serde_json::Value) -> Option<T>,
) -> BTreeMap<String, T> {
    let Some(serde_json::Value::Object(map)) = text.and_then(|t| serde_json::from_str(t).ok())
    else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), convert(v)?)))
        .collect()
}

/// Re-decides the given tasks and refreshes the rollups of every (workflow, day) whose tasks
/// changed verdict. Returns how many changed.
pub async fn reevaluate_tasks(tx: &mut Tx, task_ids: &[i64], now: i64) -> DbResult<u64> {
    let touched = decide_tasks(tx, task_ids, now).await?;
    for (workflow_id, day) in &touched {
        refresh_task_rollups(tx, *workflow_id, *day, *day).await?;
        refresh_call_rollups(tx, *workflow_id, *day, *day).await?;
    }
    Ok(touched.len() as u64)
}

/// Re-decides the given tasks and returns the (workflow, day) slices whose tasks changed
/// verdict, for the caller to refresh now or to mark for the background refresh.
pub async fn decide_tasks(
    tx: &mut Tx,
    task_ids: &[i64],
    now: i64,
) -> DbResult<BTreeSet<(i64, i64)>> {
    let mut touched: BTreeSet<(i64, i64)> = BTreeSet::new();
    for &task_id in task_ids {
        let (_, changed) = reevaluate_task(tx, task_id, now).await?;
        if changed {
            let sql = "SELECT workflow_id, started_at FROM tasks WHERE id = $1";
            let (workflow_id, started_at): (i64, i64) =
                on_tx!(tx, conn => sqlx::query_as(sql).bind(task_id).fetch_one(conn).await)?;
            touched.insert((workflow_id, day_of(started_at)));
        }
    }
    Ok(touched)
}

/// Decides pending tasks whose evidence window has closed by `now`, in batches; returns how
/// many tasks were looked at. Run periodically by the server.
pub async fn settle_due_tasks(db: &Db, now: i64, batch: i64) -> DbResult<u64> {
    let mut settled = 0;
    loop {
        let sql = "SELECT id FROM tasks WHERE status = 'pending' AND pending_until IS NOT NULL
                   AND pending_until <= $1 ORDER BY pending_until, id LIMIT $2";
        let ids: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(sql).bind(now).bind(batch).fetch_all(pool).await)?;
        if ids.is_empty() {
            return Ok(settled);
        }
        let mut tx = db.begin().await?;
        let changed = reevaluate_tasks(&mut tx, &ids, now).await?;
        tx.commit().await?;
        settled += ids.len() as u64;
        if changed == 0 || (ids.len() as i64) < batch {
            return Ok(settled);
        }
    }
}
