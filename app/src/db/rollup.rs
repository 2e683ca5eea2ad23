//! Daily rollups, kept exact by recomputing each touched (workflow, day) slice from raw rows.
//! Pages read rollups and the spreads kept beside them (buckets of task cost and duration,
//! escalation counts, each day's costliest tasks); drill-downs read raw rows.
//!
//! Each slice has a row in `rollup_dirty` with two counters: `version` goes up with every
//! change to the slice's raw rows, and `refreshed_version` says which version its stored
//! figures reflect. Ingestion only appends a mark to `rollup_marks` in the transaction that
//! changes the rows, so that batches of one slice never wait on one shared row; the background
//! refresh first folds the marks it finds into `version` (one step per slice), then reads each
//! marked slice from a snapshot, outside the writer's turn, and stores its figures unless
//! someone stored newer ones meanwhile. A mark is folded only after its batch committed, so a
//! snapshot that missed a batch is always followed by a higher version and another refresh.
//! Changes that must show at once (re-pricing, a grade, a settled verdict) refresh their slices
//! in their own transaction with [`refresh_slices`].

use super::{Db, DbError, DbResult, Tx, execute, now_ms, on_db, on_tx};
use crate::domain::Micros;
use crate::domain::attribution::CallCost;
use crate::domain::time::MS_PER_DAY;
use crate::model::TaskRollup;
use crate::report::rollup::{
    CacheUse, CallFacts, TaskFacts, TaskUsage, check_countable, rollup_rows, task_usage,
};
use crate::report::spread::{DaySpreads, day_spreads};
use crate::report::steps::DaySteps;

/// One workflow's figures for days `first_day..=last_day`, computed from one consistent read
/// of its raw rows: each task's attributed cost and usage (where it changed), the task and call
/// rollups and the spreads. Cost attribution (components, cache amortisation) is the domain's;
/// this only loads and stores.
pub struct Slice {
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
    /// The first day whose raw calls are kept (see [`super::retention`]): the call-level
    /// figures of earlier days are left as they were stored.
    kept_from_day: i64,
    /// Tasks whose stored cost and usage columns differ from their figures.
    usage: Vec<(i64, UsageColumns)>,
    rollups: Vec<TaskRollup>,
    spreads: DaySpreads,
    steps: DaySteps,
    calls: Vec<CallRollup>,
}

impl Slice {
    /// Reads and computes the slice; `tx` may be a snapshot that only reads.
    pub async fn read(
        tx: &mut Tx,
        workflow_id: i64,
        first_day: i64,
        last_day: i64,
    ) -> DbResult<Slice> {
        let (from, to) = (first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY);
        let kept_from = super::retention::kept_from_ms(tx).await?;
        let (tasks, calls) = load_slice(tx, workflow_id, from, to, kept_from).await?;
        check_countable(&tasks, &calls)?;
        let mut usage = task_usage(&calls)?;
        let stored = stored_usage(tx, workflow_id, from, to).await?;
        // Tasks of sealed days keep the usage they were sealed with: their calls are gone.
        let sealed = |task: &TaskFacts| task.day * MS_PER_DAY < kept_from;
        for task in tasks.iter().filter(|t| sealed(t)) {
            if let Some(columns) = stored.get(&task.id) {
                usage.insert(task.id, columns.usage());
            }
        }
        let none = TaskUsage::default();
        // Most of a busy day's tasks are unchanged by the batches that marked it: skip those.
        let mut changed = Vec::new();
        for task in &tasks {
            let figures = usage_columns(task, usage.get(&task.id).unwrap_or(&none))?;
            if stored.get(&task.id) != Some(&figures) {
                changed.push((task.id, figures));
            }
        }
        let kept_tasks: Vec<TaskFacts> = tasks.iter().filter(|t| !sealed(t)).cloned().collect();
        let kept_from_day = kept_from.div_euclid(MS_PER_DAY).max(first_day);
        Ok(Slice {
            workflow_id,
            first_day,
            last_day,
            kept_from_day,
            usage: changed,
            rollups: rollup_rows(&tasks, &usage)?,
            spreads: day_spreads(&tasks, &usage)?,
            steps: crate::report::steps::day_steps(&kept_tasks, &calls)?,
            calls: computed_call_rollups(tx, workflow_id, from.max(kept_from), to).await?,
        })
    }

