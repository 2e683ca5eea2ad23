//! Every sender id lives in its workflow's namespace: a key scoped to one team can neither
//! join, claim, block nor probe another team's tasks, attempts and calls, nor book work to a
//! team it may not write to; on SQLite and PostgreSQL.

use crate::helpers::{empty_databases, test_databases};
use crate::ingest::{batch, catalog, cost_total, post, today};
use app::db::{Db, identity, on_db};
use app::model::KeyScope;
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;

/// A key for each team of [`catalog`]: `support` (support-triage) and `finance`
/// (invoice-clearing).
async fn team_keys(db: &Db) -> (String, String) {
    let teams = identity::list_teams(db).await.unwrap();
    let mut keys = Vec::new();
    for slug in ["support", "finance"] {
        let team = teams.iter().find(|t| t.slug == slug).unwrap().id;
        let key = create_api_key(db, slug, &[KeyScope::Team(team)], None).await;
        keys.push(key.unwrap());
    }
    (keys.remove(0), keys.remove(0))
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap()
}

/// The rolled-up cost of one workflow's tasks.
async fn workflow_cost(db: &Db, slug: &str) -> i64 {
    cost_total(db).await;
    scalar(
        db,
        &format!(
            "SELECT CAST(COALESCE(SUM(r.model_cost_micros + r.tool_cost_micros + r.retry_cost_micros
                 + r.cache_cost_micros), 0) AS BIGINT)
             FROM task_rollups r JOIN workflows w ON w.id = r.workflow_id WHERE w.slug = '{slug}'"
        ),
    )
    .await
}

/// A call of invoice-clearing that names `correlation_id`, costing $1.
fn finance_call(id: &str, correlation_id: &str) -> Value {
    json!({"calls": [{"id": id, "workflow": "invoice-clearing", "correlation_id": correlation_id,
        "kind": "model", "provider": "anthropic", "model": "claude-haiku-4-5", "cost_usd": "1.00",
        "started_at": format!("{}T10:00:02Z", today())}]})
}

#[tokio::test]
async fn a_call_never_joins_another_workflows_attempt() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let (support, finance) = team_keys(&t.db).await;
        let router = crate::helpers::app(&t.db);
        let (status, _) = post(
            &router,
            &support,
            "application/json",
            batch(&today()).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        let before = workflow_cost(&t.db, "support-triage").await;
        assert_eq!(before, 4_700, "{}", t.backend);

        // Finance's key names its own workflow but support's attempt id.
        let body = finance_call("steal-1", "t-1-a1").to_string();
        let (status, answer) = post(&router, &finance, "application/json", body).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        assert_eq!(
            workflow_cost(&t.db, "support-triage").await,
            before,
            "{}: support's figures do not take finance's call",
            t.backend
        );
        let joined = scalar(
            &t.db,
            "SELECT COUNT(*) FROM calls WHERE external_id = 'steal-1' AND task_id IS NOT NULL",
        )
        .await;
        assert_eq!(
            joined, 0,
            "{}: the call stays with its own workflow",
            t.backend
        );
    }
}

