//! The read API: keys and their scope, parameters refused by name, CSV equal to JSON, and the
//! comparison, gate and model routes on the demo data.

use crate::helpers::{api_get, app, demo_with_key, get, test_databases};
use app::db::identity;
use app::domain::time::format_day;
use app::model::KeyScope;
use axum::http::StatusCode;
use server::api::create_api_key;
use server::demo::{self, DemoSpec};

use crate::helpers::DEMO_END_DAY as END_DAY;

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn window() -> String {
    format!(
        "from={}&to={}",
        format_day(END_DAY - 29),
        format_day(END_DAY)
    )
}

#[tokio::test]
async fn keys_are_required_and_limited_to_their_teams() {
    for t in test_databases().await {
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 4,
                tasks: 600,
                end_day: END_DAY,
            },
        )
        .await
        .unwrap();
        let router = app(&t.db);
        let (status, body) = get(&router, "/api/v1/figures").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", t.backend);
        assert_eq!(json(&body)["error"]["code"], "missing_api_key");
        let (status, body) = api_get(&router, "/api/v1/figures", "fl_not-a-key").await;
        assert_eq!(
            (status, json(&body)["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_api_key"))
        );

        let teams = identity::list_teams(&t.db).await.unwrap();
        let finance = teams.iter().find(|t| t.slug == "finance-ops").unwrap();
        let key = create_api_key(
            &t.db,
            "finance warehouse",
            &[KeyScope::Team(finance.id)],
            None,
        )
        .await
        .unwrap();
        let (status, body) = api_get(&router, &format!("/api/v1/figures?{}", window()), &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let labels: Vec<String> = json(&body)["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["label"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            labels,
            ["Invoice clearing"],
            "{}: a team key sees its team's workflows only",
            t.backend
        );
        let (status, body) =
            api_get(&router, "/api/v1/figures?workflow=support-triage", &key).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", t.backend);
        assert!(body.contains("support-triage"), "{body}");

        let mut tx = t.db.begin().await.unwrap();
        let keys = identity::list_api_keys(&t.db).await.unwrap();
        identity::revoke_api_key(&mut tx, keys[0].id, 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (status, _) = api_get(&router, "/api/v1/figures", &key).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{}: a revoked key stops working at once",
            t.backend
        );
    }
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let t = crate::helpers::sqlite().await;
    let key = demo_with_key(&t.db, 4, 300).await;
    let router = app(&t.db);
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-11-20&to=2026-11-01", "from"),
        ("days=0", "days"),
        ("days=10&from=2026-11-01", "days"),
        ("group_by=colour", "group_by"),
        ("workflow=nope", "workflow"),
        ("team=nope", "team"),
        ("version=v1", "version"),
        ("workflow=support-triage&version=v9", "version"),
        ("format=xml", "format"),
        ("detail=maybe", "detail"),
        ("wrkflow=support-triage", "wrkflow"),
    ] {
        let (status, body) = api_get(&router, &format!("/api/v1/figures?{query}"), &key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let error = &json(&body)["error"];
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("invalid_parameter"), Some(field)),
            "{query}"
        );
    }
    let (status, body) = api_get(&router, "/api/v1/nothing", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn the_csv_export_carries_the_same_figures_as_the_json() {
    let t = crate::helpers::sqlite().await;
    let key = demo_with_key(&t.db, 4, 600).await;
    let router = app(&t.db);
    let base = format!("/api/v1/figures?group_by=task_type&{}", window());
    let (_, body) = api_get(&router, &base, &key).await;
    let groups = json(&body)["groups"].as_array().unwrap().clone();
    let (status, csv) = api_get(&router, &format!("{base}&format=csv"), &key).await;
    assert_eq!(status, StatusCode::OK);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), groups.len());
    for (row, group) in rows.iter().zip(&groups) {
        assert_eq!(row[column("label")], group["label"].as_str().unwrap());
        assert_eq!(
            row[column("succeeded")],
            group["tasks"]["succeeded"].to_string()
        );
        let micros = group["total_cost_micros"].as_i64().unwrap();
        assert_eq!(
            row[column("total_cost_usd")],
            format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
        );
    }
}