    /// Replaces the slice's stored figures with these.
    pub async fn write(&self, tx: &mut Tx) -> DbResult<()> {
        let (workflow_id, first_day, last_day) = (self.workflow_id, self.first_day, self.last_day);
        store_task_usage(tx, &self.usage).await?;
        // Figures of tasks, then figures of calls: those of sealed days stay as they are.
        let tasks = [
            "task_rollups",
            "task_spreads",
            "escalation_counts",
            "costliest_tasks",
            "model_durations",
        ];
        let calls = [
            "call_rollups",
            "step_rollups",
            "prompt_sizes",
            "retrieval_outcomes",
        ];
        let tables = (tasks.iter().map(|t| (t, first_day)))
            .chain(calls.iter().map(|t| (t, self.kept_from_day)));
        for (table, first_day) in tables {
            let delete =
                format!("DELETE FROM {table} WHERE workflow_id = $1 AND day BETWEEN $2 AND $3");
            execute!(
                tx,
                sqlx::query(&delete)
                    .bind(workflow_id)
                    .bind(first_day)
                    .bind(last_day)
            )?;
        }
        for row in &self.rollups {
            insert_task_rollup(tx, row).await?;
        }
        insert_call_rollups(tx, &self.calls).await?;
        insert_steps(tx, workflow_id, &self.steps).await?;
        insert_spreads(tx, workflow_id, &self.spreads).await
    }
}

/// Recomputes one workflow's figures for days `first_day..=last_day` from raw rows in the
/// caller's transaction, for a change whose figures must show as soon as it commits. The
/// slices are stamped first: as refreshed, so that a background refresh that read them before
/// this change cannot store its older figures over these; and first, so that on PostgreSQL a
/// batch storing into them meanwhile waits for this transaction or is seen by it.
pub async fn refresh_slices(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
) -> DbResult<()> {
    let days: Vec<i64> = (first_day..=last_day).collect();
    let at = now_ms();
    for chunk in days.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO rollup_dirty (workflow_id, day, marked_at, version, refreshed_version) ",
            );
            query.push_values(chunk, |mut row, day| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(at)
                    .push_bind(1_i64)
                    .push_bind(1_i64);
            });
            query.push(
                " ON CONFLICT (workflow_id, day) DO UPDATE
                  SET version = rollup_dirty.version + 1,
                      refreshed_version = rollup_dirty.version + 1",
            );
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Slice::read(tx, workflow_id, first_day, last_day)
        .await?
        .write(tx)
        .await
}

/// How many rows one multi-row statement writes.
const ROWS_PER_STATEMENT: usize = 500;

