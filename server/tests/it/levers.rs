//! The levers on the workflow page and in the read API agree with an independent recomputation
//! from the raw tasks, attempts and calls: routing per model (tasks, cost, CPST, the model to
//! route to and the money at stake), the cache's share of input, and the failure tax; both
//! backends.

use crate::helpers::{OWNER, PASSWORD, api_get, app, people, send, sign_in, test_databases};
use crate::ingest::post;
use app::db::{on_db, rollup};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;
use std::collections::BTreeMap;

const LARGE: &str = "claude-sonnet-4-5";
const SMALL: &str = "claude-haiku-4-5";

/// `all` tickets on `model` at `cost` dollars a call on `day`: the first `first` succeed at once,
/// the next `retried` succeed on a second attempt, the next `failed` fail after two attempts,
/// and the rest are escalated after one. Each call reads `cached` of its 1,000 input tokens
/// from cache.
pub(crate) struct Lot {
    pub prefix: &'static str,
    pub model: &'static str,
    pub cost: &'static str,
    pub cached: i64,
    pub day: i64,
    pub first: usize,
    pub retried: usize,
    pub failed: usize,
    pub all: usize,
}

impl Lot {
    pub fn batch(&self) -> Value {
        let (mut tasks, mut attempts, mut calls) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..self.all {
            let id = format!("{}-{i}", self.prefix);
            let start = self.day * 86_400_000 + 9 * 3_600_000 + i as i64 * 60_000;
            let (status, tries) = if i < self.first {
                ("completed", vec!["succeeded"])
            } else if i < self.first + self.retried {
                ("completed", vec!["failed", "succeeded"])
            } else if i < self.first + self.retried + self.failed {
                ("failed", vec!["failed", "failed"])
            } else {
                ("escalated", vec!["failed"])
            };
            let mut task = json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
                "started_at": start, "finished_at": start + 30_000, "status": status});
            if status == "completed" {
                task["output"] = json!({"reply": "Done"});
            }
            if status == "escalated" {
                task["escalation_reason"] = json!("Angry customer");
            }
            tasks.push(task);
            for (n, outcome) in tries.iter().enumerate() {
                let correlation = format!("{id}-a{}", n + 1);
                attempts.push(json!({"correlation_id": correlation, "workflow": "support-triage",
                    "task": id, "number": n + 1, "status": outcome, "started_at": start + n as i64 * 1_000}));
                calls.push(json!({"id": format!("{correlation}-c"), "workflow": "support-triage",
                    "correlation_id": correlation, "kind": "model", "provider": "anthropic",
                    "model": self.model, "input_tokens": 1000, "cache_read_tokens": self.cached,
                    "output_tokens": 100, "cost_usd": self.cost, "started_at": start + n as i64 * 1_000}));
            }
        }
        json!({"tasks": tasks, "attempts": attempts, "calls": calls})
    }
}

/// One task as the raw rows tell it.
#[derive(Default)]
struct Raw {
    status: String,
    /// (cost, model) of its costliest first-attempt call.
    primary: (i64, String),
    cost: i64,
    retry_cost: i64,
    attempts: i64,
    input: i64,
    cached: i64,
}