#[tokio::test]
async fn calls_sent_early_are_claimed_only_by_their_own_workflows_attempt() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let (support, finance) = team_keys(&t.db).await;
        let router = crate::helpers::app(&t.db);
        // Finance sends calls first under the attempt id support will use.
        let body = finance_call("early-1", "t-1-a1").to_string();
        let (status, _) = post(&router, &finance, "application/json", body).await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        let (status, answer) = post(
            &router,
            &support,
            "application/json",
            batch(&today()).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        assert_eq!(
            workflow_cost(&t.db, "support-triage").await,
            4_700,
            "{}: support's attempt claims its own calls only",
            t.backend
        );
        let claimed = scalar(
            &t.db,
            "SELECT COUNT(*) FROM calls WHERE external_id = 'early-1' AND attempt_id IS NOT NULL",
        )
        .await;
        assert_eq!(claimed, 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn an_attempt_id_taken_in_one_workflow_is_free_in_another() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let (support, finance) = team_keys(&t.db).await;
        let router = crate::helpers::app(&t.db);
        let day = today();
        let finance_batch = json!({
            "tasks": [{"id": "t-1", "workflow": "invoice-clearing", "started_at": format!("{day}T09:00:00Z"),
                       "status": "running"}],
            "attempts": [{"correlation_id": "t-1-a1", "workflow": "invoice-clearing", "task": "t-1",
                          "status": "running", "started_at": format!("{day}T09:00:00Z")}],
        });
        let (status, answer) = post(
            &router,
            &finance,
            "application/json",
            finance_batch.to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        // Support's attempt with the same ids is its own, not a conflict that reveals finance's.
        let (status, answer) = post(
            &router,
            &support,
            "application/json",
            batch(&day).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        assert_eq!(answer["counts"]["attempts"]["created"], 1, "{answer}");
        let attempts = scalar(
            &t.db,
            "SELECT COUNT(*) FROM attempts WHERE correlation_id = 't-1-a1'",
        )
        .await;
        assert_eq!(attempts, 2, "{}", t.backend);
        assert_eq!(
            workflow_cost(&t.db, "invoice-clearing").await,
            0,
            "{}",
            t.backend
        );
        assert_eq!(
            workflow_cost(&t.db, "support-triage").await,
            4_700,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_task_is_booked_only_to_a_team_its_key_may_write_to() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let (support, _) = team_keys(&t.db).await;
        let router = crate::helpers::app(&t.db);
        let mut answers = Vec::new();
        for team in ["finance", "no-such-team"] {
            let mut body = batch(&today());
            body["tasks"][0]["team"] = json!(team);
            body["tasks"][0]["id"] = json!(format!("booked-to-{team}"));
            let body = json!({"tasks": body["tasks"]}).to_string();
            let (status, answer) = post(&router, &support, "application/json", body).await;
            assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {answer}", t.backend);
            let error = &answer["errors"][0];
            assert_eq!(error["field"], "team", "{answer}");
            answers.push((
                error["status"].clone(),
                error["code"].clone(),
                error["message"].as_str().unwrap().replace(team, "<team>"),
            ));
        }
        assert_eq!(
            answers[0], answers[1],
            "{}: another team's name and a missing one get the same answer",
            t.backend
        );
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM tasks").await,
            0,
            "{}",
            t.backend
        );
        // Its own team, by name, is fine.
        let mut body = batch(&today());
        body["tasks"][0]["team"] = json!("support");
        let (status, answer) = post(&router, &support, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
    }
}

#[tokio::test]
async fn a_scoped_key_cannot_tell_another_teams_workflow_from_a_missing_one() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let (support, _) = team_keys(&t.db).await;
        let router = crate::helpers::app(&t.db);
        let mut answers = Vec::new();
        for slug in ["invoice-clearing", "no-such-workflow"] {
            let mut body = batch(&today());
            body["tasks"][0]["workflow"] = json!(slug);
            let body = json!({"tasks": body["tasks"]}).to_string();
            let (_, answer) = post(&router, &support, "application/json", body).await;
            let error = &answer["errors"][0];
            answers.push((
                error["status"].clone(),
                error["code"].clone(),
                error["message"].as_str().unwrap().replace(slug, "<slug>"),
            ));
            for route in ["figures", "levers", "what-if"] {
                let (status, body) = crate::helpers::api_get(
                    &router,
                    &format!("/api/v1/{route}?workflow={slug}"),
                    &support,
                )
                .await;
                answers.push((
                    json!(status.as_u16()),
                    Value::Null,
                    body.replace(slug, "<slug>"),
                ));
            }
        }
        assert_eq!(answers[0], answers[4], "{}: ingestion", t.backend);
        assert_eq!(answers[1], answers[5], "{}: read API", t.backend);
        assert_eq!(answers[2], answers[6], "{}: levers", t.backend);
        assert_eq!(answers[3], answers[7], "{}: what-if", t.backend);
        let (status, body) =
            crate::helpers::api_get(&router, "/api/v1/figures?team=finance", &support).await;
        let (missing_status, missing) =
            crate::helpers::api_get(&router, "/api/v1/figures?team=no-such-team", &support).await;
        assert_eq!(
            (status, body.replace("finance", "<team>")),
            (missing_status, missing.replace("no-such-team", "<team>")),
            "{}: teams alike",
            t.backend
        );
    }
}

/// Data stored before ids were namespaced, with a call joined across workflows, keeps its
/// rows; the crossing call is set loose and both workflows' figures are recomputed.
#[tokio::test]
async fn the_migration_keeps_attempts_and_sets_calls_joined_across_workflows_loose() {
    for t in empty_databases().await {
        let before_namespaces = |m: &sqlx::migrate::Migrator| sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                m.migrations
                    .iter()
                    .filter(|m| m.version <= 11)
                    .cloned()
                    .collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        match &t.db {
            Db::Sqlite(pool, _) => before_namespaces(&sqlx::migrate!("../migrations/sqlite"))
                .run(pool)
                .await
                .unwrap(),
            Db::Postgres(pool) => before_namespaces(&sqlx::migrate!("../migrations/postgres"))
                .run(pool)
                .await
                .unwrap(),
        }
        let day = 20_400_i64;
        let at = day * 86_400_000 + 3_600_000;
        for sql in [
            "INSERT INTO teams (id, slug, name, labour_rate_micros_per_hour, created_at)
             VALUES (1, 'support', 'Support', 0, 0), (2, 'finance', 'Finance', 0, 0)"
                .to_owned(),
            "INSERT INTO workflows (id, slug, name, team_id, budget_cpst_micros, quality_target_bp,
                 gate_window_days, gate_min_sample, drift_tolerance_bp, created_at, updated_at)
             VALUES (1, 'support-triage', 'Support triage', 1, 1000000, 9000, 30, 10, 1000, 0, 0),
                    (2, 'invoice-clearing', 'Invoice clearing', 2, 1000000, 9000, 30, 10, 1000, 0, 0)"
                .to_owned(),
            format!(
                "INSERT INTO tasks (id, external_id, workflow_id, team_id, started_at, reported_status,
                     status, content_hash, created_at, updated_at)
                 VALUES (1, 't-1', 1, 1, {at}, 'completed', 'pending', 'h', 0, 0)"
            ),
            format!(
                "INSERT INTO attempts (id, task_id, number, correlation_id, status, started_at, content_hash)
                 VALUES (1, 1, 1, 't-1-a1', 'succeeded', {at}, 'h')"
            ),
            format!(
                "INSERT INTO calls (id, external_id, workflow_id, correlation_id, task_id, attempt_id,
                     kind, cost_micros, cost_source, started_at, status, content_hash, created_at)
                 VALUES (1, 'own', 1, 't-1-a1', 1, 1, 'model', 100, 'reported', {at}, 'ok', 'h', 0),
                        (2, 'crossing', 2, 't-1-a1', 1, 1, 'model', 999, 'reported', {at}, 'ok', 'h', 0)"
            ),
        ] {
            on_db!(&t.db, pool => sqlx::query(&sql).execute(pool).await.map(|done| done.rows_affected())).unwrap();
        }
        t.db.migrate().await.unwrap();
        assert_eq!(
            scalar(&t.db, "SELECT workflow_id FROM attempts WHERE id = 1").await,
            1,
            "{}",
            t.backend
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM calls WHERE attempt_id = 1 AND task_id = 1"
            )
            .await,
            1,
            "{}: the call of the attempt's own workflow stays joined",
            t.backend
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM calls WHERE id = 2 AND attempt_id IS NULL AND task_id IS NULL"
            )
            .await,
            1,
            "{}: the crossing call is kept, loose",
            t.backend
        );
        assert_eq!(
            scalar(
                &t.db,
                &format!("SELECT COUNT(*) FROM rollup_dirty WHERE day = {day} AND version > refreshed_version")
            )
            .await,
            2,
            "{}: both workflows' figures are recomputed",
            t.backend
        );
        // The id is now free in the other workflow.
        let sql = format!(
            "INSERT INTO tasks (id, external_id, workflow_id, team_id, started_at, reported_status,
                 status, content_hash, created_at, updated_at)
             VALUES (2, 't-1', 2, 2, {at}, 'completed', 'pending', 'h', 0, 0)"
        );
        on_db!(&t.db, pool => sqlx::query(&sql).execute(pool).await.map(|done| done.rows_affected())).unwrap();
        let sql = format!(
            "INSERT INTO attempts (id, workflow_id, task_id, number, correlation_id, status, started_at, content_hash)
             VALUES (2, 2, 2, 1, 't-1-a1', 'succeeded', {at}, 'h')"
        );
        on_db!(&t.db, pool => sqlx::query(&sql).execute(pool).await.map(|done| done.rows_affected())).unwrap();
    }
}

