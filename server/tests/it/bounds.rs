//! Numbers with bounds: implausible values refused by name at the door, money summed checked,
//! and one sender's data never able to stop the figures of everyone else, on SQLite and
//! PostgreSQL.

use crate::helpers::{app, test_databases};
use crate::ingest::{batch_for, catalog, post};
use app::db::rollup::{count_failed_slices, refresh_all_dirty};
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
        let failed = count_failed_slices(&t.db).await.unwrap();
        assert_eq!(failed, 1, "{}: the bad slice is on record", t.backend);
        let (_, health) = crate::helpers::get(&router, "/healthz").await;
        let health: serde_json::Value = serde_json::from_str(&health).unwrap();
        assert_eq!(health["uncountable_slices"], 1, "{}: {health}", t.backend);
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

/// The first refusal of a batch's answer, as (kind, field).
fn refused(reply: &serde_json::Value) -> Vec<(String, String)> {
    reply["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_owned(),
                e["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn implausible_numbers_are_refused_by_name_and_their_neighbours_stored() {
    use crate::ingest::{batch, today};
    use serde_json::json;
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let day = today();
        let mut body = batch(&day);
        let at = format!("{day}T10:00:00Z");
        let call = |id: &str, extra: serde_json::Value| {
            let mut call = json!({"id": id, "workflow": "support-triage", "correlation_id": "t-1-a1",
                "kind": "model", "started_at": at});
            for (k, v) in extra.as_object().unwrap() {
                call[k] = v.clone();
            }
            call
        };
        let calls = body["calls"].as_array_mut().unwrap();
        calls.push(call(
            "huge-cost",
            json!({"cost_usd": "9223372036854.775807"}),
        ));
        calls.push(call("slow", json!({"latency_ms": 86_400_001})));
        calls.push(call("many-tokens", json!({"input_tokens": 100_000_001})));
        body["tasks"].as_array_mut().unwrap().push(json!({"id": "t-slow", "workflow": "support-triage",
            "started_at": at, "status": "completed", "review_seconds": 9_223_372_036_854_775_807_i64}));
        body["attempts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"correlation_id": "backwards",
            "workflow": "support-triage", "task": "t-1", "status": "failed",
            "started_at": format!("{day}T10:00:05Z"), "finished_at": format!("{day}T10:00:01Z")}));
        let (status, reply) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {reply}", t.backend);
        let mut got = refused(&reply);
        got.sort();
        let mut want: Vec<(String, String)> = [
            ("attempts", "finished_at"),
            ("calls", "cost_usd"),
            ("calls", "input_tokens"),
            ("calls", "latency_ms"),
            ("tasks", "review_seconds"),
        ]
        .map(|(k, f)| (k.to_owned(), f.to_owned()))
        .to_vec();
        want.sort();
        assert_eq!(got, want, "{}: {reply}", t.backend);
        assert_eq!(
            reply["accepted"], 4,
            "{}: the valid task, attempt and calls are stored",
            t.backend
        );
        refresh_all_dirty(&t.db).await.unwrap();
        assert_eq!(
            rolled_cost(&t.db, "support-triage").await,
            4_200 + 500 + 1_000_000,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_batch_sent_as_a_list_is_refused_with_what_a_batch_is() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        for body in ["[]", " [[], []]"] {
            let (status, reply) = post(&router, &key, "application/json", body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", t.backend);
            assert_eq!(reply["error"]["field"], "body", "{reply}");
        }
    }
}

/// Every amount a person types has a bound, refused by name before anything is stored, and so
/// has the task list's page number.
#[tokio::test]
async fn amounts_typed_past_their_bound_and_a_page_past_the_last_are_refused_by_name() {
    use crate::helpers::{ADMIN, PASSWORD, people, rpc, sign_in};
    for t in test_databases().await {
        let p = people(&t.db).await;
        let router = crate::helpers::app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let price = |field: &str| {
            let mut rates = [
                ("input", "1"),
                ("output", "1"),
                ("cache_read", "0"),
                ("cache_write", "0"),
                ("reasoning", "0"),
            ]
            .map(|(name, rate)| (name, rate.to_owned()));
            rates.iter_mut().find(|(name, _)| *name == field).unwrap().1 = "5000.01".into();
            let rates: Vec<String> = rates.iter().map(|(n, r)| format!("{n}={r}")).collect();
            format!(
                "provider=openai&model=gpt-x&{}&from_day=2026-11-01&source=&checked_on=",
                rates.join("&")
            )
        };
        let count_prices = async || -> i64 {
            on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM prices")
                .fetch_one(pool).await)
            .unwrap()
        };
        let prices_before = count_prices().await;
        let cases = [
            (
                "set_labour_rate",
                format!("team_id={}&labour_rate=10000.01", p.team_a),
                "labour_rate",
            ),
            (
                "create_team",
                "slug=ops&name=Ops&labour_rate=10000.01".to_owned(),
                "labour_rate",
            ),
            (
                "add_platform_cost",
                format!(
                    "name=db&applies_to=workflow%3A{}&monthly=100000000.01&from_day=2026-11-01",
                    p.workflow_a
                ),
                "monthly",
            ),
            ("add_price", price("input"), "input"),
            ("add_price", price("reasoning"), "reasoning"),
            ("list_tasks", "query[page]=1000001".to_owned(), "page"),
            ("list_tasks", "query[page]=abc".to_owned(), "page"),
        ];
        for (endpoint, form, field) in cases {
            let reply = rpc(&router, endpoint, &form, &admin).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {endpoint}({form}): {}",
                t.backend,
                reply.body
            );
            assert!(reply.body.contains(field), "{endpoint}: {}", reply.body);
        }
        assert_eq!(
            count_prices().await,
            prices_before,
            "{}: nothing past a bound is stored",
            t.backend
        );
    }
}
