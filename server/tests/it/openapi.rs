//! The OpenAPI document of the read routes is generated from the types the handlers use: every
//! answer names its schema, every parameter is listed once with its bounds, and real answers
//! on the demo data are valid against the document.

use crate::helpers::{DEMO_END_DAY, api_get, app, demo_with_key, get, test_databases};
use app::domain::time::format_day;
use app::report::API_MAX_DAYS;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Each read route with the schema its 200 answer must name.
const READ_ROUTES: [(&str, &str); 7] = [
    ("/api/v1/figures", "FiguresOut"),
    ("/api/v1/compare", "ComparisonOut"),
    ("/api/v1/gate", "GateOut"),
    ("/api/v1/models", "ModelsOut"),
    ("/api/v1/levers", "LeversOut"),
    ("/api/v1/what-if", "WhatIfOut"),
    ("/api/v1/calls", "CallsOut"),
];

async fn document(router: &axum::Router) -> Value {
    let (status, body) = get(router, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn schema_ref(doc: &Value, path: &str) -> String {
    let content = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"];
    content["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: the 200 answer has no named schema: {content}"))
        .to_owned()
}

#[tokio::test]
async fn every_read_route_names_its_answer_and_lists_each_parameter_once_with_its_bounds() {
    let t = crate::helpers::sqlite().await;
    let doc = document(&app(&t.db)).await;
    for (path, schema) in READ_ROUTES {
        assert_eq!(
            schema_ref(&doc, path),
            format!("#/components/schemas/{schema}")
        );
        let properties = &doc["components"]["schemas"][schema]["properties"];
        assert!(
            properties.as_object().is_some_and(|p| !p.is_empty()),
            "{schema} describes its fields: {properties}"
        );
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let mut names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
        let listed = names.len();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            listed,
            "{path} lists a parameter twice: {names:?}"
        );
        for param in params {
            let name = param["name"].as_str().unwrap();
            assert_eq!(param["in"], "query", "{path} {name}");
            let schema = &param["schema"];
            if name == "days" || name.ends_with("_days") {
                assert_eq!(
                    (&schema["type"], &schema["minimum"], &schema["maximum"]),
                    (&json!("integer"), &json!(1), &json!(API_MAX_DAYS)),
                    "{path} {name}"
                );
            }
            if name == "from" || name == "to" || name.ends_with("_from") || name.ends_with("_to") {
                assert_eq!(schema["format"], "date", "{path} {name}: {schema}");
            }
        }
    }
    let gate = &doc["paths"]["/api/v1/gate"]["get"]["parameters"][0];
    assert_eq!(
        (&gate["name"], &gate["required"]),
        (&json!("workflow"), &json!(true))
    );
}

#[tokio::test]
async fn a_parameter_the_document_does_not_list_is_refused_by_every_read_route() {
    let t = crate::helpers::sqlite().await;
    let key = demo_with_key(&t.db, 4, 100).await;
    let router = app(&t.db);
    for (path, _) in READ_ROUTES {
        let (status, body) = api_get(&router, &format!("{path}?colour=blue"), &key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["field"], "colour", "{path}: {body}");
    }
}

#[tokio::test]
async fn real_answers_of_every_read_route_match_their_documented_schema() {
    for t in test_databases().await {
        let key = demo_with_key(&t.db, 6, 1_000).await;
        let router = app(&t.db);
        let doc = document(&router).await;
        let range = format!(
            "from={}&to={}",
            format_day(DEMO_END_DAY - 89),
            format_day(DEMO_END_DAY)
        );
        let asked = [
            (
                "/api/v1/figures",
                format!("group_by=workflow&detail=true&{range}"),
            ),
            ("/api/v1/figures", format!("group_by=day&{range}")),
            (
                "/api/v1/compare",
                format!(
                    "workflow=support-triage&baseline=v1-large-model&candidate=v2-routed-reranked&{range}"
                ),
            ),
            (
                "/api/v1/compare",
                format!(
                    "baseline_from={}&baseline_to={}&candidate_days=30&candidate_to={}",
                    format_day(DEMO_END_DAY - 89),
                    format_day(DEMO_END_DAY - 60),
                    format_day(DEMO_END_DAY)
                ),
            ),
            (
                "/api/v1/gate",
                format!("workflow=invoice-clearing&to={}", format_day(DEMO_END_DAY)),
            ),
            ("/api/v1/models", range.clone()),
            ("/api/v1/levers", format!("workflow=support-triage&{range}")),
            (
                "/api/v1/what-if",
                format!("workflow=support-triage&{range}&failure_rate=5&retry_cut=50"),
            ),
            ("/api/v1/calls", format!("group_by=model&{range}")),
            // Empty answers (nothing in the window) are valid too.
            (
                "/api/v1/figures",
                "from=2001-01-01&to=2001-01-31&detail=true".to_owned(),
            ),
            ("/api/v1/models", "from=2001-01-01&to=2001-01-31".to_owned()),
            (
                "/api/v1/levers",
                "workflow=support-triage&from=2001-01-01&to=2001-01-31".to_owned(),
            ),
            (
                "/api/v1/what-if",
                "workflow=support-triage&from=2001-01-01&to=2001-01-31&failure_rate=5".to_owned(),
            ),
        ];
        for (path, query) in asked {
            let (status, body) = api_get(&router, &format!("{path}?{query}"), &key).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{}: {path}?{query}: {body}",
                t.backend
            );
            let schema = json!({
                "$ref": schema_ref(&doc, path),
                "components": doc["components"],
            });
            let validator = jsonschema::validator_for(&schema).unwrap();
            assert!(
                !validator.is_valid(&json!({"from": 20_400})),
                "{path}: the schema checks fields, it is not a bare object"
            );
            let answer: Value = serde_json::from_str(&body).unwrap();
            let problems: Vec<String> = validator
                .iter_errors(&answer)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                problems.is_empty(),
                "{}: {path}?{query} breaks its schema: {problems:?}",
                t.backend
            );
        }
    }
}
