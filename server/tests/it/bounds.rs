//! Numbers with bounds: implausible values refused by name at the door, money summed checked,
//! and one sender's data never able to stop the figures of everyone else, on SQLite and
//! PostgreSQL.

use crate::helpers::{app, test_databases};
use crate::ingest::{batch_for, catalog, post};
use app::db::rollup::{failed_slices, refresh_all_dirty};
use app::db::{Db, on_db};
use axum::http::StatusCode;
use server::api::create_api_key;

/// Each workflow's rolled-up cost, by slug.
async fn rolled_cost(db: &Db, slug: &str) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(r.model_cost_micros + r.tool_cost_micros + r.retry_cost_micros
                 + r.cache_cost_micros + r.labour_cost_micros), 0) AS BIGINT)
         FROM task_rollups r JOIN workflows w ON w.id = r.workflow_id WHERE w.slug = $1")
        .bind(slug).fetch_one(pool).await)
    .unwrap()
}

#[tokio::test]
async fn one_workflows_uncountable_data_never_stops_the_figures_of_the_others() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let invoices = batch_for("inv-1").replace("support-triage", "invoice-clearing");
        for body in [batch_for("t-1"), invoices.clone()] {
            let (status, _) = post(&router, &key, "application/json", body).await;
            assert_eq!(status, StatusCode::OK, "{}", t.backend);
        }
        refresh_all_dirty(&t.db).await.unwrap();
        let one_task = rolled_cost(&t.db, "support-triage").await;
        assert!(one_task > 0, "{}", t.backend);

        // Old data, stored before costs had bounds: two calls of one invoice task whose costs
        // add up past what an i64 of micro-dollars holds. Its slice is marked for refresh.
        on_db!(&t.db, pool => sqlx::query(
            "UPDATE calls SET cost_micros = 9223372036854775000
             WHERE workflow_id = (SELECT id FROM workflows WHERE slug = 'invoice-clearing')")
            .execute(pool).await.map(|done| done.rows_affected()))
        .unwrap();
        on_db!(&t.db, pool => sqlx::query(
            "UPDATE rollup_dirty SET version = version + 1
             WHERE workflow_id = (SELECT id FROM workflows WHERE slug = 'invoice-clearing')")
            .execute(pool).await.map(|done| done.rows_affected()))
        .unwrap();
        // Meanwhile another team's workflow takes a new task.
        let (status, _) = post(&router, &key, "application/json", batch_for("t-2")).await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);

        assert_eq!(
            refresh_all_dirty(&t.db).await.unwrap(),
            1,
            "{}: the support slice is refreshed, the invoice slice skipped",
            t.backend
        );
        assert_eq!(
            rolled_cost(&t.db, "support-triage").await,
            2 * one_task,
            "{}: the other workflow's figures moved on",
            t.backend
        );
        let failed = failed_slices(&t.db).await.unwrap();
        assert_eq!(failed.len(), 1, "{}: the bad slice is on record", t.backend);
        assert_eq!(
            refresh_all_dirty(&t.db).await.unwrap(),
            0,
            "{}: the bad slice is not read again until its rows change",
            t.backend
        );

        // More batches for the healthy workflow keep being counted.
        let (status, _) = post(&router, &key, "application/json", batch_for("t-3")).await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        assert_eq!(refresh_all_dirty(&t.db).await.unwrap(), 1, "{}", t.backend);
        assert_eq!(
            rolled_cost(&t.db, "support-triage").await,
            3 * one_task,
            "{}",
            t.backend
        );
    }
}