/// A task of another team's workflow booked to the owner's team (an unscoped key may do that,
/// for cost allocation) stays invisible to that owner: its trace answers like a missing task.
#[tokio::test]
async fn an_owner_sees_a_task_only_through_its_workflow() {
    use crate::helpers::{OWNER, PASSWORD, app, people, rpc, sign_in};
    for t in test_databases().await {
        let p = people(&t.db).await;
        let key = create_api_key(&t.db, "everything", &[], None)
            .await
            .unwrap();
        let router = app(&t.db);
        let day = today();
        let body = json!({"tasks": [
            {"id": "booked-to-support", "workflow": "invoice-clearing", "team": "support",
             "started_at": format!("{day}T09:00:00Z"), "status": "running"},
            {"id": "own", "workflow": "support-triage",
             "started_at": format!("{day}T09:00:00Z"), "status": "running"}
        ]});
        let (status, answer) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        let id = |external: &str| format!("SELECT id FROM tasks WHERE external_id = '{external}'");
        let booked = scalar(&t.db, &id("booked-to-support")).await;
        let own = scalar(&t.db, &id("own")).await;
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let trace =
            async |id: i64| rpc(&router, "get_task_trace", &format!("id={id}"), &owner).await;
        assert_eq!(trace(own).await.status, StatusCode::OK, "{}", t.backend);
        let hidden = trace(booked).await;
        let missing = trace(booked + own + 1_000).await;
        assert_eq!(
            (hidden.status, hidden.body),
            (missing.status, missing.body),
            "{}: another workflow's task answers like a missing one",
            t.backend
        );
        assert_eq!(
            p.team_a,
            scalar(
                &t.db,
                "SELECT team_id FROM tasks WHERE external_id = 'booked-to-support'"
            )
            .await
        );
    }
}

