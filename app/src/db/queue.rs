//! The review queue: sampled and forced tasks waiting for a human grade.

use super::{Db, DbResult, Tx, execute, on_db, on_tx, push_list};
use crate::domain::sampling::{Sample, SamplingPlan, decide};
use crate::domain::status::QueueReason;
use crate::domain::time::MS_PER_DAY;
use crate::model::{QueueItem, Workflow};

/// Queues a task for grading in `slot` (1, or 2 for a second grader); a no-op if already queued.
pub async fn enqueue(
    tx: &mut Tx,
    task_id: i64,
    slot: i64,
    reason: QueueReason,
    at: i64,
) -> DbResult<bool> {
    // The item carries its task's stratum as of now, which sampling counts by.
    let sql = "INSERT INTO review_queue (task_id, slot, reason, enqueued_at, workflow_id, task_type_id, segment)
               SELECT t.id, $2, $3, $4, t.workflow_id, COALESCE(t.task_type_id, 0), t.segment
               FROM tasks t WHERE t.id = $1
               ON CONFLICT (task_id, slot) DO NOTHING";
    let done = execute!(
        tx,
        sqlx::query(sql)
            .bind(task_id)
            .bind(slot)
            .bind(reason.as_str())
            .bind(at)
    )?;
    Ok(done == 1)
}

/// Marks a task's queue slot as graded.
pub async fn mark_done(
    tx: &mut Tx,
    task_id: i64,
    slot: i64,
    reviewer_id: Option<i64>,
    at: i64,
) -> DbResult<()> {
    let sql = "UPDATE review_queue SET done_at = $1, claimed_by = COALESCE(claimed_by, $2)
               WHERE task_id = $3 AND slot = $4";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(at)
            .bind(reviewer_id)
            .bind(task_id)
            .bind(slot)
    )?;
    Ok(())
}

pub async fn list_task_queue_items(db: &Db, task_id: i64) -> DbResult<Vec<QueueItem>> {
    let sql = "SELECT * FROM review_queue WHERE task_id = $1 ORDER BY slot";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

pub async fn count_waiting(db: &Db) -> DbResult<i64> {
    let sql = "SELECT COUNT(*) FROM review_queue WHERE done_at IS NULL";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?)
}

/// How long a claimed item stays with its reviewer before someone else may take it.
pub const CLAIM_MS: i64 = 15 * 60 * 1000;

/// Tasks of one stratum (workflow, task type, segment) sampled since `since`.
pub async fn sampled_in_stratum(
    tx: &mut Tx,
    workflow_id: i64,
    task_type_id: Option<i64>,
    segment: &str,
    since: i64,
) -> DbResult<u64> {
    // One range of the stratum index (migration 0027), whatever the window holds elsewhere.
    let sql = "SELECT COUNT(*) FROM review_queue
               WHERE workflow_id = $2 AND task_type_id = $3 AND segment = $4
                 AND slot = 1 AND reason = 'sampled' AND enqueued_at >= $1";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(since)
        .bind(workflow_id)
        .bind(task_type_id.unwrap_or(0))
        .bind(segment)
        .fetch_one(conn)
        .await)?;
    Ok(count.max(0) as u64)
}

/// The open items reviewer `$1` may take at claim cutoff `$3`: in a workflow of their teams
/// (or any, with `$2`), not held by someone else, of a task they have not graded, passed on or
/// claimed in its other slot.
const CLAIMABLE: &str = "FROM review_queue q
    JOIN tasks t ON t.id = q.task_id
    JOIN workflows w ON w.id = t.workflow_id
    WHERE q.done_at IS NULL
      AND ($2 OR w.team_id IN (SELECT team_id FROM user_teams WHERE user_id = $1))
      AND (q.claimed_by IS NULL OR q.claimed_by = $1 OR q.claimed_at < $3)
      AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.task_id = q.task_id AND g.reviewer_id = $1)
      AND NOT EXISTS (SELECT 1 FROM review_queue o
                      WHERE o.task_id = q.task_id AND o.id <> q.id AND o.claimed_by = $1)
      AND NOT EXISTS (SELECT 1 FROM review_skips s JOIN review_queue k ON k.id = s.queue_item_id
                      WHERE k.task_id = q.task_id AND s.user_id = $1)";

