//! The CPST engine end to end: the read API's figures on the demo dataset agree, to the
//! micro-dollar, with a recomputation from raw rows written here independently of the engine.

use crate::helpers::{api_get, app, demo_with_key, test_databases};
use app::db::{Db, on_db};
use app::domain::time::format_day;
use axum::http::StatusCode;
use server::demo::{self, DemoSpec};
use std::collections::{BTreeMap, HashMap};

use crate::helpers::DEMO_END_DAY as END_DAY;

/// Per workflow: tasks by verdict and the five per-task cost components.
#[derive(Debug, Default, PartialEq)]
struct Recount {
    statuses: BTreeMap<String, u64>,
    model: i64,
    tool: i64,
    retry: i64,
    cache: i64,
    labour: i64,
}

type CallRow = (i64, i64, i64, String, String, String, i64, i64, i64, i64);

/// Recomputes every decided task's cost from calls, attempts, grades and team rates.
async fn recount(db: &Db, first_day: i64, last_day: i64) -> BTreeMap<i64, Recount> {
    let (from, to) = (first_day * 86_400_000, (last_day + 1) * 86_400_000);
    let tasks: Vec<(i64, i64, String, i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT t.id, t.workflow_id, t.status, tm.labour_rate_micros_per_hour,
                CAST(t.review_seconds + COALESCE((SELECT SUM(review_seconds) FROM grades g WHERE g.task_id = t.id), 0) AS BIGINT)
         FROM tasks t JOIN teams tm ON tm.id = t.team_id
         WHERE t.started_at >= $1 AND t.started_at < $2")
        .bind(from).bind(to).fetch_all(pool).await).unwrap();
    // Every call of every task of the window, with the day and number of its attempt.
    let calls: Vec<CallRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT c.id, c.task_id, COALESCE(a.number, 1), c.kind, c.provider, c.model,
                c.cost_micros, c.cache_read_cost_micros, c.cache_write_cost_micros, c.cache_read_tokens
         FROM calls c JOIN tasks t ON t.id = c.task_id LEFT JOIN attempts a ON a.id = c.attempt_id
         WHERE t.started_at >= $1 AND t.started_at < $2 ORDER BY c.id")
        .bind(from).bind(to).fetch_all(pool).await).unwrap();
    let start_day: HashMap<i64, i64> = on_db!(db, pool => sqlx::query_as::<_, (i64, i64)>(
        "SELECT id, started_at / 86400000 FROM tasks").fetch_all(pool).await)
    .unwrap()
    .into_iter()
    .collect();
    let workflow_of: HashMap<i64, i64> = tasks.iter().map(|t| (t.0, t.1)).collect();

    // A cache write is shared by the first-attempt model calls of its pool (workflow, provider,
    // model, day) in proportion to their cache-read tokens, largest remainder first.
    let mut pools: BTreeMap<(i64, String, String, i64), Vec<usize>> = BTreeMap::new();
    for (i, c) in calls.iter().enumerate() {
        if c.2 <= 1 && (c.3 == "model" || c.3 == "other") {
            pools
                .entry((workflow_of[&c.1], c.4.clone(), c.5.clone(), start_day[&c.1]))
                .or_default()
                .push(i);
        }
    }
    let mut write_share = vec![0i64; calls.len()];
    for members in pools.values() {
        let writes: i64 = members.iter().map(|&i| calls[i].8).sum();
        let reads: i128 = members.iter().map(|&i| i128::from(calls[i].9)).sum();
        if reads == 0 {
            members.iter().for_each(|&i| write_share[i] = calls[i].8);
            continue;
        }
        let mut parts: Vec<(usize, i64, i128)> = members
            .iter()
            .map(|&i| {
                let exact = i128::from(writes) * i128::from(calls[i].9);
                (i, (exact / reads) as i64, exact % reads)
            })
            .collect();
        let mut left = writes - parts.iter().map(|p| p.1).sum::<i64>();
        parts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        for part in parts.iter_mut() {
            if left == 0 {
                break;
            }
            part.1 += 1;
            left -= 1;
        }
        parts.iter().for_each(|p| write_share[p.0] = p.1);
    }
    let mut per_task: HashMap<i64, [i64; 4]> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        let slot = per_task.entry(c.1).or_default();
        match (c.2 > 1, c.3.as_str()) {
            (true, _) => slot[2] += c.6,
            (false, "model" | "other") => {
                slot[0] += c.6 - c.7 - c.8;
                slot[3] += c.7 + write_share[i];
            }
            (false, _) => slot[1] += c.6,
        }
    }
    let mut out: BTreeMap<i64, Recount> = BTreeMap::new();
    for (id, workflow_id, status, rate, seconds) in tasks {
        let entry = out.entry(workflow_id).or_default();
        *entry.statuses.entry(status.clone()).or_default() += 1;
        if status == "pending" {
            continue;
        }
        let [model, tool, retry, cache] = per_task.get(&id).copied().unwrap_or_default();
        entry.model += model;
        entry.tool += tool;
        entry.retry += retry;
        entry.cache += cache;
        entry.labour += (rate * seconds + 1_800) / 3_600;
    }
    out
}

