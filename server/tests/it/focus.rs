//! The FOCUS export against the FOCUS 1.2 column rules (feature levels, types, formats,
//! nullability, allowed values, custom columns), and against the money it must add up to.

use crate::helpers::{app, page, send, sign_in, test_databases};
use app::domain::time::{day_of, format_day};
use axum::http::StatusCode;
use serde_json::Value;
use server::demo::{self, DemoSpec};

/// Every Mandatory column of FOCUS 1.2.
const MANDATORY: [&str; 21] = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
];

/// Mandatory columns that allow no null.
const NOT_NULL: [&str; 15] = [
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "ServiceName",
];

const DECIMALS: [&str; 6] = [
    "BilledCost",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "ConsumedQuantity",
    "PricingQuantity",
];

const SERVICE_CATEGORIES: [&str; 19] = [
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
];

/// The file's records, header first, read by a CSV parser that allows no ragged row.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.expect("RFC 4180").iter().map(str::to_owned).collect())
        .collect()
}

fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
}

fn is_focus_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .iter()
            .all(|r| b[r.clone()].iter().all(u8::is_ascii_digit))
}

fn micros(dollars: &str) -> i64 {
    app::domain::Micros::parse_dollars(dollars).unwrap().0
}

#[tokio::test]
async fn the_focus_export_follows_the_specification_and_adds_up_to_the_spend() {
    for t in test_databases().await {
        let today = day_of(app::db::now_ms());
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 11,
                tasks: 900,
                end_day: today,
            },
        )
        .await
        .unwrap();
        let router = app(&t.db);
        let finance = sign_in(
            &router,
            "finance@demo.finishline.test",
            "demo-finance-password",
        )
        .await;
        let reply = send(&router, page("/export/focus.csv?days=30", Some(&finance))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.header("content-disposition"),
            Some(
                format!(
                    "attachment; filename=\"finishline-focus-{}-to-{}.csv\"",
                    format_day(today - 29),
                    format_day(today)
                )
                .as_str()
            )
        );
        let table = records(&reply.body);
        let (header, rows) = (&table[0], &table[1..]);
        assert!(rows.len() > 50, "{}: {} rows", t.backend, rows.len());
        let at = |name: &str| {
            header
                .iter()
                .position(|c| c == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        };

        // Columns: every Mandatory one; custom ones prefixed x_ and after all FOCUS columns.
        for column in MANDATORY {
            at(column);
        }
        let first_custom = header.iter().position(|c| c.starts_with("x_")).unwrap();
        assert!(header[first_custom..].iter().all(|c| c.starts_with("x_")));
        assert!(
            header[..first_custom]
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric())
                    && c.chars().next().unwrap().is_ascii_uppercase())
        );

        let mut total = 0_i64;
        for row in rows {
            assert_eq!(row.len(), header.len(), "{row:?}");
            let get = |name: &str| row[at(name)].as_str();
            for column in NOT_NULL {
                assert!(!get(column).trim().is_empty(), "{column} is null: {row:?}");
            }
            for column in DECIMALS {
                let value = get(column);
                assert!(
                    value.is_empty() || is_decimal(value),
                    "{column} {value:?} is not a FOCUS decimal"
                );
            }
            for column in [
                "BillingPeriodStart",
                "BillingPeriodEnd",
                "ChargePeriodStart",
                "ChargePeriodEnd",
            ] {
                assert!(is_focus_time(get(column)), "{column} {:?}", get(column));
            }
            // A day's charge: start inclusive, end exclusive, inside its billing month.
            let start = &get("ChargePeriodStart")[..10];
            let end = &get("ChargePeriodEnd")[..10];
            let day = app::domain::time::parse_day(start).unwrap();
            assert_eq!(app::domain::time::parse_day(end), Some(day + 1));
            assert!(get("BillingPeriodStart") <= get("ChargePeriodStart"));
            assert!(get("ChargePeriodStart") < get("BillingPeriodEnd"));
            assert_eq!(get("BillingCurrency"), "USD");
            assert!(
                ["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
                    .contains(&get("ChargeCategory"))
            );
            assert_eq!(get("ChargeClass"), "", "nothing is a correction");
            assert!(["One-Time", "Recurring", "Usage-Based"].contains(&get("ChargeFrequency")));
            if get("ChargeCategory") == "Usage" {
                assert!(
                    !get("ConsumedQuantity").is_empty(),
                    "usage is measured: {row:?}"
                );
            }
            assert_eq!(
                get("ConsumedQuantity").is_empty(),
                get("ConsumedUnit").is_empty()
            );
            assert_eq!(
                get("PricingQuantity").is_empty(),
                get("PricingUnit").is_empty()
            );
            let category = get("ServiceCategory");
            assert!(SERVICE_CATEGORIES.contains(&category), "{category}");
            let subcategory = get("ServiceSubcategory");
            match category {
                "AI and Machine Learning" => assert!(
                    [
                        "AI Platforms",
                        "Bots",
                        "Generative AI",
                        "Machine Learning",
                        "Natural Language Processing",
                        "Other (AI and Machine Learning)"
                    ]
                    .contains(&subcategory),
                    "{subcategory}"
                ),
                other => assert_eq!(subcategory, format!("Other ({other})")),
            }
            // Tags: a flat JSON object, Finishline's keys under their own prefix.
            let tags: Value = serde_json::from_str(get("Tags")).unwrap();
            let tags = tags.as_object().unwrap();
            assert!(tags.keys().all(|k| k.starts_with("finishline/")));
            assert!(tags.values().all(|v| !v.is_object() && !v.is_array()));
            assert_eq!(tags["finishline/workflow"], get("x_Workflow"));
            // Finishline knows no discounts: every cost column is the same amount.
            let billed = get("BilledCost");
            for column in ["EffectiveCost", "ListCost", "ContractedCost"] {
                assert_eq!(get(column), billed, "{column}");
            }
            assert!(get("x_SucceededTasks").parse::<u64>().is_ok());
            assert!(get("x_AttemptedTasks").parse::<u64>().is_ok());
            total += micros(billed);
        }

        // The rows add up to every cost the period incurred: the calls of the tasks that
        // started in it (pending ones too), their review labour and the platform share.
        let (from, to) = ((today - 29) * 86_400_000, (today + 1) * 86_400_000);
        let calls: i64 = app::on_db!(&t.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(c.cost_micros), 0) AS BIGINT) FROM calls c
             JOIN tasks t ON t.id = c.task_id WHERE t.started_at >= $1 AND t.started_at < $2")
            .bind(from).bind(to).fetch_one(pool).await)
        .unwrap();
        let labour: i64 = app::on_db!(&t.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(labour_cost_micros), 0) AS BIGINT) FROM task_rollups
             WHERE day >= $1 AND day <= $2")
            .bind(today - 29).bind(today).fetch_one(pool).await)
        .unwrap();
        let overview = crate::helpers::rpc(&router, "get_overview", "days=30", &finance).await;
        let overview: Value = serde_json::from_str(&overview.body).unwrap();
        let platform = overview["overview"]["total"]["costs"]["platform"]
            .as_i64()
            .unwrap();
        assert!(platform > 0 && labour > 0 && calls > 0);
        assert_eq!(total, calls + labour + platform, "{}", t.backend);

        // An owner's file holds their team's workflows only; a reviewer gets none.
        let owner = sign_in(&router, "owner@demo.finishline.test", "demo-owner-password").await;
        let theirs = records(
            &send(&router, page("/export/focus.csv?days=30", Some(&owner)))
                .await
                .body,
        );
        let team = theirs[0].iter().position(|c| c == "x_Team").unwrap();
        assert!(theirs.len() > 1);
        assert!(
            theirs[1..].iter().all(|r| r[team] == "customer-ops"),
            "{:?}",
            &theirs[1]
        );
        let reviewer = sign_in(
            &router,
            "reviewer@demo.finishline.test",
            "demo-reviewer-password",
        )
        .await;
        let refused = send(&router, page("/export/focus.csv", Some(&reviewer))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let bad = send(&router, page("/export/focus.csv?from=soon", Some(&finance))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    }
}
