//! Reconciliation with the provider's bill: a FOCUS file, the OpenAI Costs API's and the
//! Anthropic cost report's answers and the Anthropic console's CSV, each covering a matching
//! month, an unattributed day, a price mismatch and a re-import that counts nothing twice; the
//! read API, the overview's coverage line, the settings and who may see them; both backends.

use crate::helpers::{
    ADMIN, FINANCE, OWNER, PASSWORD, api_get, app, page, people, rpc, send, sign_in, test_databases,
};
use crate::ingest::post;
use app::db::{Db, on_db};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;
use server::bill::{Format, Options, import_bill};

/// Models of one provider: A matches its bill, B is billed 10% over the price book's input
/// price, C is billed with no calls at all.
struct Provider {
    name: &'static str,
    a: &'static str,
    b: &'static str,
    c: &'static str,
    /// Seen per call of A: input and output; of B: input (1M input tokens each).
    a_input: i64,
    a_output: i64,
    b_input: i64,
}

const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    a: "claude-haiku-4-5",
    b: "claude-sonnet-4-5",
    c: "claude-opus-4-1",
    a_input: 1_000_000,
    a_output: 500_000,
    b_input: 3_000_000,
};

const OPENAI: Provider = Provider {
    name: "openai",
    a: "gpt-4.1-mini",
    b: "gpt-4o",
    c: "gpt-4.1",
    a_input: 400_000,
    a_output: 160_000,
    b_input: 2_500_000,
};

