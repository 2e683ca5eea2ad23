//! What-if on both backends: the read API's projections agree with a recomputation from the
//! raw tasks and calls, a route without evidence says how much is missing, and a projection
//! saved from the page is audited, listed and refused twice under one name.

use crate::helpers::{OWNER, PASSWORD, REVIEWER, api_get, app, enc, people, rpc, send, sign_in};
use crate::helpers::{page, test_databases};
use crate::ingest::post;
use crate::levers::Lot;
use app::db::{on_db, rollup};
use app::domain::time::format_day;
use axum::http::StatusCode;
use serde_json::Value;
use server::api::create_api_key;
use std::collections::BTreeMap;

const SMALL: &str = "anthropic/claude-haiku-4-5";

/// One model's decided tasks by outcome: (succeeded, their cost, others, their cost).
type Outcomes = (f64, f64, f64, f64);

#[tokio::test]
async fn what_if_projects_from_the_raw_rows_and_saves_audited_scenarios() {
    for t in test_databases().await {
        let people = people(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let ticket = crate::helpers::add_ticket_type(&mut tx, people.workflow_a).await;
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let today = app::domain::time::day_of(app::db::now_ms());
        let lot = |prefix, model, cost, day, first, failed, all| Lot {
            prefix,
            model,
            cost,
            cached: 0,
            day,
            first,
            retried: 2,
            failed,
            all,
        };
        let lots = [
            lot("large", "claude-sonnet-4-5", "1.00", today - 1, 34, 2, 40),
            lot("small", "claude-haiku-4-5", "0.20", today - 2, 33, 5, 40),
            lot("trial", "claude-opus-4-1", "2.00", today - 3, 6, 1, 10),
        ];
        for lot in &lots {
            let (status, answer) =
                post(&router, &key, "application/json", lot.batch().to_string()).await;
            assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        }
        rollup::refresh_all_dirty(&t.db).await.unwrap();

        // Each task's outcome, cost and model (its costliest first-attempt call), read raw.
        let rows: Vec<(i64, String, i64, String, i64)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT t.id, t.status, a.number, c.model, c.cost_micros
             FROM calls c JOIN attempts a ON a.id = c.attempt_id JOIN tasks t ON t.id = c.task_id
             WHERE t.workflow_id = $1")
            .bind(people.workflow_a)
            .fetch_all(pool)
            .await
            .unwrap());
        let mut tasks: BTreeMap<i64, (String, i64, (i64, String))> = BTreeMap::new();
        for (task, status, number, model, cost) in rows {
            let entry = tasks.entry(task).or_default();
            entry.0 = status;
            entry.1 += cost;
            if number == 1 && (cost, &model) > (entry.2.0, &entry.2.1) {
                entry.2 = (cost, format!("anthropic/{model}"));
            }
        }
        let mut by_model: BTreeMap<String, Outcomes> = BTreeMap::new();
        for (status, cost, (_, model)) in tasks.values() {
            let m = by_model.entry(model.clone()).or_default();
            match status.as_str() {
                "succeeded" => (m.0, m.1) = (m.0 + 1.0, m.1 + *cost as f64),
                _ => (m.2, m.3) = (m.2 + 1.0, m.3 + *cost as f64),
            }
        }
        let all: f64 = tasks.len() as f64;
        assert_eq!(all, 90.0, "{}", t.backend);
        let what_if = |query: String| {
            let router = router.clone();
            let key = key.clone();
            async move {
                let (status, body) = api_get(
                    &router,
                    &format!("/api/v1/what-if?workflow=support-triage{query}"),
                    &key,
                )
                .await;
                (
                    status,
                    serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
                    body,
                )
            }
        };
        let close = |found: &Value, expected: f64, what: &str| {
            let found = found.as_f64().unwrap_or(f64::NAN);
            // The engine rounds each cost component to the micro-dollar once per group.
            assert!(
                (found - expected).abs() <= 10.0,
                "{}: {what}: {found} vs {expected}",
                t.backend
            );
        };

        // Moving nothing: today's figures, projected unchanged.
        let (status, same, body) = what_if(String::new()).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);
        let spent: f64 = by_model.values().map(|m| m.1 + m.3).sum();
        let won: f64 = by_model.values().map(|m| m.0).sum();
        close(&same["today"]["cpst_micros"], spent / won, "today's CPST");
        assert_eq!(same["projected"], same["today"], "{}", t.backend);

        // Every ticket on the small model: its cost per succeeding and per other ticket, at
        // its success rate.
        let (status, routed, body) = what_if(format!("&routes=ticket:{SMALL}")).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);
        let small = by_model[SMALL];
        let wins = all * small.0 / (small.0 + small.2);
        let total = small.1 / small.0 * wins + small.3 / small.2 * (all - wins);
        close(&routed["projected"]["total_micros"], total, "routed total");
        close(
            &routed["projected"]["cpst_micros"],
            total / wins,
            "routed CPST",
        );
        close(
            &routed["projected"]["monthly_micros"],
            total,
            "a 30-day window is a month",
        );
        let (low, high) = (
            &routed["low"]["cpst_micros"],
            &routed["high"]["cpst_micros"],
        );
        assert!(
            low.as_i64() > routed["projected"]["cpst_micros"].as_i64()
                && high.as_i64() < routed["projected"]["cpst_micros"].as_i64(),
            "{}: the interval brackets the projection: {routed}",
            t.backend
        );

        // A failure rate of 10%: every model's failures scaled alike.
        let (_, fewer, _) = what_if("&failure_rate=10".into()).await;
        let failing: f64 = by_model.values().map(|m| m.2).sum();
        let (mut total, mut wins) = (0.0, 0.0);
        for m in by_model.values() {
            let fails = m.2 * (0.1 * all) / failing;
            let n = m.0 + m.2;
            total += m.1 / m.0 * (n - fails) + m.3 / m.2 * fails;
            wins += n - fails;
        }
        close(
            &fewer["projected"]["cpst_micros"],
            total / wins,
            "CPST at 10% failing",
        );
        assert_eq!(fewer["projected"]["success_rate"], 0.9, "{}", t.backend);

        // Ten tickets on the trial model are too few to route to.
        let trial = "ticket:anthropic/claude-opus-4-1";
        let (status, refused, _) = what_if(format!("&routes={trial}")).await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        assert_eq!(refused["projected"], Value::Null, "{}", t.backend);
        assert_eq!(
            refused["refusals"][0]["reason"], "not enough evidence: 10 tasks, need 30",
            "{}",
            t.backend
        );
        // Bad levers name their field.
        let (status, bad, _) = what_if("&failure_rate=150".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", t.backend);
        assert_eq!(
            bad["error"]["field"], "failure_rate",
            "{}: {bad}",
            t.backend
        );
        let (status, bad, _) = what_if("&routes=refund:openai/x".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", t.backend);
        assert_eq!(bad["error"]["field"], "routes", "{}: {bad}", t.backend);

        // The page projects the same figure, and saving it is audited and listed.
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let path = format!(
            "/workflows/support-triage/what-if?route_{ticket}={}",
            enc(SMALL)
        );
        let shown = send(&router, page(&path, Some(&owner))).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", t.backend);
        let cpst = app::domain::Micros(routed["projected"]["cpst_micros"].as_i64().unwrap());
        assert!(
            shown.body.contains(&format!("<strong>{cpst}</strong>")),
            "{}: {cpst} on the page",
            t.backend
        );
        let small = format!("{ticket}:{SMALL}");
        let save = |name: &str, routes: &str, cookie: &str| {
            let form = format!(
                "slug=support-triage&name={}&{}={}",
                enc(name),
                enc("form[routes]"),
                enc(routes)
            );
            let (router, cookie) = (router.clone(), cookie.to_owned());
            async move { rpc(&router, "save_what_if", &form, &cookie).await }
        };
        let saved = save("</textarea> small", &small, &owner).await;
        assert_eq!(
            saved.status,
            StatusCode::OK,
            "{}: {}",
            t.backend,
            saved.body
        );
        let again = save("</textarea> small", &small, &owner).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", t.backend);
        let thin = save(
            "trial",
            &format!("{ticket}:anthropic/claude-opus-4-1"),
            &owner,
        )
        .await;
        assert_eq!(
            thin.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            t.backend
        );
        let reason = "not enough evidence: 10 tasks, need 30";
        assert!(thin.body.contains(reason), "{}: {}", t.backend, thin.body);
        let audited: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'scenario.save'")
            .fetch_one(pool)
            .await
            .unwrap());
        assert_eq!(audited, 1, "{}", t.backend);
        let listed = send(
            &router,
            page("/workflows/support-triage/what-if", Some(&owner)),
        )
        .await;
        assert!(
            listed.body.contains("&lt;/textarea&gt; small"),
            "{}",
            t.backend
        );
        assert!(
            listed.body.contains(&format!("<td>{cpst}</td>")),
            "{}: saved projection",
            t.backend
        );
        // Three days on, the scenario sits beside what happened since, and links the periods.
        on_db!(&t.db, pool => sqlx::query("UPDATE scenarios SET created_at = created_at - 3 * 86400000")
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .unwrap();
        let later = send(
            &router,
            page("/workflows/support-triage/what-if", Some(&owner)),
        )
        .await;
        let since = format_day(today - 2);
        assert!(
            later.body.contains(&format!(
                "Actual, {since} to {}: 80 decided tasks",
                format_day(today)
            )),
            "{}: the days since",
            t.backend
        );
        assert!(
            later
                .body
                .contains("/workflows/support-triage/compare?baseline_from="),
            "{}: the comparison link",
            t.backend
        );
        // A reviewer reads no financial figures.
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        let denied = save("mine", &small, &reviewer).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", t.backend);
    }
}
