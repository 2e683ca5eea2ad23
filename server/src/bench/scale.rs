//! Page timings at scale: the pages a reader opens most, timed over a generated dataset at several
//! sizes (by default about 100,000, 500,000, 1,000,000 and 2,000,000 tasks over 90 days, five
//! calls a task; the database's size on disk at each, to show how both grow) on
//! SQLite and, when a PostgreSQL URL is given, on PostgreSQL.
//!
//! Generating a million tasks one ingestion call at a time would take longer than the bench
//! may. So the demo dataset is loaded once into SQLite at a base size, each of its calls is
//! repeated once in two of three cases (a step run again in the same attempt, which brings it
//! to about five calls a task), and the base is moved into PostgreSQL with `COPY`. On each
//! backend the whole base is then copied inside the database (`INSERT ... SELECT` with fresh
//! ids and suffixed external ids, secondary indexes built once afterwards) until it reaches
//! each size. Costs, verdicts and rollups are then recomputed by Finishline's own rollup
//! refresh on that backend, as after any batch, so every page reads figures the product
//! computed and not ones this module made up.

use super::bulk;
use super::{
    finishline, load_times, peak_rss_mib, sample_anonymous_memory, sign_in, sign_in_reader,
    start_server, tempfile_dir,
};
use crate::demo::{self, DemoSpec};
use anyhow::{Context, bail};
use app::db::{Db, Tx, execute, on_db, on_tx, rollup};
use app::domain::time::{MS_PER_DAY, day_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What to generate and where.
pub struct ScaleSpec {
    /// Demo tasks generated before copying (the demo stores about 93% of them).
    pub base_tasks: u64,
    /// How many copies of the base each timed size holds, smallest first.
    pub copies: Vec<u64>,
    /// A PostgreSQL server to time the same pages against (a database is created and dropped).
    pub postgres_url: Option<String>,
    /// Keep the generated databases and print where they are, to look into a figure.
    pub keep: bool,
}

/// The pages the scale phase times; `{task}` is replaced by a task id of the dataset.
const PAGES: [(&str, &str); 6] = [
    ("finance overview, 30 days", "/"),
    ("finance overview, 90 days", "/?days=90"),
    (
        "workflow unit economics and health",
        "/workflows/support-triage",
    ),
    (
        "task list, one workflow, failed",
        "/tasks?workflow=support-triage&status=failed",
    ),
    (
        "task list, every workflow, costliest",
        "/tasks?sort=costliest",
    ),
    ("task trace", "/tasks/{task}"),
];

/// The tables copied with the tasks, in the order their references need.
const COPIED: [&str; 6] = [
    "tasks",
    "attempts",
    "calls",
    "outcome_events",
    "grades",
    "review_queue",
];

pub async fn run(spec: &ScaleSpec) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let sqlite = format!("sqlite://{}", dir.join("scale.db").display());
    let result = build_and_time(spec, &sqlite).await;
    if spec.keep {
        println!("Kept: {sqlite}");
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
    result
}

/// Generates the base on SQLite, moves it into a new PostgreSQL database when one is wanted,
/// then grows and times each backend in turn.
async fn build_and_time(spec: &ScaleSpec, sqlite_url: &str) -> anyhow::Result<()> {
    let sqlite = Db::connect(sqlite_url).await?;
    sqlite.migrate().await?;
    let end_day = day_of(app::db::now_ms());
    generate_base(&sqlite, spec.base_tasks, end_day).await?;
    let postgres = match &spec.postgres_url {
        Some(admin) => Some(ThrowAway::create(admin, "").await?),
        None => None,
    };
    let mut result = Ok(());
    if let Some(postgres) = &postgres {
        let started = Instant::now();
        result = bulk::transfer(&sqlite, &postgres.db).await.map(|rows| {
            println!(
                "postgres: the same base moved over with COPY ({rows} rows) in {:.0} s",
                started.elapsed().as_secs_f64()
            )
        });
    }
    if result.is_ok() {
        result = grow_and_time(spec, &sqlite, sqlite_url, end_day).await;
    }
    sqlite.close().await;
    if let Some(postgres) = postgres {
        if result.is_ok() {
            result = grow_and_time(spec, &postgres.db, &postgres.url, end_day).await;
        }
        postgres.finish(spec.keep).await?;
    }
    result
}

/// A PostgreSQL database created for one bench run on the server `--postgres-url` names.
pub(super) struct ThrowAway {
    server: sqlx::PgPool,
    name: String,
    pub(super) url: String,
    pub(super) db: Db,
}

impl ThrowAway {
    pub(super) async fn create(admin: &str, suffix: &str) -> anyhow::Result<ThrowAway> {
        let name = format!("finishline_bench_{}{suffix}", std::process::id());
        let url = database_url(admin, &name)?;
        let Db::Postgres(server) = Db::connect(admin)
            .await
            .context("connecting to PostgreSQL")?
        else {
            bail!("--postgres-url must name a PostgreSQL server");
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&server)
            .await?;
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(ThrowAway {
            server,
            name,
            url,
            db,
        })
    }

    /// Drops the database, or keeps it and says where it is.
    pub(super) async fn finish(self, keep: bool) -> anyhow::Result<()> {
        self.db.close().await;
        if keep {
            println!("Kept: {}", self.url);
        } else {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            sqlx::query(&sql).execute(&self.server).await?;
        }
        self.server.close().await;
        Ok(())
    }
}

/// `url` with its database name replaced by `name`.
fn database_url(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let Some((server, _)) = base.rsplit_once('/').filter(|(s, _)| s.contains("//")) else {
        bail!("a PostgreSQL URL needs a database name: {url}");
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    Ok(format!("{server}/{name}{query}"))
}

/// The demo dataset at `tasks`, two in three of its calls repeated.
async fn generate_base(db: &Db, tasks: u64, end_day: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    let demo = demo::load(
        db,
        &DemoSpec {
            seed: 11,
            tasks,
            end_day,
        },
    )
    .await?;
    repeat_calls(db).await?;
    let (tasks, calls) = counts(db).await?;
    println!(
        "base of {tasks} tasks and {calls} calls generated on sqlite in {:.0} s ({} demo calls, two in three repeated)",
        started.elapsed().as_secs_f64(),
        demo.calls
    );
    Ok(())
}

/// Grows the base on one backend to each size, rolls it up, and times the pages.
async fn grow_and_time(spec: &ScaleSpec, db: &Db, url: &str, end_day: i64) -> anyhow::Result<()> {
    let backend = db.backend().name();
    let base = Base::measure(db).await?;
    let mut held = 1;
    for &copies in &spec.copies {
        let started = Instant::now();
        if held < copies {
            let mut tx = db.begin().await?;
            bulk::bulk_session(&mut tx).await?;
            bulk::trust_references(&mut tx).await?;
            let set_aside = bulk::SetAside::drop(&mut tx, &COPIED).await?;
            for copy in held..copies {
                base.copy(&mut tx, copy).await?;
            }
            set_aside.restore(&mut tx).await?;
            tx.commit().await?;
            held = copies;
        }
        let copied = started.elapsed();
        refresh(db, end_day).await?;
        bulk::settle(db).await?;
        let (tasks, calls) = counts(db).await?;
        let disk = bulk::used_bytes(db, false).await?;
        println!(
            "{backend}, {tasks} tasks and {calls} calls over {} days (copied in {:.0} s, rolled up in {:.0} s), {:.0} MB on disk ({:.0} bytes per call):",
            demo::DAYS,
            copied.as_secs_f64(),
            (started.elapsed() - copied).as_secs_f64(),
            disk as f64 / 1e6,
            disk as f64 / calls.max(1) as f64,
        );
        time_pages(db, url).await?;
        time_alert_pass(db).await?;
    }
    Ok(())
}

/// Times the alert pass (every rule evaluated once) with every condition on every workflow
/// and a spend budget per team: median and slowest of five passes, against the one-second goal.
async fn time_alert_pass(db: &Db) -> anyhow::Result<()> {
    use app::domain::status::AlertKind;
    let now = app::db::now_ms();
    let rules = app::db::alert::list_rules(db).await?;
    if rules.len() < 10 {
        let catalog = app::db::catalog::Catalog::load(db).await?;
        let mut tx = db.begin().await?;
        let subjects = catalog
            .workflows
            .iter()
            .flat_map(|w| AlertKind::ALL.iter().map(move |k| (Some(w.id), None, *k)))
            .chain(
                catalog
                    .teams
                    .iter()
                    .map(|t| (None, Some(t.id), AlertKind::SpendBudget)),
            );
        for (workflow_id, team_id, kind) in subjects {
            let rule = app::model::AlertRule {
                monthly_budget_micros: (kind == AlertKind::SpendBudget).then_some(1_000_000_000),
                thresholds: "8000,9000,10000".into(),
                ..app::model::AlertRule::new(workflow_id, team_id, kind, now)
            };
            app::db::alert::insert_rule(&mut tx, &rule).await?;
        }
        tx.commit().await?;
    }
    let mut times = Vec::new();
    let mut rules = 0;
    for _ in 0..5 {
        let started = Instant::now();
        rules = app::service::alerts::evaluate::evaluate_all(db, "", now)
            .await?
            .rules;
        times.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  alert pass over {rules} rules: median {:.0} ms, slowest {:.0} ms = {:.2} of the 1,000 ms goal",
        times[2],
        times[4],
        times[4] / 1_000.0
    );
    Ok(())
}

/// Repeats two in three of the demo's calls in the same attempt, with their own ids: a step run
/// again. The call rollups and task figures pick them up at the next refresh.
async fn repeat_calls(db: &Db) -> anyhow::Result<()> {
    let last = max_id(db, "calls").await?;
    let mut tx = db.begin().await?;
    let columns = copy_columns(&mut tx, "calls", |column| match column {
        "id" => Some(format!("id + {last}")),
        "external_id" => Some("external_id || '-again'".into()),
        "started_at" => Some("started_at + latency_ms".into()),
        _ => None,
    })
    .await?;
    let sql = format!(
        "INSERT INTO calls ({}) SELECT {} FROM calls WHERE id <= {last} AND id % 3 <> 0",
        columns.0, columns.1
    );
    execute!(&mut tx, sqlx::query(&sql))?;
    tx.commit().await?;
    Ok(())
}

/// The generated rows every copy repeats: the highest id of each copied table, in `COPIED`
/// order.
struct Base {
    last_ids: Vec<i64>,
}

impl Base {
    async fn measure(db: &Db) -> anyhow::Result<Base> {
        let mut last_ids = Vec::new();
        for table in COPIED {
            last_ids.push(max_id(db, table).await?);
        }
        Ok(Base { last_ids })
    }

    /// Copy number `copy` (1, 2, ...) of every base row, ids shifted past the base's and
    /// external ids suffixed, in the caller's transaction.
    async fn copy(&self, tx: &mut Tx, copy: u64) -> anyhow::Result<()> {
        let copy = copy as i64;
        // COPIED starts with tasks, then attempts.
        let (task_shift, attempt_shift) = (self.last_ids[0] * copy, self.last_ids[1] * copy);
        for (table, last) in COPIED.into_iter().zip(&self.last_ids) {
            let columns = copy_columns(tx, table, |column| match column {
                "id" => Some(format!("id + {}", last * copy)),
                "task_id" => Some(format!("task_id + {task_shift}")),
                "attempt_id" => Some(format!("attempt_id + {attempt_shift}")),
                "external_id" | "task_external_id" | "correlation_id" => {
                    Some(format!("{column} || '-x{copy}'"))
                }
                _ => None,
            })
            .await?;
            let sql = format!(
                "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE id <= {last}",
                columns.0, columns.1
            );
            execute!(&mut *tx, sqlx::query(&sql))?;
        }
        if tx.backend() == app::db::Backend::Postgres {
            // Explicit ids leave the identity sequences behind; later inserts must not collide.
            for table in COPIED {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                );
                execute!(&mut *tx, sqlx::query(&sql))?;
            }
        }
        Ok(())
    }
}

/// The column list of `table` and the matching select list, each column as `rewrite` says or
/// unchanged. Read from the database so that a new column is copied without a change here.
async fn copy_columns(
    tx: &mut Tx,
    table: &str,
    rewrite: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(String, String)> {
    let sql = match tx.backend() {
        app::db::Backend::Sqlite => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
        app::db::Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position"
        }
    };
    let names: Vec<String> =
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(table).fetch_all(conn).await)?;
    if names.is_empty() {
        bail!("no table named {table}");
    }
    let selected: Vec<String> = names
        .iter()
        .map(|name| rewrite(name).unwrap_or_else(|| name.clone()))
        .collect();
    Ok((names.join(", "), selected.join(", ")))
}