#[tokio::test]
async fn a_workflow_slug_is_private_to_its_team() {
    use crate::helpers::{ADMIN, OWNER, PASSWORD, app, enc, people, refusal, rpc, sign_in};
    for t in test_databases().await {
        let p = people(&t.db).await;
        let router = app(&t.db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;

        // The support owner picks the slug finance-ops uses: nothing tells them it is in use.
        let form = format!(
            "id=0&slug=invoice-clearing&name={}&team_id={}&description=&budget=0.40\
             &quality_target=90&gate_window_days=30&gate_min_sample=200&drift_tolerance=10\
             &sampling_rate=5&second_grader_rate=0",
            enc("Support's invoices"),
            p.team_a
        );
        let reply = rpc(&router, "save_workflow", &form, &owner).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {}",
            t.backend,
            reply.body
        );
        assert_eq!(reply.body, "\"invoice-clearing\"", "{}", t.backend);
        let again = rpc(&router, "save_workflow", &form, &owner).await;
        assert!(
            refusal(&again.body).contains("slug: is taken by another workflow of this team"),
            "{}: {}",
            t.backend,
            again.body
        );
        let page = rpc(&router, "get_workflow", "slug=invoice-clearing", &owner).await;
        assert_eq!(page.status, StatusCode::OK, "{}", t.backend);
        let page: Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(
            page["settings"]["team_id"],
            json!(p.team_a),
            "{}",
            t.backend
        );
        assert_eq!(page["handle"], json!("invoice-clearing"), "{}", t.backend);

        // Someone who sees both teams names each as team:slug; the bare slug is ambiguous.
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let bare = rpc(&router, "get_workflow", "slug=invoice-clearing", &admin).await;
        assert_eq!(
            bare.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            t.backend
        );
        assert!(
            refusal(&bare.body).contains("write team:invoice-clearing"),
            "{}",
            bare.body
        );
        for (name, team) in [
            ("support:invoice-clearing", p.team_a),
            ("finance-ops:invoice-clearing", p.team_b),
        ] {
            let reply = rpc(&router, "get_workflow", &format!("slug={name}"), &admin).await;
            assert_eq!(reply.status, StatusCode::OK, "{}: {name}", t.backend);
            let page: Value = serde_json::from_str(&reply.body).unwrap();
            assert_eq!(page["settings"]["team_id"], json!(team), "{}", t.backend);
            assert_eq!(page["handle"], json!(name), "{}", t.backend);
        }
        let list = rpc(&router, "list_workflows", "", &admin).await;
        for handle in [
            "support:invoice-clearing",
            "finance-ops:invoice-clearing",
            "support-triage",
        ] {
            assert!(
                list.body.contains(&format!("\"{handle}\"")),
                "{}: {}",
                t.backend,
                list.body
            );
        }

        // Senders: a key scoped to a team finds its own workflow by the bare slug; a key that
        // sees both must name the team, and its item is refused, not guessed.
        let support = create_api_key(&t.db, "support", &[KeyScope::Team(p.team_a)], None)
            .await
            .unwrap();
        let everything = create_api_key(&t.db, "everything", &[], None)
            .await
            .unwrap();
        let task = |id: &str, workflow: &str| {
            json!({"tasks": [{"id": id, "workflow": workflow, "status": "running",
                "started_at": format!("{}T09:00:00Z", today())}]})
            .to_string()
        };
        let (status, answer) = post(
            &router,
            &support,
            "application/json",
            task("s-1", "invoice-clearing"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        let (status, answer) = post(
            &router,
            &everything,
            "application/json",
            task("e-1", "invoice-clearing"),
        )
        .await;
        // A batch answers 207 with each refused item, here its only one.
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {answer}", t.backend);
        assert_eq!(answer["errors"][0]["field"], "workflow", "{answer}");
        assert!(
            answer.to_string().contains("write team:invoice-clearing"),
            "{answer}"
        );
        let (status, answer) = post(
            &router,
            &everything,
            "application/json",
            task("e-2", "finance-ops:invoice-clearing"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        let team_of = |external: &str| {
            format!(
                "SELECT w.team_id FROM tasks t JOIN workflows w ON w.id = t.workflow_id
                 WHERE t.external_id = '{external}'"
            )
        };
        assert_eq!(
            scalar(&t.db, &team_of("s-1")).await,
            p.team_a,
            "{}",
            t.backend
        );
        assert_eq!(
            scalar(&t.db, &team_of("e-2")).await,
            p.team_b,
            "{}",
            t.backend
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM tasks WHERE external_id = 'e-1'"
            )
            .await,
            0
        );
    }
}