fn num(v: &serde_json::Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[tokio::test]
async fn the_read_api_agrees_with_a_recomputation_from_raw_rows() {
    for t in test_databases().await {
        let key = demo_with_key(&t.db, 7, 1_500).await;
        let router = app(&t.db);
        for (first_day, last_day) in [(END_DAY - 89, END_DAY), (END_DAY - 40, END_DAY - 34)] {
            let uri = format!(
                "/api/v1/figures?group_by=workflow&from={}&to={}",
                format_day(first_day),
                format_day(last_day)
            );
            let (status, body) = api_get(&router, &uri, &key).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            let expected = recount(&t.db, first_day, last_day).await;
            let groups = json["groups"].as_array().unwrap();
            assert_eq!(
                groups.len(),
                expected.len(),
                "{}: one group per workflow with tasks",
                t.backend
            );
            let mut platform_total = 0;
            for group in groups {
                let workflow_id: i64 = group["key"].as_str().unwrap().parse().unwrap();
                let want = &expected[&workflow_id];
                let cost = &group["cost_micros"];
                let got = (
                    num(&cost["model"]),
                    num(&cost["tool"]),
                    num(&cost["retry"]),
                    num(&cost["cache"]),
                    num(&cost["labour"]),
                );
                assert_eq!(
                    got,
                    (want.model, want.tool, want.retry, want.cache, want.labour),
                    "{} {}",
                    t.backend,
                    group["label"]
                );
                for (status, count) in &want.statuses {
                    assert_eq!(
                        group["tasks"][status].as_u64(),
                        Some(*count),
                        "{} {status}",
                        t.backend
                    );
                }
                let total = num(&group["total_cost_micros"]);
                platform_total += num(&cost["platform"]);
                let succeeded = want.statuses.get("succeeded").copied().unwrap_or(0) as i64;
                let cpst = (total + succeeded / 2) / succeeded;
                assert_eq!(
                    num(&group["cpst_micros"]),
                    cpst,
                    "{}: CPST is total over successes",
                    t.backend
                );
            }
            assert!(platform_total > 0, "the demo allocates platform costs");
            let total = &json["total"];
            let sum: i64 = groups.iter().map(|g| num(&g["total_cost_micros"])).sum();
            assert_eq!(
                num(&total["total_cost_micros"]),
                sum,
                "{}: the total is the sum of the workflows",
                t.backend
            );
        }
    }
}

#[tokio::test]
async fn every_grouping_adds_up_to_the_same_total() {
    let t = crate::helpers::sqlite().await;
    let key = demo_with_key(&t.db, 8, 800).await;
    let router = app(&t.db);
    let window = format!(
        "from={}&to={}",
        format_day(END_DAY - 29),
        format_day(END_DAY)
    );
    let mut totals = Vec::new();
    for grouping in [
        "workflow",
        "team",
        "task_type",
        "segment",
        "config_version",
        "model",
        "provider",
    ] {
        let (status, body) = api_get(
            &router,
            &format!("/api/v1/figures?group_by={grouping}&{window}"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{grouping}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let groups = json["groups"].as_array().unwrap();
        assert!(
            groups
                .iter()
                .all(|g| !g["label"].as_str().unwrap().is_empty())
        );
        let sum = |field: &str| groups.iter().map(|g| num(&g[field])).sum::<i64>();
        let succeeded: u64 = groups
            .iter()
            .map(|g| g["tasks"]["succeeded"].as_u64().unwrap())
            .sum();
        totals.push((grouping, sum("total_cost_micros"), succeeded));
    }
    for (grouping, total, succeeded) in &totals[1..] {
        assert_eq!(
            (*total, *succeeded),
            (totals[0].1, totals[0].2),
            "grouping by {grouping} loses or adds money"
        );
    }
}

#[tokio::test]
async fn a_price_change_reaches_history_only_through_an_audited_repricing() {
    for t in test_databases().await {
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 5,
                tasks: 600,
                end_day: END_DAY,
            },
        )
        .await
        .unwrap();
        let workflows = app::db::workflow::list_workflows(&t.db).await.unwrap();
        let workflow = workflows
            .into_iter()
            .find(|w| w.slug == "support-triage")
            .unwrap();
        let (first_day, last_day) = (END_DAY - 89, END_DAY);
        let now = (END_DAY + 1) * 86_400_000;
        let before = recount(&t.db, first_day, last_day).await;

        let mut tx = t.db.begin().await.unwrap();
        let same = app::db::reprice::reprice_calls(
            &mut tx,
            workflow.id,
            first_day,
            last_day,
            (None, "test"),
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(same.calls > 100, "{}", t.backend);
        assert_eq!(
            (same.changed, same.before),
            (0, same.after),
            "{}: the same price book gives the same costs",
            t.backend
        );

        // Sonnet's input price doubles from day END_DAY - 10 on.
        let prices = app::db::price::list_prices(&t.db).await.unwrap();
        let sonnet = prices
            .iter()
            .rev()
            .find(|p| p.model == "claude-sonnet-4-5")
            .expect("the demo prices Sonnet")
            .clone();
        let change_at = (END_DAY - 10) * 86_400_000;
        let mut tx = t.db.begin().await.unwrap();
        app::db::price::close_price(&mut tx, &sonnet.provider, &sonnet.model, change_at)
            .await
            .unwrap();
        let doubled = app::model::Price {
            input_micros_per_mtok: sonnet.input_micros_per_mtok * 2,
            effective_from: change_at,
            effective_to: None,
            ..sonnet.clone()
        };
        app::db::price::insert_price(&mut tx, &doubled)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            recount(&t.db, first_day, last_day).await,
            before,
            "{}: a new price rewrites nothing by itself",
            t.backend
        );

        let mut tx = t.db.begin().await.unwrap();
        let repriced = app::db::reprice::reprice_calls(
            &mut tx,
            workflow.id,
            first_day,
            last_day,
            (None, "test"),
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(
            repriced.changed > 0 && repriced.after > repriced.before,
            "{}: {repriced:?}",
            t.backend
        );
        let after = recount(&t.db, first_day, last_day).await;
        assert!(after[&workflow.id].model > before[&workflow.id].model);
        let audit = app::db::audit::recent(&t.db, 5).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "reprice").count(), 2);

        let key = server::api::create_api_key(&t.db, "test", &[], None)
            .await
            .unwrap();
        let uri = format!(
            "/api/v1/figures?workflow=support-triage&from={}&to={}",
            format_day(first_day),
            format_day(last_day)
        );
        let (_, body) = api_get(&app(&t.db), &uri, &key).await;
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            num(&json["groups"][0]["cost_micros"]["model"]),
            after[&workflow.id].model,
            "{}",
            t.backend
        );
    }
}