/// Ten calls of A on 2026-11-03 (1M input, 100k output tokens each) and two of B on
/// 2026-11-04 (1M input each), sent through the batch API.
async fn calls(router: &axum::Router, key: &str, p: &Provider) {
    let call = |id: String, model: &str, day: &str, output: i64| {
        json!({"id": id, "workflow": "support-triage", "correlation_id": format!("{model}-{day}"),
               "kind": "model", "provider": p.name, "model": model, "input_tokens": 1_000_000,
               "output_tokens": output, "started_at": format!("2026-11-{day}T10:00:00Z")})
    };
    let mut items: Vec<Value> = (0..10)
        .map(|i| call(format!("a-{i}"), p.a, "03", 100_000))
        .collect();
    items.extend((0..2).map(|i| call(format!("b-{i}"), p.b, "04", 0)));
    // The tasks the calls did, so that figures have rows to carry costs.
    let (tasks, attempts): (Vec<Value>, Vec<Value>) = [(p.a, "03"), (p.b, "04")]
        .into_iter()
        .map(|(model, day)| {
            let id = format!("{model}-{day}");
            let at = format!("2026-11-{day}T09:59:00Z");
            (
                json!({"id": id, "workflow": "support-triage", "started_at": at, "status": "completed"}),
                json!({"correlation_id": id, "workflow": "support-triage", "task": id,
                       "status": "succeeded", "started_at": at}),
            )
        })
        .unzip();
    let batch = json!({"tasks": tasks, "attempts": attempts, "calls": items});
    let (status, answer) = post(router, key, "application/json", batch.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Dollars as the files write them.
fn dollars(micros: i64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The bill's lines: (day, model, bucket, billed micro-dollars, billed tokens).
fn bill_lines(p: &Provider) -> Vec<(&'static str, &'static str, &'static str, i64, Option<i64>)> {
    vec![
        ("03", p.a, "input", 10 * p.a_input, None),
        ("03", p.a, "output", 10 * p.a_output, None),
        ("04", p.b, "input", 2 * p.b_input * 11 / 10, Some(2_000_000)),
        ("05", p.c, "input", 2_500_000, None),
    ]
}

fn focus_file(p: &Provider) -> String {
    let mut csv = String::from(
        "BillingAccountId,BilledCost,BillingCurrency,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,ServiceCategory,SkuMeter,ConsumedQuantity,ConsumedUnit,ChargeDescription\n",
    );
    for (day, model, bucket, micros, tokens) in bill_lines(p) {
        csv.push_str(&format!(
            "acct-1,{},USD,Usage,2026-11-{day}T00:00:00Z,2026-11-{:02}T00:00:00Z,{},AI and Machine Learning,\"{model}, {bucket}\",{},{},\"{model} {bucket} tokens\"\n",
            dollars(micros),
            day.parse::<u32>().unwrap() + 1,
            if p.name == "anthropic" { "Anthropic" } else { "OpenAI" },
            tokens.map(|t| t.to_string()).unwrap_or_default(),
            if tokens.is_some() { "Tokens" } else { "" },
        ));
    }
    // A tax, another service and a line in euros: skipped, skipped, refused.
    csv.push_str("acct-1,1.20,USD,Tax,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,Anthropic,AI and Machine Learning,,,,VAT\n");
    csv.push_str("acct-1,9.00,USD,Usage,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,Anthropic,Compute,vm,,,A virtual machine\n");
    csv.push_str("acct-1,1.00,EUR,Usage,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,Anthropic,AI and Machine Learning,x,,,Euros\n");
    csv
}

fn openai_file(p: &Provider) -> String {
    let buckets: Vec<Value> = ["03", "04", "05"]
        .iter()
        .map(|day| {
            let start = app::domain::time::parse_day(&format!("2026-11-{day}")).unwrap() * 86_400;
            let results: Vec<Value> = bill_lines(p)
                .into_iter()
                .filter(|l| l.0 == *day)
                .map(|(_, model, bucket, micros, _)| json!({
                    "object": "organization.costs.result",
                    "amount": {"value": micros as f64 / 1_000_000.0, "currency": "usd"},
                    "line_item": format!("{model}-2025-04-14, {bucket}"),
                    "project_id": "proj_support"}))
                .collect();
            json!({"object": "bucket", "start_time": start, "end_time": start + 86_400, "results": results})
        })
        .collect();
    json!({"object": "page", "data": buckets, "has_more": false, "next_page": null}).to_string()
}

fn anthropic_file(p: &Provider) -> String {
    let token_type = |bucket: &str| match bucket {
        "input" => "uncached_input_tokens",
        _ => "output_tokens",
    };
    let buckets: Vec<Value> = ["03", "04", "05"]
        .iter()
        .map(|day| {
            let results: Vec<Value> = bill_lines(p)
                .into_iter()
                .filter(|l| l.0 == *day)
                .map(|(_, model, bucket, micros, _)| {
                    json!({
                    // Cents, as a decimal string.
                    "currency": "USD", "amount": format!("{}", micros as f64 / 10_000.0),
                    "workspace_id": null, "description": format!("{model} {bucket}"),
                    "cost_type": "tokens", "context_window": "0-200k", "model": model,
                    "service_tier": "standard", "token_type": token_type(bucket)})
                })
                .collect();
            json!({"starting_at": format!("2026-11-{day}T00:00:00Z"),
                   "ending_at": format!("2026-11-{:02}T00:00:00Z", day.parse::<u32>().unwrap() + 1),
                   "results": results})
        })
        .collect();
    json!({"data": buckets, "has_more": false, "next_page": null}).to_string()
}

fn anthropic_console_csv(p: &Provider) -> String {
    let mut csv = String::from(
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type\n",
    );
    for (day, model, bucket, micros, _) in bill_lines(p) {
        let token_type = if bucket == "input" {
            "input_no_cache"
        } else {
            "output"
        };
        csv.push_str(&format!(
            "2026-11-{day},{model},Default,support-key,message,≤ 200k,{token_type},{},{},tokens\n",
            dollars(micros),
            dollars(micros)
        ));
    }
    csv
}

async fn imported(db: &Db, file: &str, body: &str, format: Format) -> server::bill::BillSummary {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, body).unwrap();
    let options = Options {
        format,
        provider: None,
        columns: Vec::new(),
        all_services: false,
    };
    import_bill(db, &path, &options, |_, _| {}).await.unwrap()
}

/// The read API's reconciliation of November 2026, by `group`.
async fn reconciliation(router: &axum::Router, key: &str, group: &str) -> Value {
    let (status, body) = api_get(
        router,
        &format!("/api/v1/reconciliation?from=2026-11-01&to=2026-11-30&group={group}"),
        key,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn line<'v>(answer: &'v Value, model: &str, period: &str) -> &'v Value {
    answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["model"].as_str().unwrap().starts_with(model) && l["period"] == period)
        .unwrap_or_else(|| panic!("no line for {model} {period}: {answer}"))
}

/// A bill file: its name, format, provider, how it is written, and how many lines it holds.
type Case = (
    &'static str,
    Format,
    &'static Provider,
    fn(&Provider) -> String,
    u64,
);

#[tokio::test]
async fn every_format_reconciles_a_month_and_names_an_unattributed_day_and_a_price_mismatch() {
    let cases: [Case; 4] = [
        ("focus.csv", Format::Focus, &ANTHROPIC, focus_file, 7),
        ("openai-costs.json", Format::Openai, &OPENAI, openai_file, 4),
        (
            "anthropic-cost-report.json",
            Format::Anthropic,
            &ANTHROPIC,
            anthropic_file,
            4,
        ),
        (
            "anthropic-console.csv",
            Format::AnthropicCsv,
            &ANTHROPIC,
            anthropic_console_csv,
            4,
        ),
    ];
    for (file, format, provider, write, lines) in cases {
        for t in test_databases().await {
            let what = format!("{}, {file}", t.backend);
            people(&t.db).await;
            let key = create_api_key(&t.db, "finance", &[], None).await.unwrap();
            let router = app(&t.db);
            calls(&router, &key, provider).await;
            app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
            let body = write(provider);
            let summary = imported(&t.db, file, &body, format).await;
            assert_eq!(summary.lines, lines, "{what}: {summary:?}");
            assert_eq!(summary.stored, 4, "{what}: {summary:?}");
            if format == Format::Focus {
                assert_eq!(
                    (summary.skipped, summary.refused),
                    (2, 1),
                    "{what}: {summary:?}"
                );
                assert!(
                    summary.reasons.keys().any(|r| r.contains("billed in EUR")),
                    "{what}: {summary:?}"
                );
            }

            let by_day = reconciliation(&router, &key, "day").await;
            let matching = line(&by_day, provider.a, "2026-11-03");
            assert_eq!(matching["cause"], "reconciled", "{what}: {matching}");
            assert_eq!(
                matching["billed_micros"],
                10 * (provider.a_input + provider.a_output),
                "{what}"
            );
            let mismatch = line(&by_day, provider.b, "2026-11-04");
            assert_eq!(mismatch["cause"], "price_mismatch", "{what}: {mismatch}");
            let implied = &mismatch["implied_prices"][0];
            assert_eq!(implied["token_type"], "input", "{what}");
            assert_eq!(
                implied["billed_per_mtok_micros"],
                provider.b_input * 11 / 10,
                "{what}: {mismatch}"
            );
            assert_eq!(implied["book_per_mtok_micros"], provider.b_input, "{what}");
            let unattributed = line(&by_day, provider.c, "2026-11-05");
            assert_eq!(unattributed["cause"], "unattributed_spend", "{what}");
            assert_eq!(unattributed["seen_micros"], 0, "{what}");
            assert_eq!(unattributed["billed_micros"], 2_500_000, "{what}");

            let by_month = reconciliation(&router, &key, "month").await;
            let month = line(&by_month, provider.a, "2026-11-01");
            assert_eq!(month["cause"], "reconciled", "{what}: a matching month");
            let totals = &by_month["providers"][0];
            assert_eq!(totals["provider"], provider.name, "{what}");
            assert_eq!(totals["unattributed_micros"], 2_500_000, "{what}");

            // The same file again: nothing stored twice, the figures as they were.
            let again = imported(&t.db, file, &body, format).await;
            assert_eq!((again.stored, again.unchanged), (0, 4), "{what}: {again:?}");
            let after = reconciliation(&router, &key, "month").await;
            assert_eq!(after["providers"], by_month["providers"], "{what}");
        }
    }
}

#[tokio::test]
async fn the_overview_says_how_much_of_the_bill_cpst_covers_and_only_finance_sees_bills() {
    for t in test_databases().await {
        people(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        calls(&router, &key, &ANTHROPIC).await;
        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
        imported(
            &t.db,
            "report.json",
            &anthropic_file(&ANTHROPIC),
            Format::Anthropic,
        )
        .await;

        // 15 + 6 seen of 15 + 6.6 + 2.5 billed: 87.13% covered.
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        let overview = send(
            &router,
            page("/?from=2026-11-01&to=2026-11-30", Some(&finance)),
        )
        .await;
        assert!(
            overview
                .body
                .contains("November 2026: CPST covers 87.13% of the $24.10 Anthropic bill."),
            "{}: {}",
            t.backend,
            overview.body
        );
        let shown = send(
            &router,
            page(
                "/reconciliation?from=2026-11-01&to=2026-11-30&by=day",
                Some(&finance),
            ),
        )
        .await;
        assert_eq!(shown.status, StatusCode::OK);
        for text in ["price mismatch", "unattributed spend", "claude-opus-4-1"] {
            assert!(shown.body.contains(text), "{}: {text}", t.backend);
        }
        assert!(
            !shown.body.contains("Reconciliation settings"),
            "finance without the cost permission reads, but does not change, the settings"
        );

        // An owner sees neither the line nor the page; a key scoped to a team reads no bill.
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let overview = send(
            &router,
            page("/?from=2026-11-01&to=2026-11-30", Some(&owner)),
        )
        .await;
        assert!(!overview.body.contains("CPST covers"), "{}", t.backend);
        let refused = send(&router, page("/reconciliation", Some(&owner))).await;
        assert!(
            refused
                .body
                .contains("does not include the providers&#x27; bills")
                || refused
                    .body
                    .contains("does not include the providers' bills"),
            "{}",
            t.backend
        );
        let team: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT id FROM teams WHERE slug = 'support'").fetch_one(pool).await.unwrap());
        let scoped = create_api_key(&t.db, "support", &[app::model::KeyScope::Team(team)], None)
            .await
            .unwrap();
        let (status, body) = api_get(&router, "/api/v1/reconciliation", &scoped).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        // An admin widens the threshold to 15%: the price mismatch (10% over) reconciles; the
        // change is audited. Finance without the permission cannot change it.
        let refused = rpc(&router, "save_finance_settings", "threshold=15", &finance).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let saved = rpc(&router, "save_finance_settings", "threshold=15", &admin).await;
        assert!(saved.status.is_success(), "{}", saved.body);
        let by_day = reconciliation(&router, &key, "day").await;
        assert_eq!(
            line(&by_day, ANTHROPIC.b, "2026-11-04")["cause"],
            "reconciled",
            "{}",
            t.backend
        );
        let refused = rpc(&router, "save_finance_settings", "threshold=80", &admin).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );

        // Finance allocates unattributed spend: November's $2.50 of Opus no call explains
        // becomes a cost component of the workflow that traced Anthropic spend that month,
        // and the month's days carry it exactly.
        let figures = |query: &'static str| {
            let router = router.clone();
            let key = key.clone();
            async move {
                let (status, body) = api_get(&router, query, &key).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                serde_json::from_str::<Value>(&body).unwrap()
            }
        };
        let month = "/api/v1/figures?from=2026-11-01&to=2026-11-30&group_by=workflow";
        let before = figures(month).await;
        assert_eq!(
            before["groups"][0]["cost_micros"]["unattributed"], 0,
            "{before}"
        );
        let saved = rpc(
            &router,
            "save_finance_settings",
            "threshold=15&allocate_unattributed=on",
            &admin,
        )
        .await;
        assert!(saved.status.is_success(), "{}", saved.body);
        let after = figures(month).await;
        let group = &after["groups"][0];
        assert_eq!(group["cost_micros"]["unattributed"], 2_500_000, "{after}");
        assert_eq!(
            group["total_cost_micros"].as_i64().unwrap()
                - before["groups"][0]["total_cost_micros"].as_i64().unwrap(),
            2_500_000,
            "{}",
            t.backend
        );
        let days = figures("/api/v1/figures?from=2026-11-01&to=2026-11-30&group_by=day").await;
        let by_day: i64 = days["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["cost_micros"]["unattributed"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(
            by_day, 2_500_000,
            "{}: the days add up to the month",
            t.backend
        );

        let audited: Vec<String> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT after FROM audit_log WHERE action = 'finance.settings' ORDER BY id").fetch_all(pool).await.unwrap());
        assert_eq!(audited.len(), 2, "{}", t.backend);
        assert!(
            audited[1].contains("\"allocate_unattributed\":true"),
            "{}",
            audited[1]
        );
        assert!(audited[0].contains("15%"), "{}", audited[0]);
        let imports: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'bill.import'").fetch_one(pool).await.unwrap());
        assert_eq!(imports, 1, "{}: every import is audited", t.backend);
    }
}