#[tokio::test]
async fn levers_agree_with_a_recomputation_from_the_raw_rows() {
    for t in test_databases().await {
        let people = people(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        crate::helpers::add_ticket_type(&mut tx, people.workflow_a).await;
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let today = app::domain::time::day_of(app::db::now_ms());
        let lots = [
            Lot {
                prefix: "large",
                model: LARGE,
                cost: "1.00",
                cached: 200,
                day: today - 1,
                first: 34,
                retried: 2,
                failed: 2,
                all: 40,
            },
            Lot {
                prefix: "small",
                model: SMALL,
                cost: "0.20",
                cached: 600,
                day: today - 2,
                first: 33,
                retried: 2,
                failed: 5,
                all: 40,
            },
            // The week before: the small model alone, no cache, a third of the tickets retried.
            Lot {
                prefix: "before",
                model: SMALL,
                cost: "0.20",
                cached: 0,
                day: today - 10,
                first: 20,
                retried: 10,
                failed: 0,
                all: 30,
            },
        ];
        for lot in &lots {
            let (status, answer) =
                post(&router, &key, "application/json", lot.batch().to_string()).await;
            assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        }
        rollup::refresh_all_dirty(&t.db).await.unwrap();
        let (status, body) = api_get(
            &router,
            "/api/v1/levers?workflow=support-triage&days=7",
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);
        let found: Value = serde_json::from_str(&body).unwrap();

        // The same figures from the raw rows, by this test's own reading of the rules.
        let first = (today - 6) * 86_400_000;
        let rows: Vec<(i64, String, i64, String, i64, i64, i64)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT t.id, t.status, a.number, c.model, c.cost_micros, c.input_tokens, c.cache_read_tokens
             FROM calls c JOIN attempts a ON a.id = c.attempt_id JOIN tasks t ON t.id = c.task_id
             WHERE t.workflow_id = $1 AND t.started_at >= $2")
            .bind(people.workflow_a)
            .bind(first)
            .fetch_all(pool)
            .await
            .unwrap());
        let mut raw: BTreeMap<i64, Raw> = BTreeMap::new();
        for (task, status, number, model, cost, input, cached) in rows {
            let r = raw.entry(task).or_default();
            r.status = status;
            r.cost += cost;
            r.input += input;
            r.cached += cached;
            r.attempts = r.attempts.max(number);
            if number > 1 {
                r.retry_cost += cost;
            } else if (cost, &model) > (r.primary.0, &r.primary.1) {
                r.primary = (cost, format!("anthropic/{model}"));
            }
        }
        assert_eq!(raw.len(), 80, "{}", t.backend);
        // Per model: (tasks, succeeded, cost).
        let mut by_model: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
        for r in raw.values() {
            let m = by_model.entry(r.primary.1.clone()).or_default();
            m.0 += 1;
            m.1 += u64::from(r.status == "succeeded");
            m.2 += r.cost;
        }
        let cpst =
            |(_, succeeded, cost): (u64, u64, i64)| (cost as f64 / succeeded as f64).round() as i64;
        let small = by_model[&format!("anthropic/{SMALL}")];
        let large = by_model[&format!("anthropic/{LARGE}")];
        // The small model finishes 35 of 40, the large 36 of 40: not clearly worse, and far
        // cheaper, so the large model's finished work is what routing puts at stake.
        assert_eq!((small.1, large.1), (35, 36), "{}", t.backend);
        let at_stake = large.2 - (small.2 as f64 * large.1 as f64 / small.1 as f64).round() as i64;
        let routing = &found["routing"][0];
        assert_eq!(routing["task_type"], "Ticket", "{}: {found}", t.backend);
        assert_eq!(
            routing["best_model"],
            format!("anthropic/{SMALL}"),
            "{}",
            t.backend
        );
        assert_eq!(routing["at_stake_micros"], at_stake, "{}", t.backend);
        assert_eq!(found["routing_at_stake_micros"], at_stake);
        for m in routing["models"].as_array().unwrap() {
            let expected = by_model[m["model"].as_str().unwrap()];
            assert_eq!(m["tasks"], expected.0, "{}: {m}", t.backend);
            assert_eq!(m["cost_micros"], expected.2, "{}: {m}", t.backend);
            assert_eq!(m["cpst_micros"], cpst(expected), "{}: {m}", t.backend);
            assert_eq!(m["success_rate"]["successes"], expected.1, "{}", t.backend);
            assert_eq!(m["task_share"], 0.5, "{}", t.backend);
        }
        let small_route = routing["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == format!("anthropic/{SMALL}"))
            .unwrap();
        assert_eq!(small_route["task_share_before"], 1.0, "{}", t.backend);

        // The failure tax: failed and escalated tickets whole, the retries of finished ones.
        let tax: i64 = raw
            .values()
            .map(|r| match r.status.as_str() {
                "succeeded" | "assisted" => r.retry_cost,
                _ => r.cost,
            })
            .sum();
        let attempts: i64 = raw.values().map(|r| r.attempts).sum();
        let failed_attempts: i64 = raw
            .values()
            .map(|r| match r.status.as_str() {
                "succeeded" | "assisted" => r.attempts - 1,
                _ => r.attempts,
            })
            .sum();
        let failed = &found["failed_runs"];
        assert_eq!(failed["tax_micros"], tax, "{}: {failed}", t.backend);
        assert_eq!(tax, 10_400_000, "{}", t.backend);
        assert_eq!(failed["attempts"], attempts, "{}", t.backend);
        assert_eq!(failed["failed_attempts"], failed_attempts, "{}", t.backend);
        // The week before: ten retries of $0.20, a third of 40 attempts failed.
        assert_eq!(failed["tax_before_micros"], 2_000_000, "{}", t.backend);
        assert_eq!(failed["failed_share_before"], 0.25, "{}", t.backend);
        let verdicts: Vec<(String, u64)> = failed["by_verdict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["verdict"].as_str().unwrap().to_owned(),
                    v["tasks"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            verdicts,
            [("failed".to_owned(), 7), ("escalated".to_owned(), 2)],
            "{}",
            t.backend
        );

        // Caching: the share of input tokens read from cache.
        let (input, cached) = raw
            .values()
            .fold((0, 0), |(i, c), r| (i + r.input, c + r.cached));
        let caching = &found["caching"];
        assert_eq!(caching["input_tokens"], input, "{}", t.backend);
        assert_eq!(caching["cache_read_tokens"], cached, "{}", t.backend);
        assert_eq!(caching["share_before"], 0.0, "{}", t.backend);
        // Every call reported its cost: what their cached tokens cost is not known.
        assert_eq!(caching["saved_micros"], 0, "{}", t.backend);
        assert_eq!(caching["unpriced_cached_tokens"], cached, "{}", t.backend);

        // The workflow page shows the same levers as the read API over its 30 days.
        let (_, body) = api_get(&router, "/api/v1/levers?workflow=support-triage", &key).await;
        let month: Value = serde_json::from_str(&body).unwrap();
        let money = |v: &Value| app::domain::Micros(v.as_i64().unwrap()).to_string();
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let page = send(
            &router,
            crate::helpers::page("/workflows/support-triage", Some(&owner)),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", t.backend);
        let levers = page
            .body
            .split("What moves the cost")
            .nth(1)
            .unwrap_or_default();
        let stake = money(&month["routing_at_stake_micros"]);
        assert!(
            levers.contains(&format!("<td class=\"num\">{stake}</td>")),
            "{}: {stake} in {levers}",
            t.backend
        );
        let tax = money(&month["failed_runs"]["tax_micros"]);
        assert!(
            levers.contains(&format!("Failure tax {tax}:")),
            "{}: {tax}",
            t.backend
        );
        let haiku_row = levers
            .split("<tr>")
            .find(|row| row.contains("anthropic/claude-haiku-4-5"))
            .unwrap_or_default();
        assert!(haiku_row.contains(">best<"), "{}: {haiku_row}", t.backend);
    }
}

/// What caching saved: priced calls' cached tokens at the input price, less what they cost,
/// recomputed from the calls and the price book.
#[tokio::test]
async fn caching_savings_agree_with_the_price_book() {
    for t in test_databases().await {
        let people = people(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        crate::helpers::add_ticket_type(&mut tx, people.workflow_b).await;
        let price = app::model::Price {
            id: 0,
            provider: "openai".into(),
            model: "test-mini".into(),
            input_micros_per_mtok: 400_000,
            output_micros_per_mtok: 1_600_000,
            cache_read_micros_per_mtok: 100_000,
            cache_write_micros_per_mtok: 500_000,
            reasoning_micros_per_mtok: 1_600_000,
            audio_input_micros_per_mtok: None,
            image_input_micros_per_mtok: None,
            effective_from: 0,
            effective_to: None,
            source: "test".into(),
            checked_on: String::new(),
            created_at: 0,
        };
        app::db::price::insert_price(&mut tx, &price).await.unwrap();
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let start = (app::domain::time::day_of(app::db::now_ms()) - 1) * 86_400_000;
        // Ten invoices whose calls read 6,000 and write 1,000 of 10,000 input tokens from
        // cache, and two whose calls write 8,000 that nothing reads.
        let (mut tasks, mut attempts, mut calls) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..12 {
            let id = format!("inv-{i}");
            let (read, write) = if i < 10 { (6_000, 1_000) } else { (0, 8_000) };
            tasks.push(json!({"id": id, "workflow": "invoice-clearing", "task_type": "ticket",
                "started_at": start + i * 1_000, "status": "completed", "output": {"reply": "Coded"}}));
            attempts.push(
                json!({"correlation_id": id, "workflow": "invoice-clearing", "task": id,
                "status": "succeeded", "started_at": start + i * 1_000}),
            );
            calls.push(
                json!({"id": format!("{id}-c"), "workflow": "invoice-clearing",
                "correlation_id": id, "kind": "model", "provider": "openai", "model": "test-mini",
                "input_tokens": 10_000, "output_tokens": 200, "cache_read_tokens": read,
                "cache_write_tokens": write, "started_at": start + i * 1_000}),
            );
        }
        let batch = json!({"tasks": tasks, "attempts": attempts, "calls": calls});
        let (status, answer) = post(&router, &key, "application/json", batch.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        rollup::refresh_all_dirty(&t.db).await.unwrap();

        let rows: Vec<(i64, i64, i64, i64, i64)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT c.cache_read_tokens, c.cache_write_tokens, c.cache_read_cost_micros,
                c.cache_write_cost_micros, p.input_micros_per_mtok
             FROM calls c JOIN prices p ON p.id = c.price_id WHERE c.workflow_id = $1")
            .bind(people.workflow_b)
            .fetch_all(pool)
            .await
            .unwrap());
        assert_eq!(rows.len(), 12, "{}: every call priced", t.backend);
        let saved: i64 = rows
            .iter()
            .map(|(read, write, read_cost, write_cost, rate)| {
                ((read + write) as f64 * *rate as f64 / 1e6).round() as i64 - read_cost - write_cost
            })
            .sum();
        // 10 × (7,000 × $0.40 − 6,000 × $0.10 − 1,000 × $0.50) per million, less
        // 2 × 8,000 × ($0.50 − $0.40) per million for writes nothing read.
        assert_eq!(saved, 10 * 1_700 - 2 * 800, "{}: {rows:?}", t.backend);
        let (status, body) = api_get(
            &router,
            "/api/v1/levers?workflow=invoice-clearing&days=7",
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);
        let found: Value = serde_json::from_str(&body).unwrap();
        let caching = &found["caching"];
        assert_eq!(caching["saved_micros"], saved, "{}: {caching}", t.backend);
        assert_eq!(caching["unpriced_cached_tokens"], 0, "{}", t.backend);
        assert_eq!(caching["share"], 0.5, "{}", t.backend);
    }
}