/// How many items [`claim_next`] could give `reviewer_id` now (their own claim included).
pub async fn count_claimable(
    db: &Db,
    reviewer_id: i64,
    all_teams: bool,
    now: i64,
) -> DbResult<i64> {
    let sql = format!("SELECT COUNT(*) {CLAIMABLE}");
    Ok(on_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(reviewer_id)
        .bind(all_teams)
        .bind(now - CLAIM_MS)
        .fetch_one(pool)
        .await)?)
}

/// Claims the next item `reviewer_id` may grade: open, not held by someone else, of a task
/// they have not graded, passed on or claimed in another slot, in a workflow of their teams
/// (or any workflow with `all_teams`). Their own unfinished claim comes back first.
pub async fn claim_next(
    db: &Db,
    reviewer_id: i64,
    all_teams: bool,
    now: i64,
) -> DbResult<Option<QueueItem>> {
    let pick = format!(
        "SELECT q.* {CLAIMABLE}
         ORDER BY CASE WHEN q.claimed_by = $1 THEN 0 ELSE 1 END, q.slot, q.enqueued_at, q.id
         LIMIT 1"
    );
    let claim = "UPDATE review_queue SET claimed_by = $1, claimed_at = $2
                 WHERE id = $3 AND done_at IS NULL
                   AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_at < $4)";
    // Another reviewer may take the picked item between the two statements; pick again then.
    for _ in 0..8 {
        let mut tx = db.begin().await?;
        let item: Option<QueueItem> = on_tx!(&mut tx, conn => sqlx::query_as(&pick)
            .bind(reviewer_id)
            .bind(all_teams)
            .bind(now - CLAIM_MS)
            .fetch_optional(conn)
            .await)?;
        let Some(mut item) = item else {
            return Ok(None);
        };
        let done = execute!(
            &mut tx,
            sqlx::query(claim)
                .bind(reviewer_id)
                .bind(now)
                .bind(item.id)
                .bind(now - CLAIM_MS)
        )?;
        tx.commit().await?;
        if done == 1 {
            item.claimed_by = Some(reviewer_id);
            item.claimed_at = Some(now);
            return Ok(Some(item));
        }
    }
    Ok(None)
}

pub async fn get_item(db: &Db, id: i64) -> DbResult<Option<QueueItem>> {
    let sql = "SELECT * FROM review_queue WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// Records that a reviewer passed on an item and lets it go to someone else.
pub async fn skip(tx: &mut Tx, item_id: i64, user_id: i64, at: i64) -> DbResult<()> {
    let sql = "INSERT INTO review_skips (queue_item_id, user_id, skipped_at) VALUES ($1, $2, $3)
               ON CONFLICT (queue_item_id, user_id) DO NOTHING";
    execute!(tx, sqlx::query(sql).bind(item_id).bind(user_id).bind(at))?;
    let sql = "UPDATE review_queue SET claimed_by = NULL, claimed_at = NULL
               WHERE id = $1 AND claimed_by = $2 AND done_at IS NULL";
    execute!(tx, sqlx::query(sql).bind(item_id).bind(user_id))?;
    Ok(())
}

/// Whether `user_id` passed on task `task_id`, in any of its queue slots.
pub async fn passed_on(tx: &mut Tx, task_id: i64, user_id: i64) -> DbResult<bool> {
    let sql = "SELECT COUNT(*) FROM review_skips s JOIN review_queue k ON k.id = s.queue_item_id
               WHERE k.task_id = $1 AND s.user_id = $2";
    let skips: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(task_id).bind(user_id).fetch_one(conn).await)?;
    Ok(skips > 0)
}

/// Open items per workflow: (workflow, waiting, of which claimed by someone now).
pub async fn waiting_by_workflow(db: &Db, now: i64) -> DbResult<Vec<(i64, i64, i64)>> {
    // Each item carries its task's workflow (migration 0027): no task is read.
    let sql = "SELECT q.workflow_id, COUNT(*),
                   SUM(CASE WHEN q.claimed_at >= $1 THEN 1 ELSE 0 END)
               FROM review_queue q
               WHERE q.done_at IS NULL GROUP BY q.workflow_id";
    let rows: Vec<(i64, i64, Option<i64>)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(now - CLAIM_MS).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(w, n, claimed)| (w, n, claimed.unwrap_or(0)))
        .collect())
}

/// How many tasks of a task type whose second grade came in a period had this first and this
/// second verdict: agreement is measured on these pairs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct PairCount {
    pub task_type_id: i64,
    pub first: String,
    pub second: String,
    pub pairs: i64,
}

