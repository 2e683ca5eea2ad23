//! Retention at scale: the demo dataset over 90 days on each backend, its disk per million
//! calls before and after the calls older than 30 days are removed, and how fast they go.

use super::bulk;
use super::scale::{ScaleSpec, ThrowAway};
use crate::demo::{self, DemoSpec};
use app::db::Db;
use app::domain::time::day_of;
use app::service::retention::{REMOVE_PER_TRANSACTION, run_pass};
use std::time::Instant;

/// Days of calls the bench keeps: a third of the demo's 90.
const KEEP_DAYS: i64 = 30;

pub async fn run(spec: &ScaleSpec) -> anyhow::Result<()> {
    let dir = super::tempfile_dir()?;
    let url = format!("sqlite://{}", dir.join("retention.db").display());
    let result = async {
        let sqlite = Db::connect(&url).await?;
        sqlite.migrate().await?;
        let now = app::db::now_ms();
        let started = Instant::now();
        demo::load(
            &sqlite,
            &DemoSpec {
                seed: 11,
                tasks: spec.base_tasks,
                end_day: day_of(now),
            },
        )
        .await?;
        println!(
            "Retention: the demo dataset ({} tasks asked for, 90 days) generated in {:.0} s; the calls of all but the last {KEEP_DAYS} days removed, {REMOVE_PER_TRANSACTION} per transaction:",
            spec.base_tasks,
            started.elapsed().as_secs_f64()
        );
        let postgres = match &spec.postgres_url {
            Some(admin) => {
                let target = ThrowAway::create(admin, "_retention").await?;
                bulk::transfer(&sqlite, &target.db).await?;
                Some(target)
            }
            None => None,
        };
        measure("sqlite", &sqlite, now).await?;
        sqlite.close().await;
        if let Some(postgres) = postgres {
            let measured = measure("postgres", &postgres.db, now).await;
            postgres.finish(spec.keep).await?;
            measured?;
        }
        Ok(())
    }
    .await;
    if spec.keep {
        println!("Kept: {url}");
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
    result
}

/// Prunes one backend's copy and prints its disk before and after.
async fn measure(backend: &str, db: &Db, now: i64) -> anyhow::Result<()> {
    let calls_before = calls(db).await?;
    let before = bulk::used_bytes(db, true).await?;
    let pass = run_pass(db, KEEP_DAYS, now, REMOVE_PER_TRANSACTION).await?;
    let after = bulk::used_bytes(db, true).await?;
    let calls_after = calls(db).await?;
    // Bytes per call are megabytes per million calls.
    let per_million = |bytes: i64, calls: i64| bytes as f64 / calls.max(1) as f64;
    println!(
        "  {backend:<8} {calls_before} calls in {:.0} MB ({:.0} MB per million calls); after: {calls_after} calls kept in {:.0} MB ({:.0} MB per million calls ingested, {:.0} per million kept); {} days sealed and {} calls removed in {:.1} s ({:.0} calls/s, {} transactions)",
        before as f64 / 1e6,
        per_million(before, calls_before),
        after as f64 / 1e6,
        per_million(after, calls_before),
        per_million(after, calls_after),
        pass.sealed_days,
        pass.calls_removed,
        pass.elapsed.as_secs_f64(),
        pass.calls_removed as f64 / pass.elapsed.as_secs_f64().max(1e-9),
        pass.transactions,
    );
    Ok(())
}

async fn calls(db: &Db) -> anyhow::Result<i64> {
    Ok(super::scale::counts(db).await?.1)
}