async fn max_id(db: &Db, table: &str) -> anyhow::Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    Ok(on_db!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await)?)
}

pub(super) async fn counts(db: &Db) -> anyhow::Result<(i64, i64)> {
    let sql = "SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM calls)";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_one(pool).await)?)
}

/// Recomputes every task's figures and every rollup of the 90 days from the raw rows, through
/// the same refresh a batch triggers, ten days of one workflow at a time to bound memory; on
/// PostgreSQL two at once, one computing while the other's statements run (SQLite has one
/// writer, and a second refresh would only queue for it).
async fn refresh(db: &Db, end_day: i64) -> anyhow::Result<()> {
    let lanes_wanted = match db.backend() {
        app::db::Backend::Postgres => 2,
        app::db::Backend::Sqlite => 1,
    };
    let first_day = end_day - demo::DAYS + 1;
    let mut slices = Vec::new();
    for workflow in app::db::workflow::list_workflows(db).await? {
        let mut day = first_day;
        while day <= end_day {
            let last = (day + 9).min(end_day);
            slices.push((workflow.id, day, last));
            day = last + 1;
        }
    }
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..lanes_wanted {
        let mine: Vec<(i64, i64, i64)> = slices
            .iter()
            .skip(lane)
            .step_by(lanes_wanted)
            .copied()
            .collect();
        let db = db.clone();
        lanes.spawn(async move {
            for (workflow_id, day, last) in mine {
                let mut tx = db.begin().await?;
                bulk::bulk_session(&mut tx).await?;
                rollup::refresh_slices(&mut tx, workflow_id, day, last).await?;
                tx.commit().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = lanes.join_next().await {
        done??;
    }
    Ok(())
}

/// Starts the server on `url`, signs in as the finance reader, and times each page; then the
/// workflow page again as its owner.
async fn time_pages(db: &Db, url: &str) -> anyhow::Result<()> {
    // The costliest task of the last week: a trace with retries and repeated steps.
    let since = app::db::now_ms() - 7 * MS_PER_DAY;
    let sql = "SELECT id FROM tasks WHERE started_at >= $1 ORDER BY call_count DESC, id LIMIT 1";
    let task: i64 = on_db!(db, pool => sqlx::query_scalar(sql).bind(since).fetch_one(pool).await)?;
    let mut command = finishline(&std::env::temp_dir());
    let (mut server, port) = start_server(command.env("DATABASE_URL", url), 1_200).await?;
    let done = Arc::new(AtomicBool::new(false));
    let heap = sample_anonymous_memory(server.id(), done.clone());
    let Some(cookie) = sign_in_reader(port).await else {
        let _ = server.kill();
        bail!("signing in to the bench server failed");
    };
    for (name, path) in PAGES {
        let path = path.replace("{task}", &task.to_string());
        println!(
            "  {name:<40} {path:<46} {}",
            load_times(port, &path, &cookie).await
        );
    }
    // Its owner sees more of the workflow page: the review queue's health and agreement, read
    // from the grades of the gate window and the last 90 days.
    let owner = sign_in(port, "owner@demo.finishline.test", "demo-owner-password").await;
    let Some(owner) = owner else {
        let _ = server.kill();
        bail!("signing in to the bench server as the owner failed");
    };
    let (name, path) = ("the same, as its owner", "/workflows/support-triage");
    println!(
        "  {name:<40} {path:<46} {}",
        load_times(port, path, &owner).await
    );
    done.store(true, Ordering::Relaxed);
    let heap = heap.await?;
    println!(
        "  server peak memory {:>10.1} MiB",
        peak_rss_mib(server.id()).unwrap_or(f64::NAN)
    );
    println!(
        "    of it heap, at most {heap:>7.1} MiB (the rest: the program and the database file, mapped by each connection)"
    );
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_bench_database_replaces_the_name_and_keeps_the_options() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:54329/postgres", "b").unwrap(),
            "postgres://postgres@127.0.0.1:54329/b"
        );
        assert_eq!(
            database_url("postgres://u:p@h/db?sslmode=disable", "b").unwrap(),
            "postgres://u:p@h/b?sslmode=disable"
        );
        assert!(database_url("postgres://h", "b").is_err());
    }
}