/// A task whose second grade disagreed with its first: when the second came, and its type.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Disagreeing {
    pub task_id: i64,
    pub task_type_id: i64,
    pub paired_at: i64,
}

/// What a pair is, for every statement that reads them: a workflow's (`$1`) second grades since
/// `$2` as `s`, each with its task's first grade as `f`.
macro_rules! pairs_since {
    () => {
        "FROM grades s JOIN grades f ON f.task_id = s.task_id AND f.nth = 1
         WHERE s.workflow_id = $1 AND s.graded_at >= $2 AND s.nth = 2"
    };
}

/// The pairs of a workflow's tasks whose second grade came since `since` (each task's first two
/// grades by time), counted by task type and verdicts. The second grades are one range of the
/// workflow's grades, each joined with its task's first grade (each grade knows its rank,
/// migration 0029): no task is read, and a few rows come back however many pairs there are.
pub async fn pair_counts(db: &Db, workflow_id: i64, since: i64) -> DbResult<Vec<PairCount>> {
    let sql = concat!(
        "SELECT s.task_type_id, f.verdict AS first, s.verdict AS second, COUNT(*) AS pairs ",
        pairs_since!(),
        " GROUP BY s.task_type_id, f.verdict, s.verdict
          ORDER BY s.task_type_id, f.verdict, s.verdict"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(since).fetch_all(pool).await)?)
}

/// The `limit` latest pairs of [`pair_counts`] whose verdicts differ, the latest first.
pub async fn latest_disagreements(
    db: &Db,
    workflow_id: i64,
    since: i64,
    limit: i64,
) -> DbResult<Vec<Disagreeing>> {
    let sql = concat!(
        "SELECT s.task_id, s.task_type_id, s.graded_at AS paired_at ",
        pairs_since!(),
        " AND f.verdict <> s.verdict
          ORDER BY s.graded_at DESC, s.task_id DESC LIMIT $3"
    );
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(since).bind(limit).fetch_all(pool).await)?,
    )
}

/// One of the two grades of a pair, as the list of disagreements shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GradeLine {
    pub task_id: i64,
    pub task_external_id: String,
    pub grader: String,
    pub verdict: String,
    pub note: String,
}

/// The first two grades of each of `task_ids` (a page's worth), by task then oldest first, with
/// the task's sender id.
pub async fn pair_grades(db: &Db, task_ids: &[i64]) -> DbResult<Vec<GradeLine>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let head = "SELECT g.task_id, t.external_id AS task_external_id, g.grader, g.verdict, g.note
                FROM grades g JOIN tasks t ON t.id = g.task_id
                WHERE g.nth IN (1, 2) AND g.task_id IN (";
    Ok(on_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(head);
        push_list(&mut query, task_ids.iter().copied());
        query.push(") ORDER BY g.task_id, g.nth");
        query.build_query_as().fetch_all(pool).await
    })?)
}

/// A workflow's grading, summed by the database rather than read grade by grade: how many
/// grades each day from `days_from` on, the median review seconds of the grades since
/// `seconds_from`, and per task type how many tasks had their first grade since `since` and how
/// many of those pass.
pub struct GradingSummary {
    pub per_day: Vec<(i64, i64)>,
    pub median_seconds: Option<i64>,
    pub first_grades: Vec<(i64, i64, i64)>,
}

