//! Keeps task verdicts current: gathers a task's evidence (its report, the success rule in force
//! when it started, grades, outcome events, evaluation results), lets the domain decide, stores the verdict and
//! refreshes the rollups it touched, all in the caller's transaction.

use super::rollup::refresh_slices;
use super::task::{StatusChange, set_task_statuses};
use super::{Db, DbError, DbResult, Tx, on_db, on_tx, push_list};
use crate::domain::rule::Rule;
use crate::domain::status::{GradeVerdict, OutcomeKind, ReportedStatus, TaskStatus, UnknownValue};
use crate::domain::time::day_of;
use crate::domain::verdict::{EvaluationResult, Evidence, Verdict, evaluate_task};
use std::collections::{BTreeMap, BTreeSet};

/// A task as deciding its verdict reads it: where it counts, the verdict it holds, its evidence.
#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    started_at: i64,
    workflow_id: i64,
    task_type_id: Option<i64>,
    status: String,
    pending_until: Option<i64>,
    status_reason: String,
    #[sqlx(flatten)]
    evidence: StoredEvidence,
}

/// How many tasks one read of their evidence covers: the ids go in as bound parameters.
const TASKS_PER_READ: usize = 500;

/// Re-decides the given tasks and returns the (workflow, day) slices whose tasks changed
/// verdict, for the caller to refresh now or to mark for the background refresh. The evidence
/// is read a few statements per [`TASKS_PER_READ`] tasks (the tasks, the rules of their types,
/// their grades and outcome events), not a few per task; the changed verdicts are stored
/// together.
pub async fn decide_tasks(
    tx: &mut Tx,
    task_ids: &[i64],
    now: i64,
) -> DbResult<BTreeSet<(i64, i64)>> {
    let mut touched = BTreeSet::new();
    for chunk in task_ids.chunks(TASKS_PER_READ) {
        let tasks: Vec<DecisionRow> = read_by_ids(
            tx,
            "SELECT id, started_at, finished_at, workflow_id, task_type_id, reported_status,
                    status, output, expected, checks, metrics, pending_until, status_reason
             FROM tasks WHERE id IN (",
            chunk,
            ")",
        )
        .await?;
        let mut types: Vec<i64> = tasks.iter().filter_map(|t| t.task_type_id).collect();
        types.sort_unstable();
        types.dedup();
        let rules = RuleBook::read(tx, &types).await?;
        let grade_rows: Vec<(i64, String)> = read_by_ids(
            tx,
            "SELECT task_id, verdict FROM grades WHERE task_id IN (",
            chunk,
            ") ORDER BY task_id, graded_at, id",
        )
        .await?;
        let grades_of = by_task(grade_rows);
        let outcome_rows: Vec<(i64, String, i64)> = read_by_ids(
            tx,
            "SELECT task_id, kind, occurred_at FROM outcome_events WHERE task_id IN (",
            chunk,
            ") ORDER BY task_id, occurred_at, id",
        )
        .await?;
        let mut outcomes_of = by_task(outcome_rows.into_iter().map(|(t, k, at)| (t, (k, at))));
        let evaluation_rows: Vec<EvaluationRow> = read_by_ids(
            tx,
            "SELECT task_id, name, score, label, evaluated_at FROM evaluations WHERE task_id IN (",
            chunk,
            ") ORDER BY task_id, evaluated_at, id",
        )
        .await?;
        let mut evaluations_of = evaluations_by_task(evaluation_rows);
        let mut changed_verdicts = Vec::new();
        for task in tasks {
            let task_id = task.id;
            let rule = task
                .task_type_id
                .and_then(|t| rules.in_force(t, task.started_at));
            let evidence = task.evidence.into_evidence(
                grades_of.get(&task_id).map_or(&[][..], Vec::as_slice),
                outcomes_of.remove(&task_id).unwrap_or_default(),
                evaluations_of.remove(&task_id).unwrap_or_default(),
            )?;
            let verdict: Verdict = evaluate_task(rule.map(|r| r.1), &evidence, now);
            let before = task.status.parse::<TaskStatus>()?;
            let changed = (before, task.pending_until, task.status_reason.as_str())
                != (
                    verdict.status,
                    verdict.pending_until,
                    verdict.reason.as_str(),
                );
            if changed {
                changed_verdicts.push((task_id, verdict, rule.map(|r| r.0)));
                touched.insert((task.workflow_id, day_of(task.started_at)));
            }
        }
        let changes: Vec<StatusChange> = changed_verdicts
            .iter()
            .map(|(task_id, verdict, rule_id)| StatusChange {
                task_id: *task_id,
                status: verdict.status,
                rule_id: *rule_id,
                reason: &verdict.reason,
                pending_until: verdict.pending_until,
            })
            .collect();
        set_task_statuses(tx, &changes, now).await?;
    }
    Ok(touched)
}

/// Rows of `head` ids `tail`, the ids bound one parameter each.
async fn read_by_ids<T>(tx: &mut Tx, head: &str, ids: &[i64], tail: &str) -> DbResult<Vec<T>>
where
    T: Send + Unpin,
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Ok(on_tx!(tx, conn => {
        let mut query = sqlx::QueryBuilder::new(head);
        push_list(&mut query, ids.iter().copied());
        query.push(tail);
        query.build_query_as().fetch_all(&mut *conn).await
    })?)
}

