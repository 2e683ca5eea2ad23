//! The finance and engineering views on the demo data: periods, team budgets, models, the
//! workflow's charts' figures, period comparison, and every table's CSV equal to the page.

use crate::helpers::{Reply, api_get, app, page, refusal, rpc, send, sign_in, test_databases};
use app::domain::time::{day_of, format_day};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::demo::{self, DemoSpec};

const FINANCE: &str = "finance@demo.finishline.test";
const FINANCE_PASSWORD: &str = "demo-finance-password";

fn json_of(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// The CSV's rows as fields, header first (the demo's names hold no commas or quotes).
fn csv_rows(reply: &Reply) -> Vec<Vec<String>> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    reply
        .body
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

fn micros(cpst: &Value) -> Option<i64> {
    cpst["Cost"].as_i64()
}

fn dollars(micros: i64) -> String {
    app::views::format::plain_dollars(app::domain::Micros(micros))
}

#[tokio::test]
async fn finance_views_take_any_period_roll_budgets_up_and_export_what_they_show() {
    for t in test_databases().await {
        let today = day_of(app::db::now_ms());
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 5,
                tasks: 1_500,
                end_day: today,
            },
        )
        .await
        .unwrap();
        let key = server::api::create_api_key(&t.db, "test", &[], None)
            .await
            .unwrap();
        let router = app(&t.db);
        let finance = sign_in(&router, FINANCE, FINANCE_PASSWORD).await;

        // A custom period is the same figures as the last-N-days period it equals.
        let (from, to) = (format_day(today - 29), format_day(today));
        let last_30 = json_of(&rpc(&router, "get_overview", "days=30", &finance).await);
        let custom = json_of(
            &rpc(
                &router,
                "get_overview",
                &format!("days=30&from={from}&to={to}"),
                &finance,
            )
            .await,
        );
        assert_eq!(last_30["overview"], custom["overview"], "{}", t.backend);
        let narrow = json_of(
            &rpc(
                &router,
                "get_overview",
                &format!("days=30&from={}&to={to}", format_day(today - 6)),
                &finance,
            )
            .await,
        );
        assert_eq!(narrow["overview"]["window"]["first_day"], today - 6);
        for (form, field) in [
            (
                format!("days=30&from=2026-02-30&to={to}"),
                "from: must be a date",
            ),
            (
                format!("days=30&from={to}&to={from}"),
                "from: must not be after to",
            ),
            (
                "days=30&from=2020-01-01".to_owned(),
                "from: a period covers at most 366 days",
            ),
            ("days=0".to_owned(), "days: must be from 1 to 366"),
        ] {
            let reply = rpc(&router, "get_overview", &form, &finance).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(
                refusal(&reply.body).starts_with(field),
                "{form}: {}",
                reply.body
            );
        }

        // A team's budget is its workflows' budgets weighted by their successes.
        let overview = &last_30["overview"];
        let workflows = overview["workflows"].as_array().unwrap();
        for team in overview["teams"].as_array().unwrap() {
            let (mut planned, mut succeeded) = (0i128, 0i128);
            for w in workflows.iter().filter(|w| w["team_id"] == team["team_id"]) {
                let n = w["set"]["counts"]["succeeded"].as_i64().unwrap() as i128;
                planned += w["budget"].as_i64().unwrap() as i128 * n;
                succeeded += n;
            }
            assert!(succeeded > 0, "the demo's teams all have successes");
            let expected = (planned * 2 + succeeded) / (2 * succeeded);
            assert_eq!(
                team["budget"].as_i64().map(i128::from),
                Some(expected),
                "{team}"
            );
        }

        // The overview's CSV holds the page's rows with exact dollars.
        let csv = csv_rows(
            &send(
                &router,
                page("/export/overview/workflows.csv?days=30", Some(&finance)),
            )
            .await,
        );
        assert_eq!(csv.len(), workflows.len() + 1);
        let (slug, cpst) = (column(&csv, "workflow"), column(&csv, "cpst_usd"));
        for w in workflows {
            let row = csv
                .iter()
                .find(|r| r[slug] == w["slug"].as_str().unwrap())
                .unwrap();
            assert_eq!(
                row[cpst],
                micros(&cpst_of(&w["set"])).map(dollars).unwrap_or_default(),
                "{}",
                t.backend
            );
        }
        let teams = csv_rows(
            &send(
                &router,
                page(
                    &format!("/export/overview/teams.csv?from={from}&to={to}"),
                    Some(&finance),
                ),
            )
            .await,
        );
        assert_eq!(teams.len(), overview["teams"].as_array().unwrap().len() + 1);

        // Models: the page's figures are the read API's.
        let models = json_of(&rpc(&router, "get_models", "days=30", &finance).await);
        let (status, body) = api_get(&router, "/api/v1/models?days=30", &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let api: Value = serde_json::from_str(&body).unwrap();
        let listed = models["models"].as_array().unwrap();
        assert!(listed.len() >= 3, "{models}");
        for m in listed {
            let same = api["models"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["model"] == m["model"])
                .unwrap();
            assert_eq!(
                same["weighted_cpst_micros"], m["weighted_cpst"],
                "{}",
                m["model"]
            );
            assert_eq!(same["decided_tasks"], m["decided"]);
            let shares: f64 = m["workflows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["weight"].as_f64().unwrap())
                .sum();
            assert!(
                (shares - 1.0).abs() < 1e-9,
                "weights add up to one: {shares}"
            );
        }
        let winners = models["winners"].as_array().unwrap();
        assert_eq!(winners.len(), workflows.len());
        for w in winners {
            let same = api["winners"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["workflow"] == w["workflow_slug"])
                .unwrap();
            assert_eq!(
                (same["model"].clone(), same["cpst_micros"].clone()),
                (w["model"].clone(), w["cpst"].clone())
            );
        }
        let csv = csv_rows(
            &send(
                &router,
                page("/export/models/winners.csv?days=30", Some(&finance)),
            )
            .await,
        );
        assert_eq!(csv.len(), winners.len() + 1);
        let html = send(&router, page("/models?days=30", Some(&finance))).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(html.body.contains("models-chart") && html.body.contains("winners-table"));

        // A workflow's engineering figures: the histogram counts every decided task once, the
        // Pareto of escalation reasons climbs to 100%, and the daily trend has 30 rows.
        let detail = json_of(
            &rpc(
                &router,
                "get_workflow",
                "slug=support-triage&trend_by=day",
                &finance,
            )
            .await,
        );
        let decided = detail["economics"]["all"]["decided"].as_u64().unwrap();
        let health = &detail["health_30d"];
        let binned: u64 = health["cost_histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .sum();
        assert_eq!(binned, decided, "{}", t.backend);
        let escalations = health["escalations"].as_array().unwrap();
        assert!(!escalations.is_empty());
        assert_eq!(escalations.last().unwrap()[2], 1.0);
        assert_eq!(detail["trend"].as_array().unwrap().len(), 30);
        assert_eq!(detail["trend_by"], "Day");
        let weekly = json_of(&rpc(&router, "get_workflow", "slug=support-triage", &finance).await);
        assert_eq!(weekly["trend"].as_array().unwrap().len(), 12);
        // Each week's component spend adds up to what the week's CPST divides.
        for week in weekly["trend"].as_array().unwrap() {
            let spend: i64 = week["costs"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_i64().unwrap())
                .sum();
            if let Some(cpst) = micros(&week["cpst"]) {
                assert!(spend >= cpst, "{week}");
            }
        }

        // The histogram's first bar links to the decided tasks it counts.
        let first = &health["cost_histogram"][0];
        let bar = json_of(
            &rpc(
                &router,
                "list_tasks",
                &format!(
                    "query[workflow]=support-triage&query[status]=decided&query[from]={}&query[to]={}&query[min_cost]={}&query[max_cost]={}",
                    detail["economics"]["from"].as_str().unwrap(),
                    detail["economics"]["to"].as_str().unwrap(),
                    dollars(first["from"].as_i64().unwrap()),
                    dollars(first["to"].as_i64().unwrap() - 1),
                ),
                &finance,
            )
            .await,
        );
        assert_eq!(
            bar["total"], first["count"],
            "{}: {first} {}",
            t.backend, health["cost_histogram"]
        );

        // Every table of the workflow page downloads, with the page's rows.
        for (table, rows) in [
            ("components", 6),
            ("trend", 12),
            ("escalations", escalations.len()),
            (
                "cost-histogram",
                health["cost_histogram"].as_array().unwrap().len(),
            ),
            ("steps", health["steps"].as_array().unwrap().len()),
            ("costliest", health["costliest"].as_array().unwrap().len()),
            (
                "task-types",
                weekly["economics"]["by_task_type"]
                    .as_array()
                    .unwrap()
                    .len(),
            ),
            (
                "segments",
                weekly["economics"]["by_segment"].as_array().unwrap().len(),
            ),
        ] {
            let uri = format!("/export/workflows/support-triage/{table}.csv");
            let csv = csv_rows(&send(&router, page(&uri, Some(&finance))).await);
            assert_eq!(csv.len(), rows + 1, "{table}");
        }
        let reply = send(
            &router,
            page(
                "/export/workflows/support-triage/trend.csv?trend=day",
                Some(&finance),
            ),
        )
        .await;
        let daily = csv_rows(&reply);
        assert_eq!(daily.len(), 31);
        // The file says whose table it is and which days it covers.
        let (first, last) = (&daily[1][0], &daily[30][0]);
        assert_eq!(
            reply.header("content-disposition"),
            Some(format!(
                "attachment; filename=\"finishline-support-triage-trend-day-{first}-to-{last}.csv\""
            ))
            .as_deref(),
            "{}",
            t.backend
        );
        let escalated = csv_rows(
            &send(
                &router,
                page(
                    "/export/workflows/support-triage/escalations.csv",
                    Some(&finance),
                ),
            )
            .await,
        );
        assert_eq!(escalated[1][0], escalations[0][0].as_str().unwrap());
        assert_eq!(escalated[1][1], escalations[0][1].to_string());
        for (uri, status) in [
            (
                "/export/workflows/support-triage/nothing.csv",
                StatusCode::NOT_FOUND,
            ),
            (
                "/export/workflows/support-triage/trend",
                StatusCode::NOT_FOUND,
            ),
            (
                "/export/workflows/no-such-flow/trend.csv",
                StatusCode::NOT_FOUND,
            ),
            (
                "/export/overview/workflows.csv?days=30&from=soon",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            assert_eq!(
                send(&router, page(uri, Some(&finance))).await.status,
                status,
                "{uri}"
            );
        }
        let anonymous = send(&router, page("/export/overview/workflows.csv", None)).await;
        assert_eq!(
            anonymous.status,
            StatusCode::SEE_OTHER,
            "to the sign-in page"
        );
        assert!(
            anonymous
                .header("location")
                .unwrap()
                .starts_with("/sign-in")
        );
        let reviewer = sign_in(
            &router,
            "reviewer@demo.finishline.test",
            "demo-reviewer-password",
        )
        .await;
        assert_eq!(
            send(&router, page("/export/models/models.csv", Some(&reviewer)))
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        // Two periods of the same workflow, every version: the last week against the one before.
        let periods = format!(
            "slug=support-triage&baseline=&candidate=&days=30&baseline_from={}&baseline_to={}&candidate_from={}&candidate_to={}",
            format_day(today - 13),
            format_day(today - 7),
            format_day(today - 6),
            format_day(today)
        );
        let compared = json_of(&rpc(&router, "compare_versions", &periods, &finance).await);
        assert_eq!(
            compared["candidate_heading"],
            json!(format!(
                "{} to {}",
                format_day(today - 6),
                format_day(today)
            ))
        );
        let week = json_of(
            &rpc(
                &router,
                "get_overview",
                &format!(
                    "days=7&from={}&to={}",
                    format_day(today - 6),
                    format_day(today)
                ),
                &finance,
            )
            .await,
        );
        let triage = week["overview"]["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["slug"] == "support-triage")
            .unwrap()
            .clone();
        assert_eq!(
            compared["comparison"]["candidate"], triage["set"],
            "a period of the whole workflow is the overview's figure"
        );
        let reply = rpc(
            &router,
            "compare_versions",
            &format!(
                "slug=support-triage&baseline=&candidate=&days=30&baseline_from={}",
                format_day(today - 13)
            ),
            &finance,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).starts_with("candidate_from: is required to compare periods"),
            "{}",
            reply.body
        );
        let csv = csv_rows(
            &send(
                &router,
                page(
                    &format!(
                        "/export/workflows/support-triage/comparison.csv?{}",
                        periods.replace("slug=support-triage&", "")
                    ),
                    Some(&finance),
                ),
            )
            .await,
        );
        assert_eq!(csv[0], ["figure", "baseline", "candidate", "change"]);
        assert_eq!(csv[2][0], "decided");
    }
}

fn cpst_of(set: &Value) -> Value {
    let succeeded = set["counts"]["succeeded"].as_i64().unwrap();
    if succeeded == 0 {
        return json!("NoSuccessfulTasks");
    }
    let total: i64 = set["costs"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    json!({ "Cost": (2 * total + succeeded) / (2 * succeeded) })
}