/// Each statement reads the workflow's grades of its period, one range of an index that holds
/// every column they need (migrations 0028 and 0029).
pub async fn grading_summary(
    db: &Db,
    workflow_id: i64,
    since: i64,
    days_from: i64,
    seconds_from: i64,
) -> DbResult<GradingSummary> {
    let per_day = "SELECT graded_at / 86400000 AS day, COUNT(*) FROM grades
                   WHERE workflow_id = $1 AND graded_at >= $2
                   GROUP BY graded_at / 86400000 ORDER BY day";
    let per_day: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(per_day).bind(workflow_id).bind(days_from).fetch_all(pool).await)?;
    let count = "SELECT COUNT(*) FROM grades WHERE workflow_id = $1 AND graded_at >= $2";
    let graded: i64 = on_db!(db, pool => sqlx::query_scalar(count).bind(workflow_id).bind(seconds_from).fetch_one(pool).await)?;
    // The nearest-rank median: the value at rank ceil(n / 2), as `stats::nearest_rank` takes it.
    let median_seconds = match graded {
        0 => None,
        n => {
            let nth = "SELECT review_seconds FROM grades WHERE workflow_id = $1 AND graded_at >= $2
                       ORDER BY review_seconds LIMIT 1 OFFSET $3";
            let rank = (n + 1) / 2;
            Some(
                on_db!(db, pool => sqlx::query_scalar(nth).bind(workflow_id).bind(seconds_from).bind(rank - 1).fetch_one(pool).await)?,
            )
        }
    };
    let first = "SELECT task_type_id, COUNT(*),
                        CAST(SUM(CASE WHEN verdict = 'pass' THEN 1 ELSE 0 END) AS BIGINT)
                 FROM grades WHERE workflow_id = $1 AND graded_at >= $2 AND nth = 1
                 GROUP BY task_type_id";
    let first_grades: Vec<(i64, i64, i64)> = on_db!(db, pool => sqlx::query_as(first).bind(workflow_id).bind(since).fetch_all(pool).await)?;
    Ok(GradingSummary {
        per_day,
        median_seconds,
        first_grades,
    })
}

/// Queues a workflow's finished tasks that started since `since` and match the filter (an
/// escalation reason, a status), as forced items; returns how many were newly queued.
pub async fn force_add(
    tx: &mut Tx,
    workflow_id: i64,
    since: i64,
    escalation_reason: Option<&str>,
    status: Option<&str>,
    at: i64,
) -> DbResult<u64> {
    let sql = "INSERT INTO review_queue (task_id, slot, reason, enqueued_at, workflow_id, task_type_id, segment)
               SELECT t.id, 1, 'forced', $1, t.workflow_id, COALESCE(t.task_type_id, 0), t.segment
               FROM tasks t
               WHERE t.workflow_id = $2 AND t.started_at >= $3 AND t.finished_at IS NOT NULL
                 AND ($4 IS NULL OR t.escalation_reason = $4)
                 AND ($5 IS NULL OR t.status = $5)
               ON CONFLICT (task_id, slot) DO NOTHING";
    Ok(execute!(
        tx,
        sqlx::query(sql)
            .bind(at)
            .bind(workflow_id)
            .bind(since)
            .bind(escalation_reason)
            .bind(status)
    )?)
}

/// A task that has just finished, as sampling sees it.
pub struct Finished<'a> {
    pub task_id: i64,
    pub external_id: &'a str,
    pub task_type_id: Option<i64>,
    pub segment: &'a str,
}

/// Decides, once, whether a task that has just finished is graded, and queues it (and its
/// second-grader slot) if so. Called when a task is first stored finished, or first finishes.
pub async fn sample_on_finish(
    tx: &mut Tx,
    workflow: &Workflow,
    task: &Finished<'_>,
    now: i64,
) -> DbResult<Option<Sample>> {
    let plan = SamplingPlan {
        rate_bp: workflow.review_sampling_bp,
        second_grader_bp: workflow.second_grader_bp,
    };
    if plan.rate_bp <= 0 {
        return Ok(None);
    }
    let since = sampling_window_start(workflow, now);
    let taken = sampled_in_stratum(tx, workflow.id, task.task_type_id, task.segment, since).await?;
    sample_given(tx, workflow, task, taken, now).await
}

/// Where the window a stratum's sample is counted over starts, for a task finishing at `now`.
pub fn sampling_window_start(workflow: &Workflow, now: i64) -> i64 {
    now - workflow.gate_window_days * MS_PER_DAY
}

/// [`sample_on_finish`] for a caller that already knows how many tasks of the stratum were
/// sampled in the window (`taken`), as ingestion does for the tasks of one batch.
pub async fn sample_given(
    tx: &mut Tx,
    workflow: &Workflow,
    task: &Finished<'_>,
    taken: u64,
    now: i64,
) -> DbResult<Option<Sample>> {
    let plan = SamplingPlan {
        rate_bp: workflow.review_sampling_bp,
        second_grader_bp: workflow.second_grader_bp,
    };
    let Some(sample) = decide(task.external_id, plan, taken) else {
        return Ok(None);
    };
    enqueue(tx, task.task_id, 1, QueueReason::Sampled, now).await?;
    if sample.second_grader {
        enqueue(tx, task.task_id, 2, QueueReason::SecondGrader, now).await?;
    }
    Ok(Some(sample))
}
