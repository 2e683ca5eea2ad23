//! Hostile text in every free-text field a sender or an owner controls, then every page that
//! shows it, parsed by a real HTML parser: nothing may become markup that the template did not
//! put there, and every CSV export keeps its shape and runs no formula.

use crate::helpers::{
    ADMIN, PASSWORD, app, enc, ingest, page, people, rpc, send, sign_in, test_databases,
};
use app::db::on_db;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use scraper::{Html, Selector};
use serde_json::json;

/// What each field carries: closes every raw-text and RCDATA element, breaks out of both kinds
/// of attribute quote, and brings a refresh to another site, an image with a handler and a
/// script. Each field adds a variant of its own (letter case, whitespace inside the end tag).
const HOSTILE: &str = "</title></textarea></script></style><meta http-equiv=\"refresh\" \
     content=\"0;url=https://evil.example\"><img src=x onerror=alert(1)>\"'><svg onload=alert(2)>";

/// What fits in the shortest fields, first in every field.
const SHORT: &str = "</title></textarea><img src=x onerror=alert(1)>";

const VARIANTS: [&str; 6] = [
    "</TITLE ><img src=x onerror=alert(3)>",
    "</textarea\t><script>alert(4)</script>",
    "</title\n><base href=https://evil.example/>",
    "<!--<script>alert(5)</script>-->",
    "=HYPERLINK(\"https://evil.example\")",
    "\t=1+1\r@SUM(1)",
];

/// The hostile text for one field, kept within the field's length limit.
fn hostile(field: usize, max: usize) -> String {
    let text = format!("{SHORT}{}{HOSTILE}", VARIANTS[field % VARIANTS.len()]);
    text.char_indices()
        .take_while(|(at, c)| at + c.len_utf8() <= max)
        .map(|(_, c)| c)
        .collect()
}

/// Every element that would be there only because text became markup.
fn injected(document: &Html) -> Vec<String> {
    let mut found = Vec::new();
    let forbidden = Selector::parse(
        "meta[http-equiv], img, svg:not(.bar-track), base, iframe, object, embed, style, \
         a[href^='javascript'], link[href*='evil'], form[action*='evil']",
    )
    .unwrap();
    for element in document.select(&forbidden) {
        found.push(element.html());
    }
    let everything = Selector::parse("*").unwrap();
    for element in document.select(&everything) {
        if element
            .value()
            .attrs()
            .any(|(name, _)| name.to_ascii_lowercase().starts_with("on"))
        {
            found.push(element.html());
        }
    }
    // The template's scripts are ECharts and the hydration scripts, which carry this
    // response's nonce; anything else is injected. The hydration data holds the hostile text
    // too, as JSON inside a JavaScript string: never with a raw `<` that could end the script.
    let scripts = Selector::parse("script").unwrap();
    for script in document.select(&scripts) {
        let attributes = script.value();
        let from_template = attributes.attr("nonce").is_some()
            || attributes
                .attr("src")
                .is_some_and(|src| src.starts_with("/vendor/") || src.starts_with("/pkg/"));
        let text: String = script.text().collect();
        let raw_tag = ["<img", "<meta", "<svg", "<script", "<base", "</"]
            .iter()
            .any(|tag| text.to_ascii_lowercase().contains(tag));
        if !from_template || raw_tag {
            found.push(script.html());
        }
    }
    let titles = Selector::parse("title").unwrap();
    if document.select(&titles).count() != 1 {
        found.push("not exactly one <title>".to_owned());
    }
    found
}

/// The text of every `<title>` and `<textarea>`, as a browser reads it.
fn rcdata_texts(document: &Html) -> Vec<String> {
    let selector = Selector::parse("title, textarea").unwrap();
    document
        .select(&selector)
        .map(|element| element.text().collect())
        .collect()
}

async fn expect_ok(router: &axum::Router, endpoint: &str, form: &str, cookie: &str) -> String {
    let reply = rpc(router, endpoint, form, cookie).await;
    assert!(
        reply.status.is_success(),
        "{endpoint}: {} {}",
        reply.status,
        reply.body
    );
    reply.body
}