/// Stores one workflow's spreads, the days they cover cleared beforehand.
/// Bucketed rows of one workflow, keyed by (day, name), into `into`: a table and its columns
/// up to the bucket's count (total and largest follow).
async fn insert_buckets(
    tx: &mut Tx,
    into: &str,
    workflow_id: i64,
    rows: &[(i64, String, crate::domain::stats::Bucket)],
) -> DbResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(format!("INSERT INTO {into}, total, largest) "));
            query.push_values(chunk, |mut row, (day, name, bucket)| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(name)
                    .push_bind(bucket.from)
                    .push_bind(bucket.count as i64)
                    .push_bind(bucket.total)
                    .push_bind(bucket.largest);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn insert_steps(tx: &mut Tx, workflow_id: i64, kept: &DaySteps) -> DbResult<()> {
    for chunk in kept.steps.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO step_rollups (workflow_id, day, step, kind, calls, input_tokens,
                     output_tokens, cost_micros, failed_calls, failed_cost_micros) ",
            );
            query.push_values(chunk, |mut row, s| {
                row.push_bind(workflow_id)
                    .push_bind(s.day)
                    .push_bind(&s.step)
                    .push_bind(s.kind.as_str())
                    .push_bind(s.calls)
                    .push_bind(s.input_tokens)
                    .push_bind(s.output_tokens)
                    .push_bind(s.cost_micros)
                    .push_bind(s.failed_calls)
                    .push_bind(s.failed_cost_micros);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    insert_buckets(
        tx,
        "prompt_sizes (workflow_id, day, step, bucket, calls",
        workflow_id,
        &kept.prompt_sizes,
    )
    .await?;
    for chunk in kept.retrievals.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO retrieval_outcomes (workflow_id, day, retrievals, status, tasks,
                     retrieval_tokens) ",
            );
            query.push_values(chunk, |mut row, r| {
                row.push_bind(workflow_id)
                    .push_bind(r.day)
                    .push_bind(r.retrievals)
                    .push_bind(r.status.as_str())
                    .push_bind(r.tasks)
                    .push_bind(r.retrieval_tokens);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn insert_spreads(tx: &mut Tx, workflow_id: i64, kept: &DaySpreads) -> DbResult<()> {
    for chunk in kept.spreads.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO task_spreads (workflow_id, day, measure, bucket, tasks, total, largest) ",
            );
            query.push_values(chunk, |mut row, spread| {
                row.push_bind(workflow_id)
                    .push_bind(spread.day)
                    .push_bind(spread.measure.as_str())
                    .push_bind(spread.bucket.from)
                    .push_bind(spread.bucket.count as i64)
                    .push_bind(spread.bucket.total)
                    .push_bind(spread.bucket.largest);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    for chunk in kept.escalations.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO escalation_counts (workflow_id, day, reason, tasks) ");
            query.push_values(chunk, |mut row, (day, reason, tasks)| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(reason)
                    .push_bind(tasks);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    insert_buckets(
        tx,
        "model_durations (workflow_id, day, model, bucket, tasks",
        workflow_id,
        &kept.model_durations,
    )
    .await?;
    for chunk in kept.costliest.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO costliest_tasks (workflow_id, day, task_id, cost_micros) ");
            query.push_values(chunk, |mut row, (day, task_id, cost)| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(task_id)
                    .push_bind(cost);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// A task's stored cost and usage columns: everything its rollups need once its calls are
/// removed (see [`super::retention`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
struct UsageColumns {
    model_cost_micros: i64,
    tool_cost_micros: i64,
    retry_cost_micros: i64,
    cache_cost_micros: i64,
    attempt_count: i64,
    call_count: i64,
    token_count: i64,
    primary_model: String,
    labour_cost_micros: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_saved_micros: i64,
    cache_unpriced_tokens: i64,
}

impl UsageColumns {
    /// The usage these columns were stored from.
    fn usage(&self) -> TaskUsage {
        TaskUsage {
            cost: crate::domain::cpst::CostBreakdown {
                model: Micros(self.model_cost_micros),
                tool: Micros(self.tool_cost_micros),
                retry: Micros(self.retry_cost_micros),
                cache: Micros(self.cache_cost_micros),
                ..Default::default()
            },
            calls: self.call_count,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_tokens,
            cache: CacheUse {
                saved: Micros(self.cache_saved_micros),
                unpriced_tokens: self.cache_unpriced_tokens,
            },
            primary_model: self.primary_model.clone(),
        }
    }
}

fn usage_columns(task: &TaskFacts, used: &TaskUsage) -> DbResult<UsageColumns> {
    Ok(UsageColumns {
        model_cost_micros: used.cost.model.0,
        tool_cost_micros: used.cost.tool.0,
        retry_cost_micros: used.cost.retry.0,
        cache_cost_micros: used.cost.cache.0,
        attempt_count: task.attempts.max(1),
        call_count: used.calls,
        token_count: used.input_tokens + used.output_tokens,
        primary_model: used.primary_model.clone(),
        labour_cost_micros: task.labour_cost()?.0,
        input_tokens: used.input_tokens,
        output_tokens: used.output_tokens,
        cache_read_tokens: used.cache_read_tokens,
        cache_saved_micros: used.cache.saved.0,
        cache_unpriced_tokens: used.cache.unpriced_tokens,
    })
}

/// The usage columns the slice's tasks have now.
async fn stored_usage(
    tx: &mut Tx,
    workflow_id: i64,
    from: i64,
    to: i64,
) -> DbResult<std::collections::HashMap<i64, UsageColumns>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        #[sqlx(flatten)]
        columns: UsageColumns,
    }
    let sql =
        "SELECT id, model_cost_micros, tool_cost_micros, retry_cost_micros, cache_cost_micros,
                   attempt_count, call_count, token_count, primary_model, labour_cost_micros,
                   input_tokens, output_tokens, cache_read_tokens, cache_saved_micros,
                   cache_unpriced_tokens
               FROM tasks WHERE workflow_id = $1 AND started_at >= $2 AND started_at < $3";
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|row| (row.id, row.columns)).collect())
}

async fn store_task_usage(tx: &mut Tx, changed: &[(i64, UsageColumns)]) -> DbResult<()> {
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "UPDATE tasks SET model_cost_micros = v.column2, tool_cost_micros = v.column3,
                     retry_cost_micros = v.column4, cache_cost_micros = v.column5,
                     attempt_count = v.column6, call_count = v.column7, token_count = v.column8,
                     primary_model = v.column9, labour_cost_micros = v.column10,
                     input_tokens = v.column11, output_tokens = v.column12,
                     cache_read_tokens = v.column13, cache_saved_micros = v.column14,
                     cache_unpriced_tokens = v.column15
                 FROM (",
            );
            query.push_values(chunk, |mut row, (id, figures)| {
                row.push_bind(id)
                    .push_bind(figures.model_cost_micros)
                    .push_bind(figures.tool_cost_micros)
                    .push_bind(figures.retry_cost_micros)
                    .push_bind(figures.cache_cost_micros)
                    .push_bind(figures.attempt_count)
                    .push_bind(figures.call_count)
                    .push_bind(figures.token_count)
                    .push_bind(&figures.primary_model)
                    .push_bind(figures.labour_cost_micros)
                    .push_bind(figures.input_tokens)
                    .push_bind(figures.output_tokens)
                    .push_bind(figures.cache_read_tokens)
                    .push_bind(figures.cache_saved_micros)
                    .push_bind(figures.cache_unpriced_tokens);
            });
            query.push(") AS v WHERE tasks.id = v.column1");
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// Marks slices as behind their raw rows, in the transaction that changed them: rows appended
/// to `rollup_marks`, a few hundred per statement. `slices` are (workflow, day) pairs, `tasks`
/// (workflow, task) pairs whose task's day is read when the mark is folded.
pub async fn mark_dirty(
    tx: &mut Tx,
    slices: &[(i64, i64)],
    tasks: &[(i64, i64)],
    at: i64,
) -> DbResult<()> {
    let marks: Vec<(i64, Option<i64>, Option<i64>)> = slices
        .iter()
        .map(|&(workflow_id, day)| (workflow_id, Some(day), None))
        .chain(
            tasks
                .iter()
                .map(|&(workflow_id, task_id)| (workflow_id, None, Some(task_id))),
        )
        .collect();
    for chunk in marks.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO rollup_marks (workflow_id, day, task_id, marked_at) ",
            );
            query.push_values(chunk, |mut row, (workflow_id, day, task_id)| {
                row.push_bind(workflow_id).push_bind(day).push_bind(task_id).push_bind(at);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// How many marks one fold reads: a fold is one short transaction, repeated until none are left.
const MARKS_PER_FOLD: i64 = 5_000;

/// Folds the marks ingestion appended into `rollup_dirty`: each marked slice's `version` goes
/// up once, then exactly the marks read are deleted (a mark committed meanwhile, even with a
/// lower id, stays for the next fold). Returns how many marks it folded.
pub async fn fold_marks(db: &Db) -> DbResult<u64> {
    let mut folded = 0;
    loop {
        let mut tx = db.begin().await?;
        let sql =
            "SELECT m.id, m.workflow_id, COALESCE(m.day, t.started_at / 86400000), m.marked_at
                   FROM rollup_marks m LEFT JOIN tasks t ON t.id = m.task_id
                   ORDER BY m.id LIMIT $1";
        let marks: Vec<(i64, i64, Option<i64>, i64)> = on_tx!(&mut tx, conn => sqlx::query_as(sql).bind(MARKS_PER_FOLD).fetch_all(conn).await)?;
        if marks.is_empty() {
            return Ok(folded);
        }
        let mut slices: std::collections::BTreeMap<(i64, i64), i64> = Default::default();
        // A task removed since its mark has no day left to refresh.
        for &(_, workflow_id, day, at) in &marks {
            let Some(day) = day else { continue };
            let latest = slices.entry((workflow_id, day)).or_default();
            *latest = (*latest).max(at);
        }
        let slices: Vec<((i64, i64), i64)> = slices.into_iter().collect();
        for chunk in slices.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut tx, conn => {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO rollup_dirty (workflow_id, day, marked_at) ",
                );
                query.push_values(chunk, |mut row, ((workflow_id, day), at)| {
                    row.push_bind(workflow_id).push_bind(day).push_bind(at);
                });
                query.push(
                    " ON CONFLICT (workflow_id, day) DO UPDATE
                      SET version = rollup_dirty.version + 1, marked_at = excluded.marked_at",
                );
                query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
            })?;
        }
        let ids: Vec<i64> = marks.iter().map(|(id, ..)| *id).collect();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut tx, conn => {
                let mut query = sqlx::QueryBuilder::new("DELETE FROM rollup_marks WHERE id IN (");
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
            })?;
        }
        tx.commit().await?;
        folded += marks.len() as u64;
    }
}

/// Recomputes the slices marked when it is called, oldest mark first, each once (see
/// [`Snapshot`]). A slice marked again meanwhile waits for the next call rather than keeping
/// this one going, since under steady ingestion each batch re-marks the day. Returns how many
/// slices it stored figures for.
///
/// One slice's data can never stop the others: a slice whose figures cannot be computed (its
/// sums overflow, or a stored value is invalid) is logged, stamped as failed at its version in
/// `rollup_dirty.failed_version` so that it is not read again until its rows change, and
/// skipped. Only errors of the database itself (unreachable, read-only) end the call early.
pub async fn refresh_all_dirty(db: &Db) -> DbResult<u64> {
    fold_marks(db).await?;
    // One row per (workflow, day): few enough to take all at once.
    let sql = "SELECT workflow_id, day FROM rollup_dirty
               WHERE version > refreshed_version AND version > failed_version ORDER BY marked_at";
    let marked: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
    let mut refreshed = 0;
    for (workflow_id, day) in marked {
        let stored = async { Snapshot::read(db, workflow_id, day).await?.store(db).await }.await;
        match stored {
            Ok(done) => refreshed += u64::from(done),
            Err(err @ (DbError::Unavailable(_) | DbError::ReadOnly(_))) => return Err(err),
            Err(err) => {
                tracing::error!(
                    workflow_id,
                    day,
                    error = %err,
                    "a rollup slice cannot be computed; its figures stay as they were until its data changes"
                );
                mark_failed(db, workflow_id, day).await?;
            }
        }
    }
    Ok(refreshed)
}

/// Stamps a slice's current version as one whose figures could not be computed.
async fn mark_failed(db: &Db, workflow_id: i64, day: i64) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let sql =
        "UPDATE rollup_dirty SET failed_version = version WHERE workflow_id = $1 AND day = $2";
    execute!(&mut tx, sqlx::query(sql).bind(workflow_id).bind(day))?;
    tx.commit().await
}

/// How many slices' latest figures could not be computed: their stored figures are older than
/// their rows. For the health check, which names no workflow.
pub async fn count_failed_slices(db: &Db) -> DbResult<i64> {
    let sql = "SELECT COUNT(*) FROM rollup_dirty
               WHERE failed_version = version AND version > refreshed_version";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?)
}

/// A marked slice as read from a snapshot, beside the batches being stored (a busy day's slice
/// takes a while to read), with the version of the slice the snapshot saw.
pub struct Snapshot {
    workflow_id: i64,
    day: i64,
    version: i64,
    slice: Slice,
}

impl Snapshot {
    pub async fn read(db: &Db, workflow_id: i64, day: i64) -> DbResult<Snapshot> {
        let mut tx = db.begin_snapshot().await?;
        let sql = "SELECT version FROM rollup_dirty WHERE workflow_id = $1 AND day = $2";
        let version: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(sql).bind(workflow_id).bind(day).fetch_optional(conn).await)?;
        let slice = Slice::read(&mut tx, workflow_id, day, day).await?;
        tx.commit().await?;
        Ok(Snapshot {
            workflow_id,
            day,
            version: version.unwrap_or_default(),
            slice,
        })
    }

    /// Stores the figures in a short transaction of their own, stamped with the version they
    /// reflect, unless figures of a later version were stored meanwhile. Whether it stored.
    pub async fn store(self, db: &Db) -> DbResult<bool> {
        let mut tx = db.begin().await?;
        self.slice.write(&mut tx).await?;
        // Last, so that on PostgreSQL the stamp's row lock is taken after the tasks' (as a
        // batch takes them); the transaction is dropped, undoing the writes, if it is stale.
        let stamp = "UPDATE rollup_dirty SET refreshed_version = $3
                     WHERE workflow_id = $1 AND day = $2 AND refreshed_version < $3";
        let stamped = execute!(
            &mut tx,
            sqlx::query(stamp)
                .bind(self.workflow_id)
                .bind(self.day)
                .bind(self.version)
        )?;
        if stamped == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Rebuilds every rollup from raw rows when tasks exist but rollups do not (after a migration
/// that reshaped them). Returns whether it rebuilt.
pub async fn rebuild_if_missing(db: &Db) -> DbResult<bool> {
    let sql = "SELECT (SELECT COUNT(*) FROM tasks) > 0 AND (SELECT COUNT(*) FROM task_rollups) = 0";
    let missing: bool = on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?;
    if !missing {
        return Ok(false);
    }
    let spans = "SELECT workflow_id, MIN(started_at) / 86400000, MAX(started_at) / 86400000 FROM tasks GROUP BY workflow_id";
    let spans: Vec<(i64, i64, i64)> =
        on_db!(db, pool => sqlx::query_as(spans).fetch_all(pool).await)?;
    for (workflow_id, first_day, last_day) in spans {
        let mut tx = db.begin().await?;
        refresh_slices(&mut tx, workflow_id, first_day, last_day).await?;
        tx.commit().await?;
    }
    Ok(true)
}

type TaskRow = (
    i64,
    i64,
    i64,
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
type CallRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
);

/// The tasks that started in `[from, to)` and the calls of those that started at or after
/// `calls_from` (the calls of earlier days are removed under the retention setting).
pub async fn load_slice(
    tx: &mut Tx,
    workflow_id: i64,
    from: i64,
    to: i64,
    calls_from: i64,
) -> DbResult<(Vec<TaskFacts>, Vec<CallFacts>)> {
    let tasks_sql = "
        SELECT t.id, t.started_at / 86400000, t.team_id, COALESCE(t.task_type_id, 0), t.segment,
            COALESCE(t.config_version_id, 0), t.status,
            CAST(t.review_seconds + COALESCE((SELECT SUM(g.review_seconds) FROM grades g WHERE g.task_id = t.id), 0) AS BIGINT),
            COALESCE(t.finished_at - t.started_at, 0),
            (SELECT COUNT(*) FROM attempts a WHERE a.task_id = t.id),
            tm.labour_rate_micros_per_hour, t.escalation_reason
        FROM tasks t
        JOIN teams tm ON tm.id = t.team_id
        WHERE t.workflow_id = $1 AND t.started_at >= $2 AND t.started_at < $3";
    let rows: Vec<TaskRow> = on_tx!(tx, conn => sqlx::query_as(tasks_sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    let mut tasks = Vec::with_capacity(rows.len());
    for (
        id,
        day,
        team_id,
        task_type_id,
        segment,
        config_version_id,
        status,
        review_seconds,
        duration_ms,
        attempts,
        rate,
        escalation_reason,
    ) in rows
    {
        let status = status.parse()?;
        tasks.push(TaskFacts {
            id,
            day,
            workflow_id,
            team_id,
            task_type_id,
            segment,
            config_version_id,
            status,
            review_seconds,
            labour_rate: Micros(rate),
            duration_ms,
            attempts,
            escalation_reason,
        });
    }
    // A call's cache pool is its task's start day, not its own: see `domain::attribution`.
    let calls_sql = "
        SELECT c.task_id, COALESCE(a.number, 1), c.kind, c.provider, c.model, t.started_at / 86400000,
            c.cost_micros, c.cache_read_cost_micros, c.cache_write_cost_micros, c.cache_read_tokens,
            c.input_tokens, c.output_tokens, c.cache_write_tokens, p.input_micros_per_mtok, c.step
        FROM calls c
        JOIN tasks t ON t.id = c.task_id
        LEFT JOIN attempts a ON a.id = c.attempt_id
        LEFT JOIN prices p ON p.id = c.price_id
        WHERE t.workflow_id = $1 AND t.started_at >= $2 AND t.started_at < $3
        ORDER BY c.id";
    let from_calls = from.max(calls_from);
    let rows: Vec<CallRow> = on_tx!(tx, conn => sqlx::query_as(calls_sql).bind(workflow_id).bind(from_calls).bind(to).fetch_all(conn).await)?;
    let mut calls = Vec::with_capacity(rows.len());
    for (
        task_id,
        attempt_number,
        kind,
        provider,
        model,
        day,
        cost,
        read,
        write,
        read_tokens,
        input,
        output,
        write_tokens,
        input_rate,
        step,
    ) in rows
    {
        let kind = kind.parse()?;
        let cache = CacheUse::new(
            read_tokens.saturating_add(write_tokens),
            Micros(read).checked_add(Micros(write))?,
            input_rate,
        )?;
        calls.push(CallFacts {
            cost: CallCost {
                task_id,
                attempt_number,
                kind,
                pool: (provider, model, day),
                cost: Micros(cost),
                cache_read_cost: Micros(read),
                cache_write_cost: Micros(write),
                cache_read_tokens: read_tokens,
            },
            input_tokens: input,
            output_tokens: output,
            cache,
            step,
        });
    }
    Ok((tasks, calls))
}

async fn insert_task_rollup(tx: &mut Tx, row: &TaskRollup) -> DbResult<()> {
    let sql = "INSERT INTO task_rollups (day, workflow_id, team_id, task_type_id, segment, config_version_id,
            model, status, tasks, first_attempt_tasks, within_three_tasks, attempts, calls, input_tokens,
            output_tokens, cache_read_tokens, model_cost_micros, tool_cost_micros, retry_cost_micros,
            cache_cost_micros, labour_cost_micros, review_seconds, duration_ms, cache_saved_micros,
            cache_unpriced_tokens)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(row.day)
            .bind(row.workflow_id)
            .bind(row.team_id)
            .bind(row.task_type_id)
            .bind(&row.segment)
            .bind(row.config_version_id)
            .bind(&row.model)
            .bind(row.status.as_str())
            .bind(row.tasks)
            .bind(row.first_attempt_tasks)
            .bind(row.within_three_tasks)
            .bind(row.attempts)
            .bind(row.calls)
            .bind(row.input_tokens)
            .bind(row.output_tokens)
            .bind(row.cache_read_tokens)
            .bind(row.model_cost_micros)
            .bind(row.tool_cost_micros)
            .bind(row.retry_cost_micros)
            .bind(row.cache_cost_micros)
            .bind(row.labour_cost_micros)
            .bind(row.review_seconds)
            .bind(row.duration_ms)
            .bind(row.cache_saved_micros)
            .bind(row.cache_unpriced_tokens)
    )?;
    Ok(())
}

/// The per-model call rollups of one workflow's calls that started in `[from, to)`.
async fn computed_call_rollups(
    tx: &mut Tx,
    workflow_id: i64,
    from: i64,
    to: i64,
) -> DbResult<Vec<CallRollup>> {
    let sql = "
        SELECT c.started_at / 86400000 AS day, c.workflow_id, c.provider, c.model, c.step,
            COUNT(*) AS calls,
            CAST(SUM(CASE WHEN c.status = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS errors,
            CAST(SUM(c.input_tokens) AS BIGINT) AS input_tokens,
            CAST(SUM(c.output_tokens) AS BIGINT) AS output_tokens,
            CAST(SUM(c.cost_micros) AS BIGINT) AS cost_micros,
            CAST(SUM(c.latency_ms) AS BIGINT) AS latency_ms,
            CAST(SUM(c.cache_read_tokens) AS BIGINT) AS cache_read_tokens,
            CAST(SUM(c.cache_write_tokens) AS BIGINT) AS cache_write_tokens,
            CAST(SUM(CASE WHEN c.cost_source = 'reported' THEN c.cost_micros ELSE 0 END) AS BIGINT)
                AS reported_cost_micros,
            CAST(SUM(CASE WHEN c.kind = 'model' AND a.number = 1 THEN 1 ELSE 0 END) AS BIGINT)
                AS first_attempt_model_calls
        FROM calls c LEFT JOIN attempts a ON a.id = c.attempt_id
        WHERE c.workflow_id = $1 AND c.started_at >= $2 AND c.started_at < $3
        GROUP BY c.started_at / 86400000, c.workflow_id, c.provider, c.model, c.step";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?,
    )
}

async fn insert_call_rollups(tx: &mut Tx, rows: &[CallRollup]) -> DbResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO call_rollups (day, workflow_id, provider, model, step, calls, errors,
                     input_tokens, output_tokens, cost_micros, latency_ms, cache_read_tokens,
                     cache_write_tokens, reported_cost_micros, first_attempt_model_calls) ",
            );
            query.push_values(chunk, |mut row, r| {
                row.push_bind(r.day)
                    .push_bind(r.workflow_id)
                    .push_bind(&r.provider)
                    .push_bind(&r.model)
                    .push_bind(&r.step)
                    .push_bind(r.calls)
                    .push_bind(r.errors)
                    .push_bind(r.input_tokens)
                    .push_bind(r.output_tokens)
                    .push_bind(r.cost_micros)
                    .push_bind(r.latency_ms)
                    .push_bind(r.cache_read_tokens)
                    .push_bind(r.cache_write_tokens)
                    .push_bind(r.reported_cost_micros)
                    .push_bind(r.first_attempt_model_calls);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// Task rollups for days `first_day..=last_day`, optionally of one workflow.
pub async fn task_rollups(
    db: &Db,
    first_day: i64,
    last_day: i64,
    workflow_id: Option<i64>,
) -> DbResult<Vec<TaskRollup>> {
    let sql = "SELECT * FROM task_rollups
               WHERE day BETWEEN $1 AND $2 AND ($3 IS NULL OR workflow_id = $3)
               ORDER BY day, workflow_id";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).bind(workflow_id).fetch_all(pool).await)?,
    )
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CallRollup {
    pub day: i64,
    pub workflow_id: i64,
    pub provider: String,
    pub model: String,
    pub step: String,
    pub calls: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
    pub latency_ms: i64,
    /// Cache tokens, inside `input_tokens`.
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// The part of `cost_micros` senders reported rather than Finishline priced.
    pub reported_cost_micros: i64,
    /// Model calls of first attempts: the model mix a configuration change moves.
    pub first_attempt_model_calls: i64,
}

pub async fn call_rollups(
    db: &Db,
    first_day: i64,
    last_day: i64,
    workflow_id: Option<i64>,
) -> DbResult<Vec<CallRollup>> {
    let sql = "SELECT * FROM call_rollups
               WHERE day BETWEEN $1 AND $2 AND ($3 IS NULL OR workflow_id = $3)
               ORDER BY day, workflow_id";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).bind(workflow_id).fetch_all(pool).await)?,
    )
}