/// The success rules of some task types, each version parsed once.
struct RuleBook {
    /// Per task type, (effective from, version, rule id, rule), latest first.
    versions: BTreeMap<i64, Vec<(i64, i64, i64, Rule)>>,
}

impl RuleBook {
    async fn read(tx: &mut Tx, task_type_ids: &[i64]) -> DbResult<RuleBook> {
        let mut versions: BTreeMap<i64, Vec<(i64, i64, i64, Rule)>> = BTreeMap::new();
        if task_type_ids.is_empty() {
            return Ok(RuleBook { versions });
        }
        let rows: Vec<(i64, i64, i64, i64, String)> = read_by_ids(
            tx,
            "SELECT task_type_id, effective_from, version, id, definition FROM success_rules
             WHERE task_type_id IN (",
            task_type_ids,
            ") ORDER BY task_type_id, effective_from DESC, version DESC",
        )
        .await?;
        for (task_type_id, from, version, id, definition) in rows {
            let rule = Rule::from_json(&definition)
                .map_err(|e| DbError::Corrupt(format!("success rule {id}: {e}")))?;
            versions
                .entry(task_type_id)
                .or_default()
                .push((from, version, id, rule));
        }
        Ok(RuleBook { versions })
    }

    /// The rule in force for a task of `task_type_id` that started at `at`: the latest
    /// effective by then, the highest version among rules effective at the same moment.
    fn in_force(&self, task_type_id: i64, at: i64) -> Option<(i64, &Rule)> {
        self.versions
            .get(&task_type_id)?
            .iter()
            .find(|(from, ..)| *from <= at)
            .map(|(_, _, id, rule)| (*id, rule))
    }
}

/// Rows grouped by the task they belong to, in the order they came.
fn by_task<V>(rows: impl IntoIterator<Item = (i64, V)>) -> BTreeMap<i64, Vec<V>> {
    let mut grouped: BTreeMap<i64, Vec<V>> = BTreeMap::new();
    for (task_id, value) in rows {
        grouped.entry(task_id).or_default().push(value);
    }
    grouped
}

/// An evaluation result as a rule reads it.
#[derive(sqlx::FromRow)]
struct EvaluationRow {
    task_id: i64,
    name: String,
    score: Option<f64>,
    label: Option<String>,
    evaluated_at: i64,
}

fn evaluations_by_task(rows: Vec<EvaluationRow>) -> BTreeMap<i64, Vec<EvaluationResult>> {
    by_task(rows.into_iter().map(|row| {
        (
            row.task_id,
            EvaluationResult {
                name: row.name,
                score: row.score,
                label: row.label,
                evaluated_at: row.evaluated_at,
            },
        )
    }))
}

/// A task's evidence columns as stored.
#[derive(sqlx::FromRow)]
struct StoredEvidence {
    #[sqlx(rename = "reported_status")]
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
        evaluations: Vec<EvaluationResult>,
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
            evaluations,
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

/// A task as trying a draft rule reads it.
#[derive(sqlx::FromRow)]
struct EvidenceRow {
    id: i64,
    external_id: String,
    started_at: i64,
    status: String,
    #[sqlx(flatten)]
    evidence: StoredEvidence,
}

/// Every task of a task type that started in `from..to`, with its evidence, in four reads
/// rather than four per task: what a draft rule is tried on.
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
    let evaluations = "SELECT e.task_id, e.name, e.score, e.label, e.evaluated_at
                       FROM evaluations e JOIN tasks t ON t.id = e.task_id
                       WHERE t.task_type_id = $1 AND t.started_at >= $2 AND t.started_at < $3
                       ORDER BY e.task_id, e.evaluated_at, e.id";
    let evaluation_rows: Vec<EvaluationRow> = on_db!(db, pool => sqlx::query_as(evaluations)
        .bind(task_type_id).bind(from).bind(to).fetch_all(pool).await)?;
    let grades_of = by_task(grade_rows);
    let mut outcomes_of = by_task(outcome_rows.into_iter().map(|(t, k, at)| (t, (k, at))));
    let mut evaluations_of = evaluations_by_task(evaluation_rows);
    rows.into_iter()
        .map(|row| {
            Ok(TaskEvidence {
                id: row.id,
                external_id: row.external_id,
                started_at: row.started_at,
                status: row.status.parse()?,
                evidence: row.evidence.into_evidence(
                    grades_of.get(&row.id).map_or(&[][..], Vec::as_slice),
                    outcomes_of.remove(&row.id).unwrap_or_default(),
                    evaluations_of.remove(&row.id).unwrap_or_default(),
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
        refresh_slices(tx, *workflow_id, *day, *day).await?;
    }
    Ok(touched.len() as u64)
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