#[tokio::test]
async fn hostile_text_in_any_field_never_becomes_markup_on_any_page_or_breaks_an_export() {
    for t in test_databases().await {
        let who = people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let mut field = 0;
        let mut next = |max: usize| {
            field += 1;
            hostile(field, max)
        };

        // What an owner or admin writes.
        let workflow_name = next(100);
        let description = next(2_000);
        let form = format!(
            "id={}&slug=support-triage&name={}&team_id={}&description={}&budget=0.60\
             &quality_target=90&gate_window_days=30&gate_min_sample=400&drift_tolerance=10\
             &sampling_rate=100&second_grader_rate=20",
            who.workflow_a,
            enc(&workflow_name),
            who.team_a,
            enc(&description)
        );
        expect_ok(&router, "save_workflow", &form, &admin).await;
        let (type_name, goal, pass, segment) = (next(100), next(1_000), next(1_000), next(60));
        let form = format!(
            "workflow_id={}&id=0&slug=ticket&name={}&user_goal={}&pass_condition={}\
             &review_method=both&segments={}",
            who.workflow_a,
            enc(&type_name),
            enc(&goal),
            enc(&pass),
            enc(&segment.replace(',', ";"))
        );
        let task_type: i64 = expect_ok(&router, "save_task_type", &form, &admin)
            .await
            .trim()
            .parse()
            .expect("the task type's id");
        let team = next(100).replace(',', ";");
        let form = format!("slug=hostile-team&name={}&labour_rate=60", enc(&team));
        expect_ok(&router, "create_team", &form, &admin).await;
        let form = format!(
            "name={}&applies_to=team%3A{}&monthly=100&from_day=2020-01-01",
            enc(&next(100)),
            who.team_a
        );
        expect_ok(&router, "add_platform_cost", &form, &admin).await;
        let form = format!(
            "name={}&scopes%5B%5D=workflow%3A{}",
            enc(&next(100)),
            who.workflow_a
        );
        expect_ok(&router, "create_api_key", &form, &admin).await;
        let form = format!(
            "email=hostile%40example.com&name={}&role=reviewer&teams%5B%5D={}",
            enc(&next(100)),
            who.team_a
        );
        expect_ok(&router, "create_user", &form, &admin).await;

        // What a sender writes.
        let key = server::api::create_api_key(&t.db, "sender", &[], None)
            .await
            .unwrap();
        let now = app::db::now_ms() - 3_600_000;
        let task_id = next(200);
        let correlation = next(200);
        let reason = next(200);
        let version = next(200);
        let body = json!({
            "tasks": [{"id": task_id, "workflow": "support-triage", "task_type": "ticket",
                       "version": version, "segment": next(200), "started_at": now,
                       "finished_at": now + 9_000, "status": "escalated",
                       "escalation_reason": reason, "input_summary": next(4_000),
                       "output": {"reply": next(4_000), next(100): next(100)},
                       "expected": {"reply": next(4_000)},
                       "checks": {next(100): true}, "metrics": {next(100): 1.0},
                       "review_seconds": 60}],
            "attempts": [{"correlation_id": correlation, "workflow": "support-triage",
                          "task": task_id, "number": 1, "status": "failed",
                          "error": next(4_000), "started_at": now}],
            "calls": [{"id": next(200), "workflow": "support-triage",
                       "correlation_id": correlation, "kind": "model", "step": next(200),
                       "provider": next(200), "model": next(200), "input_tokens": 100,
                       "output_tokens": 10, "cost_usd": "0.01", "started_at": now + 1_000,
                       "error_type": next(200), "status": "error"}],
            "outcomes": [{"id": next(200), "workflow": "support-triage", "task": task_id,
                          "kind": "reopened", "occurred_at": now + 60_000,
                          "source": next(200), "detail": next(4_000)}],
            "grades": [{"id": next(200), "workflow": "support-triage", "task": task_id,
                        "grader": next(200), "verdict": "fail", "edit_severity": "factual",
                        "review_seconds": 30, "note": next(4_000),
                        "graded_at": now + 120_000}],
        });
        ingest(&router, &key, &body).await;
        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
        let form = format!(
            "workflow_id={}&days=30&escalation_reason=&status=",
            who.workflow_a
        );
        expect_ok(&router, "force_review", &form, &admin).await;

        let trace_id: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT MIN(id) FROM tasks")
            .fetch_one(pool)
            .await)
        .unwrap();
        let pages = [
            "/".to_owned(),
            "/?days=90".to_owned(),
            "/workflows".to_owned(),
            "/workflows/support-triage".to_owned(),
            "/workflows/support-triage?trend=model".to_owned(),
            format!("/workflows/support-triage/rules/{task_type}"),
            "/workflows/support-triage/gate".to_owned(),
            "/workflows/support-triage/compare".to_owned(),
            "/workflows/support-triage/what-if?failure_rate=5".to_owned(),
            "/tasks".to_owned(),
            "/tasks?workflow=support-triage&status=escalated".to_owned(),
            format!("/tasks/{trace_id}"),
            "/review".to_owned(),
            "/models".to_owned(),
            "/costs".to_owned(),
            "/prices".to_owned(),
            "/keys".to_owned(),
            "/users".to_owned(),
            "/audit".to_owned(),
            "/account".to_owned(),
        ];
        let mut not_shown = Vec::new();
        for uri in &pages {
            let reply = send(&router, page(uri, Some(&admin))).await;
            assert_eq!(reply.status, StatusCode::OK, "{}: {uri}", t.backend);
            let document = Html::parse_document(&reply.body);
            let found = injected(&document);
            assert!(
                found.is_empty(),
                "{}: {uri} has markup that is not the template's: {found:#?}",
                t.backend
            );
            if !reply.body.contains("onerror=alert(1)") {
                not_shown.push(uri.as_str());
            }
        }
        assert!(
            not_shown.len() <= 3,
            "{}: the hostile text should be on nearly every page, it is not on {not_shown:?}",
            t.backend
        );

        // Titles and textareas read back exactly what was stored.
        let reply = send(&router, page("/workflows/support-triage", Some(&admin))).await;
        let texts = rcdata_texts(&Html::parse_document(&reply.body));
        assert_eq!(texts[0], format!("{workflow_name} · Finishline"));
        for stored in [&description, &goal, &pass] {
            // A browser reads a carriage return in a page as a line feed, whatever escaping.
            let stored = stored.replace("\r\n", "\n").replace('\r', "\n");
            assert!(
                texts.contains(&stored),
                "{}: a textarea holds {stored:?}: {texts:#?}",
                t.backend
            );
        }
        let reply = send(&router, page(&format!("/tasks/{trace_id}"), Some(&admin))).await;
        let texts = rcdata_texts(&Html::parse_document(&reply.body));
        assert_eq!(
            texts[0],
            format!("Task {} · Finishline", task_id.replace('\r', "\n"))
        );

        // Every export: one field per column on every row, and no cell a spreadsheet would run.
        let mut exports = vec![
            "/export/tasks.csv".to_owned(),
            "/export/tasks.csv?workflow=support-triage&status=escalated".to_owned(),
            "/export/overview/workflows.csv".to_owned(),
            "/export/overview/teams.csv".to_owned(),
            "/export/models/models.csv".to_owned(),
            "/export/models/winners.csv".to_owned(),
            "/export/focus.csv".to_owned(),
            "/export/audit.csv".to_owned(),
        ];
        for table in [
            "components",
            "task-types",
            "segments",
            "trend",
            "cost-histogram",
            "escalations",
            "steps",
            "costliest",
        ] {
            exports.push(format!("/export/workflows/support-triage/{table}.csv"));
        }
        let read_api = "/api/v1/figures?format=csv&group_by=segment".to_owned();
        for uri in exports.iter().chain([&read_api]) {
            let request = if uri.starts_with("/api/") {
                Request::get(uri.as_str())
                    .header("authorization", format!("Bearer {key}"))
                    .body(Body::empty())
                    .unwrap()
            } else {
                page(uri, Some(&admin))
            };
            let reply = send(&router, request).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{}: {uri}: {}",
                t.backend,
                reply.body
            );
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(reply.body.as_bytes());
            let columns = reader.headers().expect("a header").len();
            for record in reader.records() {
                let record = record.unwrap_or_else(|e| panic!("{}: {uri}: {e}", t.backend));
                assert_eq!(record.len(), columns, "{}: {uri}", t.backend);
                for cell in &record {
                    let runs = cell.starts_with(['=', '+', '@', '\t', '\r'])
                        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                    assert!(
                        !runs,
                        "{}: {uri}: a cell a spreadsheet would run: {cell:?}",
                        t.backend
                    );
                }
            }
        }
    }
}