#[tokio::test]
async fn versions_compare_gates_decide_and_models_are_weighed() {
    for t in test_databases().await {
        let key = demo_with_key(&t.db, 6, 2_000).await;
        let router = app(&t.db);
        let range = format!(
            "from={}&to={}",
            format_day(END_DAY - 89),
            format_day(END_DAY)
        );
        let uri = format!(
            "/api/v1/compare?workflow=support-triage&baseline=v1-large-model&candidate=v2-routed-reranked&{range}"
        );
        let (status, body) = api_get(&router, &uri, &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let c = json(&body);
        assert!(
            c["cpst_change_micros"].as_i64().unwrap() < 0,
            "{}: the routed version is cheaper per success",
            t.backend
        );
        assert!(c["success_rate_change"]["delta"].as_f64().unwrap() > 0.0);
        assert!(
            c["baseline"]["tasks"]["attempted"].as_u64().unwrap() > 100,
            "{body}"
        );

        let periods = format!(
            "/api/v1/compare?workflow=support-triage&baseline_from={}&baseline_to={}&candidate_from={}&candidate_to={}",
            format_day(END_DAY - 89),
            format_day(END_DAY - 60),
            format_day(END_DAY - 29),
            format_day(END_DAY)
        );
        let (status, body) = api_get(&router, &periods, &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let (status, body) = api_get(
            &router,
            &format!(
                "/api/v1/gate?workflow=invoice-clearing&to={}",
                format_day(END_DAY)
            ),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let gate = json(&body);
        let evidence = gate["evidence"].as_str().unwrap();
        assert!(
            evidence.starts_with("quality ") && evidence.contains("; cost "),
            "{evidence}"
        );
        assert_eq!(
            gate["passes"],
            gate["quality_proven"].as_bool().unwrap() && gate["cost_proven"].as_bool().unwrap()
        );

        let (status, body) = api_get(&router, &format!("/api/v1/models?{range}"), &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let models = json(&body);
        assert!(models["models"].as_array().unwrap().len() >= 3, "{body}");
        let winners = models["winners"].as_array().unwrap();
        assert_eq!(winners.len(), 4);
        // A workflow names a winner unless every model breaks its latency budget: the demo's
        // support triage has one of 10 s, which its slower first configuration misses.
        assert!(
            winners.iter().all(|w| w["model"].is_string()
                || w["over_latency_budget"].as_array().unwrap().len() == w["models_compared"]),
            "{body}"
        );
        let triage = winners
            .iter()
            .find(|w| w["workflow"] == "support-triage")
            .unwrap();
        assert_eq!(triage["latency_budget_ms"], 10_000, "{body}");
        for model in models["models"].as_array().unwrap() {
            for used in model["workflows"].as_array().unwrap() {
                if used["workflow"] != "support-triage" {
                    assert_eq!(used["over_latency_budget"], false, "{body}");
                    continue;
                }
                let over = used["p95_task_ms"].as_i64().unwrap() > 10_000;
                assert_eq!(used["over_latency_budget"], over, "{body}");
                assert!(!over || triage["model"] != model["model"], "{body}");
            }
        }

        let (status, body) = api_get(
            &router,
            &format!("/api/v1/calls?group_by=step&{range}"),
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let calls = json(&body);
        let steps: Vec<&str> = calls["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["key"].as_str().unwrap())
            .collect();
        assert!(
            steps.contains(&"drafter") && steps.contains(&"retriever"),
            "{steps:?}"
        );
    }
}

#[tokio::test]
async fn detail_ranks_the_costliest_tasks_and_escalation_reasons() {
    let t = crate::helpers::sqlite().await;
    let key = demo_with_key(&t.db, 4, 1_000).await;
    let uri = format!(
        "/api/v1/figures?workflow=support-triage&detail=true&{}",
        window()
    );
    let (status, body) = api_get(&app(&t.db), &uri, &key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let total = &json(&body)["total"];
    let detail = &total["detail"];
    let cost = &detail["cost_per_task_micros"];
    assert_eq!(cost["count"], total["tasks"]["attempted"]);
    assert!(
        cost["median"].as_i64() <= cost["p95"].as_i64()
            && cost["p95"].as_i64() <= cost["max"].as_i64()
    );
    let costliest = detail["costliest_tasks"].as_array().unwrap();
    assert_eq!(costliest.len(), 10);
    assert_eq!(costliest[0]["cost"], cost["max"]);
    let reasons = detail["escalation_reasons"].as_array().unwrap();
    let escalated: u64 = reasons.iter().map(|r| r[1].as_u64().unwrap()).sum();
    assert_eq!(Some(escalated), total["tasks"]["escalated"].as_u64());
    assert!(
        reasons
            .windows(2)
            .all(|w| w[0][1].as_u64() >= w[1][1].as_u64()),
        "ranked: {reasons:?}"
    );
    let share = detail["costliest_5pct_share"].as_f64().unwrap();
    assert!(share > 0.05 && share < 1.0, "{share}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_the_api_serves() {
    let t = crate::helpers::sqlite().await;
    let key = create_api_key(&t.db, "test", &[], None).await.unwrap();
    let router = app(&t.db);
    let (status, body) = get(&router, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc = json(&body);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "/api/v1/alerts",
            "/api/v1/calls",
            "/api/v1/compare",
            "/api/v1/figures",
            "/api/v1/gate",
            "/api/v1/ingest",
            "/api/v1/levers",
            "/api/v1/models",
            "/api/v1/reconciliation",
            "/api/v1/what-if",
            "/v1/logs",
            "/v1/traces"
        ]
    );
    for path in listed
        .iter()
        .filter(|p| !["/api/v1/ingest", "/v1/logs", "/v1/traces"].contains(p))
    {
        let (status, body) = api_get(&router, path, &key).await;
        assert_ne!(
            status,
            StatusCode::NOT_FOUND,
            "{path} is documented but not served: {body}"
        );
    }
    let gate_params: Vec<&str> = paths["/api/v1/gate"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        gate_params,
        ["workflow", "to"],
        "each route lists the parameters it takes"
    );
    for path in [
        "/api/v1/figures",
        "/api/v1/compare",
        "/api/v1/gate",
        "/api/v1/levers",
        "/api/v1/what-if",
        "/api/v1/models",
        "/api/v1/calls",
    ] {
        let responses = paths[path]["get"]["responses"].as_object().unwrap();
        assert!(
            ["200", "400", "401", "403"]
                .iter()
                .all(|code| responses.contains_key(*code)),
            "{path}: {responses:?}"
        );
    }
    let call = &doc["components"]["schemas"]["CallIn"]["properties"];
    assert_eq!(
        call["cost_usd"]["example"], "0.0042",
        "the ingestion fields carry examples"
    );
}
