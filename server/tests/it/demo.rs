//! The demo dataset: reproducible, and varied enough to exercise every view.

use crate::helpers::{sqlite, test_databases};
use app::db::{Db, on_db};
use server::demo::{self, DemoSpec};

/// A fixed end day so the data does not depend on today's date.
const END_DAY: i64 = 20_400;

async fn rows(db: &Db, sql: &str) -> Vec<(String, String, i64, i64)> {
    on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap()
}

async fn fingerprint(db: &Db) -> Vec<Vec<(String, String, i64, i64)>> {
    vec![
        rows(db, "SELECT external_id, status, started_at, review_seconds FROM tasks ORDER BY external_id").await,
        rows(db, "SELECT external_id, model, cost_micros, input_tokens FROM calls ORDER BY external_id").await,
        rows(db, "SELECT external_id, kind, occurred_at, CAST(0 AS BIGINT) FROM outcome_events ORDER BY external_id").await,
        rows(db, "SELECT t.external_id, g.verdict, g.review_seconds, g.graded_at FROM grades g JOIN tasks t ON t.id = g.task_id ORDER BY t.external_id, g.graded_at").await,
    ]
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_on_both_backends() {
    let spec = DemoSpec {
        seed: 11,
        tasks: 500,
        end_day: END_DAY,
    };
    let mut fingerprints = Vec::new();
    for t in test_databases().await {
        demo::load(&t.db, &spec).await.unwrap();
        fingerprints.push(fingerprint(&t.db).await);
    }
    let again = sqlite().await;
    demo::load(&again.db, &spec).await.unwrap();
    fingerprints.push(fingerprint(&again.db).await);
    assert!(
        fingerprints[0][0].len() > 400,
        "{} tasks",
        fingerprints[0][0].len()
    );
    assert_eq!(
        fingerprints[0], fingerprints[1],
        "SQLite and PostgreSQL differ"
    );
    assert_eq!(fingerprints[0], fingerprints[2], "two runs differ");

    let other = sqlite().await;
    demo::load(&other.db, &DemoSpec { seed: 12, ..spec })
        .await
        .unwrap();
    assert_ne!(
        fingerprints[0],
        fingerprint(&other.db).await,
        "another seed gives other data"
    );
}

#[tokio::test]
async fn the_demo_has_every_kind_of_case_the_views_show() {
    let t = sqlite().await;
    let summary = demo::load(
        &t.db,
        &DemoSpec {
            seed: 5,
            tasks: 3_000,
            end_day: END_DAY,
        },
    )
    .await
    .unwrap();
    assert!(
        summary.grades > 50 && summary.queued > 0 && summary.outcomes > 0,
        "{summary}"
    );
    let count = |sql: &'static str| {
        let db = t.db.clone();
        async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap()
        }
    };
    for status in [
        "succeeded",
        "assisted",
        "failed",
        "escalated",
        "abandoned",
        "pending",
    ] {
        let sql: &'static str = Box::leak(
            format!("SELECT COUNT(*) FROM tasks WHERE status = '{status}'").into_boxed_str(),
        );
        assert!(count(sql).await > 0, "no {status} tasks");
    }
    assert!(count("SELECT COUNT(DISTINCT escalation_reason) FROM tasks").await >= 8);
    assert!(count("SELECT COUNT(*) FROM outcome_events WHERE kind = 'reopened'").await > 0);
    assert!(
        count("SELECT COUNT(*) FROM attempts WHERE number > 1").await > 100,
        "retries"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM config_versions").await,
        8,
        "two configurations per workflow"
    );
    assert!(
        count("SELECT COUNT(DISTINCT price_id) FROM calls WHERE model = 'gpt-4.1-mini'").await == 2,
        "the price change is used"
    );
    assert!(
        count("SELECT COUNT(*) FROM calls WHERE cost_source = 'rejected' AND cost_micros = 0")
            .await
            > 0
    );
    assert!(
        count(
            "SELECT COUNT(*) FROM grades g JOIN grades h ON g.task_id = h.task_id AND g.id < h.id"
        )
        .await
            > 0,
        "second graders"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE task_id IS NULL OR attempt_id IS NULL").await,
        0
    );
    assert_eq!(
        count("SELECT COALESCE(SUM(tasks), 0) FROM task_rollups").await,
        count("SELECT COUNT(*) FROM tasks").await,
        "every task is in the rollups"
    );
}

#[tokio::test]
async fn the_demo_refuses_to_load_over_existing_data() {
    let t = sqlite().await;
    let spec = DemoSpec {
        seed: 1,
        tasks: 50,
        end_day: END_DAY,
    };
    demo::load(&t.db, &spec).await.unwrap();
    let err = demo::load(&t.db, &spec).await.unwrap_err();
    assert!(err.to_string().contains("already has workflows"), "{err}");
}
