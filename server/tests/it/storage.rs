//! Every table written and read back, on SQLite and PostgreSQL, and the database's own rules
//! (uniqueness, references, checks) reported as the right kind of error.

use crate::helpers::{test_databases, workflow_settings};
use app::db::{self, Db, DbError};
use app::domain::Micros;
use app::domain::rule::Rule;
use app::domain::status::*;
use app::model::*;

const T0: i64 = 1_763_000_000_000;

struct Fixture {
    team: i64,
    user: i64,
    workflow: i64,
    task_type: i64,
}

async fn fixture(db: &Db) -> Fixture {
    let mut tx = db.begin().await.unwrap();
    let team = db::identity::insert_team(
        &mut tx,
        "customer-ops",
        "Customer Operations",
        Micros(30_000_000),
        T0,
    )
    .await
    .unwrap();
    let new_user = db::identity::NewUser {
        email: "Owner@Example.com",
        name: "Olga Owner",
        password_hash: "$argon2id$placeholder",
        role: Role::Owner,
        can_edit_costs: false,
        is_demo: false,
        must_change_password: false,
    };
    let user = db::identity::insert_user(&mut tx, &new_user, T0)
        .await
        .unwrap();
    let workflow =
        db::workflow::insert_workflow(&mut tx, &workflow_settings(team, "support-triage"), T0)
            .await
            .unwrap();
    let task_type = db::workflow::NewTaskType {
        workflow_id: workflow,
        slug: "billing-question",
        name: "Billing question",
        user_goal: "Answer a question about a charge",
        pass_condition: "Correct amounts, no reopen within 48 hours",
        review_method: ReviewMethod::Both,
        segments: &["self-serve", "enterprise"],
    };
    let task_type = db::workflow::insert_task_type(&mut tx, &task_type, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Fixture {
        team,
        user,
        workflow,
        task_type,
    }
}

#[tokio::test]
async fn teams_users_and_team_membership_round_trip() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let team = db::identity::get_team(&t.db, f.team).await.unwrap();
        assert_eq!(
            (team.slug.as_str(), team.labour_rate_micros_per_hour),
            ("customer-ops", Micros(30_000_000)),
            "{}",
            t.backend
        );

        let user = db::identity::find_user_by_email(&t.db, "  owner@example.COM ")
            .await
            .unwrap()
            .expect("found by any case");
        assert_eq!(
            (user.id, user.role, user.email.as_str()),
            (f.user, Role::Owner, "owner@example.com")
        );
        assert_eq!(user.password_changed_at, T0);

        let mut tx = t.db.begin().await.unwrap();
        db::identity::add_user_to_team(&mut tx, f.user, f.team)
            .await
            .unwrap();
        db::identity::add_user_to_team(&mut tx, f.user, f.team)
            .await
            .unwrap();
        db::identity::set_password_hash(&mut tx, f.user, "$argon2id$new", false, T0 + 5)
            .await
            .unwrap();
        db::identity::set_team_labour_rate(&mut tx, f.team, Micros(32_500_000))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            db::identity::user_team_ids(&t.db, f.user).await.unwrap(),
            vec![f.team]
        );
        assert_eq!(
            db::identity::get_user(&t.db, f.user)
                .await
                .unwrap()
                .password_changed_at,
            T0 + 5
        );
        assert_eq!(
            db::identity::list_teams(&t.db).await.unwrap()[0].labour_rate_micros_per_hour,
            Micros(32_500_000)
        );
        assert_eq!(db::identity::count_users(&t.db).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn sessions_and_sign_in_attempts_round_trip() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let session = Session {
            id_hash: "hash-1".into(),
            user_id: f.user,
            created_at: T0,
            last_seen_at: T0,
            expires_at: T0 + 1_000,
            revoked_at: None,
        };
        let mut tx = t.db.begin().await.unwrap();
        db::identity::insert_session(&mut tx, &session)
            .await
            .unwrap();
        let since = T0 - 100;
        db::identity::claim_login_attempt(&mut tx, "owner@example.com", "10.0.0.1", since, T0)
            .await
            .unwrap();
        db::identity::claim_login_attempt(&mut tx, "other@example.com", "10.0.0.1", since, T0)
            .await
            .unwrap();
        let (success, ..) = db::identity::claim_login_attempt(
            &mut tx,
            "owner@example.com",
            "10.0.0.2",
            since,
            T0 - 10,
        )
        .await
        .unwrap();
        db::identity::mark_login_succeeded(&mut tx, success)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            db::identity::live_session(&t.db, "hash-1", T0 + 1)
                .await
                .unwrap(),
            Some(session.clone()),
            "{}",
            t.backend
        );
        assert_eq!(
            db::identity::live_session(&t.db, "hash-1", T0 + 1_000)
                .await
                .unwrap(),
            None,
            "expired"
        );
        let mut tx = t.db.begin().await.unwrap();
        let (_, by_email, by_address) = db::identity::claim_login_attempt(
            &mut tx,
            "owner@example.com",
            "10.0.0.1",
            T0 - 100,
            T0 + 1,
        )
        .await
        .unwrap();
        drop(tx);
        assert_eq!(
            (by_email, by_address),
            (vec![T0], vec![T0, T0]),
            "failures after the account's last success, and every failure from the address"
        );

        let mut tx = t.db.begin().await.unwrap();
        assert_eq!(
            db::identity::revoke_user_sessions(&mut tx, f.user, T0 + 2)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        assert_eq!(
            db::identity::live_session(&t.db, "hash-1", T0 + 3)
                .await
                .unwrap(),
            None,
            "revoked"
        );
    }
}

#[tokio::test]
async fn api_keys_keep_their_scopes_and_stop_working_when_revoked() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let scopes = [KeyScope::Team(f.team), KeyScope::Workflow(f.workflow)];
        let mut tx = t.db.begin().await.unwrap();
        let id = db::identity::insert_api_key(
            &mut tx,
            "gateway",
            "fl_abc",
            "keyed-hash",
            Some(f.user),
            &scopes,
            T0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let key = db::identity::find_api_key(&t.db, "keyed-hash")
            .await
            .unwrap()
            .expect("live key");
        assert_eq!(
            (key.id, key.prefix.as_str()),
            (id, "fl_abc"),
            "{}",
            t.backend
        );
        let mut stored = db::identity::api_key_scopes(&t.db, id).await.unwrap();
        stored.sort_by_key(|s| matches!(s, KeyScope::Workflow(_)));
        assert_eq!(stored, scopes.to_vec());
        assert_eq!(db::identity::list_api_keys(&t.db).await.unwrap().len(), 1);

        let mut tx = t.db.begin().await.unwrap();
        assert!(
            db::identity::revoke_api_key(&mut tx, id, T0 + 1)
                .await
                .unwrap()
        );
        assert!(
            !db::identity::revoke_api_key(&mut tx, id, T0 + 2)
                .await
                .unwrap(),
            "already revoked"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            db::identity::find_api_key(&t.db, "keyed-hash")
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn workflows_task_types_segments_and_rule_versions_round_trip() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let workflow = db::workflow::get_workflow(&t.db, f.workflow).await.unwrap();
        assert_eq!(
            workflow.budget_cpst_micros,
            Micros(600_000),
            "{}",
            t.backend
        );
        assert_eq!(
            (workflow.autonomy_level, workflow.review_sampling_bp),
            (0, 500)
        );
        // Slugs are unique within a team: another team may use this one, the same team may not.
        let mut tx = t.db.begin().await.unwrap();
        let other_team = db::identity::insert_team(&mut tx, "finance", "Finance", Micros(0), T0)
            .await
            .unwrap();
        let twin = workflow_settings(other_team, "support-triage");
        db::workflow::insert_workflow(&mut tx, &twin, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.db.begin().await.unwrap();
        let same_team = workflow_settings(f.team, "support-triage");
        let refused = db::workflow::insert_workflow(&mut tx, &same_team, T0).await;
        assert!(refused.is_err(), "{}: a team's slug twice", t.backend);
        drop(tx);
        let workflows = db::workflow::list_workflows(&t.db).await.unwrap();
        let named: Vec<_> = workflows
            .iter()
            .filter(|w| w.slug == "support-triage")
            .collect();
        assert_eq!(named.len(), 2, "{}", t.backend);

        let mut changed = workflow_settings(f.team, "support-triage");
        changed.budget_cpst_micros = Micros(550_000);
        let mut tx = t.db.begin().await.unwrap();
        db::workflow::update_workflow(&mut tx, f.workflow, &changed, T0 + 1)
            .await
            .unwrap();
        db::workflow::set_autonomy_level(&mut tx, f.workflow, 2, T0 + 2)
            .await
            .unwrap();
        let first = Rule::NotReopenedWithin { hours: 48 }.to_json();
        let second = Rule::All {
            rules: vec![
                Rule::HumanAccepted {},
                Rule::NotReopenedWithin { hours: 72 },
            ],
        }
        .to_json();
        let v1 =
            db::workflow::insert_success_rule(&mut tx, f.task_type, &first, T0, Some(f.user), T0)
                .await
                .unwrap();
        let v2 = db::workflow::insert_success_rule(
            &mut tx,
            f.task_type,
            &second,
            T0 + 100,
            Some(f.user),
            T0 + 100,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let workflow = db::workflow::get_workflow(&t.db, f.workflow).await.unwrap();
        assert_eq!(
            (
                workflow.budget_cpst_micros,
                workflow.autonomy_level,
                workflow.updated_at
            ),
            (Micros(550_000), 2, T0 + 2)
        );
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(
            db::workflow::rule_in_force(&t.db, f.task_type, T0 + 50)
                .await
                .unwrap()
                .map(|r| r.version),
            Some(1)
        );
        assert_eq!(
            db::workflow::rule_in_force(&t.db, f.task_type, T0 + 100)
                .await
                .unwrap()
                .map(|r| r.version),
            Some(2)
        );
        assert_eq!(
            db::workflow::rule_in_force(&t.db, f.task_type, T0 - 1)
                .await
                .unwrap(),
            None
        );
        let history = db::workflow::rule_history(&t.db, f.task_type)
            .await
            .unwrap();
        assert_eq!(
            Rule::from_json(&history[1].definition).unwrap(),
            Rule::from_json(&second).unwrap()
        );

        let types = db::workflow::list_task_types(&t.db, f.workflow)
            .await
            .unwrap();
        assert_eq!(
            (types[0].id, types[0].review_method),
            (f.task_type, ReviewMethod::Both)
        );
        assert_eq!(
            db::workflow::task_type_segments(&t.db, f.task_type)
                .await
                .unwrap(),
            vec!["enterprise", "self-serve"]
        );
    }
}

#[tokio::test]
async fn config_versions_are_created_once_per_label_and_keep_their_first_sighting() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let a =
            db::config_version::ensure_config_version(&mut tx, f.workflow, "v2-routed", T0 + 10)
                .await
                .unwrap();
        let b = db::config_version::ensure_config_version(&mut tx, f.workflow, "v2-routed", T0 + 5)
            .await
            .unwrap();
        let c =
            db::config_version::ensure_config_version(&mut tx, f.workflow, "v2-routed", T0 + 50)
                .await
                .unwrap();
        db::config_version::describe_config_version(&mut tx, a, "Routed to a small model")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((a, b, c), (a, a, a), "{}", t.backend);
        let versions = db::config_version::list_config_versions(&t.db, f.workflow)
            .await
            .unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(
            (versions[0].first_seen_at, versions[0].description.as_str()),
            (T0 + 5, "Routed to a small model")
        );
    }
}

fn call(workflow_id: i64, external_id: &str, correlation_id: &str, cost: i64) -> Call {
    Call {
        id: 0,
        external_id: external_id.into(),
        workflow_id,
        correlation_id: correlation_id.into(),
        task_id: None,
        attempt_id: None,
        kind: CallKind::Model,
        step: "drafter".into(),
        provider: "anthropic".into(),
        model: "claude-sonnet-4-5".into(),
        input_tokens: 10_000,
        output_tokens: 500,
        cache_read_tokens: 8_000,
        cache_write_tokens: 1_000,
        reasoning_tokens: 0,
        audio_input_tokens: 0,
        image_input_tokens: 0,
        reported_cost_micros: None,
        cost_micros: Micros(cost),
        cache_read_cost_micros: Micros(2_400),
        cache_write_cost_micros: Micros(3_750),
        cost_source: CostSource::Priced,
        price_id: None,
        started_at: T0 + 10,
        latency_ms: 2_500,
        status: CallStatus::Ok,
        error_type: None,
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        span_id: Some("00f067aa0ba902b7".into()),
        parent_span_id: None,
        content_hash: "h".into(),
        created_at: T0 + 20,
    }
}

#[tokio::test]
async fn tasks_attempts_and_calls_round_trip_and_early_calls_join_their_attempt() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        // The call arrives before its task and attempt.
        let early = db::task::insert_call(&mut tx, &call(f.workflow, "call-1", "corr-1", 16_650))
            .await
            .unwrap();
        let task = NewTask {
            external_id: "ticket-1".into(),
            workflow_id: f.workflow,
            task_type_id: Some(f.task_type),
            team_id: f.team,
            segment: "enterprise".into(),
            started_at: T0,
            finished_at: Some(T0 + 60_000),
            reported_status: Some(ReportedStatus::Completed),
            escalation_reason: None,
            review_seconds: 45,
            output: Some(r#"{"category":"billing"}"#.into()),
            content_hash: "task-hash".into(),
            ..Default::default()
        };
        let task_id = db::task::insert_task(&mut tx, &task, T0).await.unwrap();
        let attempt = db::task::NewAttempt {
            workflow_id: task.workflow_id,
            task_id,
            number: 1,
            correlation_id: "corr-1".to_owned(),
            status: AttemptStatus::Succeeded,
            error: None,
            started_at: T0,
            finished_at: Some(T0 + 5_000),
            content_hash: "a".to_owned(),
        };
        let attempt_id = db::task::insert_attempt(&mut tx, &attempt).await.unwrap();
        // A late call of the same attempt finds it by correlation id.
        let late = db::task::insert_call(&mut tx, &call(f.workflow, "call-2", "corr-1", 100))
            .await
            .unwrap();
        db::task::set_task_status(
            &mut tx,
            task_id,
            TaskStatus::Pending,
            None,
            "Waiting for the reopen window",
            Some(T0 + 172_800_000),
            T0 + 1,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let stored = db::task::get_task(&t.db, task_id).await.unwrap();
        assert_eq!(
            (stored.status, stored.reported_status),
            (TaskStatus::Pending, ReportedStatus::Completed),
            "{}",
            t.backend
        );
        assert_eq!(
            (
                stored.segment.as_str(),
                stored.review_seconds,
                stored.pending_until
            ),
            ("enterprise", 45, Some(T0 + 172_800_000))
        );
        assert_eq!(
            db::task::find_task(&t.db, f.workflow, "ticket-1")
                .await
                .unwrap()
                .map(|t| t.id),
            Some(task_id)
        );
        assert_eq!(
            db::task::list_attempts(&t.db, task_id).await.unwrap()[0].id,
            attempt_id
        );

        for id in [early, late] {
            let stored = db::task::get_call(&t.db, id).await.unwrap();
            assert_eq!(
                (stored.task_id, stored.attempt_id),
                (Some(task_id), Some(attempt_id)),
                "call {id} on {}",
                t.backend
            );
        }
        let calls = db::task::list_task_calls(&t.db, task_id).await.unwrap();
        let expected = Call {
            id: early,
            task_id: Some(task_id),
            attempt_id: Some(attempt_id),
            ..call(f.workflow, "call-1", "corr-1", 16_650)
        };
        assert_eq!(calls[0], expected);
        assert_eq!(calls.len(), 2);
    }
}

#[tokio::test]
async fn outcome_events_grades_and_the_review_queue_round_trip() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        // An outcome that arrives before its task waits, then is claimed.
        let reopened = db::outcome::NewOutcome {
            external_id: "evt-1",
            workflow_id: f.workflow,
            task_external_id: "ticket-9",
            kind: OutcomeKind::Reopened,
            occurred_at: T0 + 3_600_000,
            source: "helpdesk",
            detail: "customer replied",
            content_hash: "e",
        };
        db::outcome::insert_outcome(&mut tx, &reopened, T0)
            .await
            .unwrap();
        let task = NewTask {
            external_id: "ticket-9".into(),
            workflow_id: f.workflow,
            team_id: f.team,
            started_at: T0,
            content_hash: "t".into(),
            ..Default::default()
        };
        let task_id = db::task::insert_task(&mut tx, &task, T0).await.unwrap();
        assert_eq!(
            db::outcome::claim_outcomes_of(&mut tx, f.workflow, &["ticket-9", "ticket-10"])
                .await
                .unwrap(),
            1
        );

        assert!(
            db::queue::enqueue(&mut tx, task_id, 1, QueueReason::Sampled, T0)
                .await
                .unwrap()
        );
        assert!(
            !db::queue::enqueue(&mut tx, task_id, 1, QueueReason::Forced, T0)
                .await
                .unwrap(),
            "queued once"
        );
        let grade = db::grade::NewGrade {
            external_id: None,
            task_id,
            reviewer_id: Some(f.user),
            grader: &format!("user:{}", f.user),
            verdict: GradeVerdict::Assisted,
            edit_severity: EditSeverity::Factual,
            review_seconds: 240,
            note: "Wrong refund amount",
            graded_at: T0 + 10,
            content_hash: "g",
        };
        db::grade::insert_grade(&mut tx, &grade).await.unwrap();
        db::queue::mark_done(&mut tx, task_id, 1, Some(f.user), T0 + 10)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let events = db::outcome::list_task_outcomes(&t.db, task_id)
            .await
            .unwrap();
        assert_eq!(
            (events.len(), events[0].kind, events[0].detail.as_str()),
            (1, OutcomeKind::Reopened, "customer replied"),
            "{}",
            t.backend
        );
        let grades = db::grade::list_task_grades(&t.db, task_id).await.unwrap();
        assert_eq!(
            (
                grades[0].verdict,
                grades[0].edit_severity,
                grades[0].review_seconds
            ),
            (GradeVerdict::Assisted, EditSeverity::Factual, 240)
        );
        let items = db::queue::list_task_queue_items(&t.db, task_id)
            .await
            .unwrap();
        assert_eq!(
            (items[0].reason, items[0].done_at, items[0].claimed_by),
            (QueueReason::Sampled, Some(T0 + 10), Some(f.user))
        );
        assert_eq!(db::queue::count_waiting(&t.db).await.unwrap(), 0);

        // One reviewer grades a task once.
        let mut tx = t.db.begin().await.unwrap();
        let again = db::grade::insert_grade(&mut tx, &grade).await;
        assert!(matches!(again, Err(DbError::Conflict(_))), "{again:?}");
    }
}

#[tokio::test]
async fn sampling_counts_a_strata_sampled_tasks_in_the_window_from_the_queue_alone() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        // (sender id, task type, segment, queued at, slot, why)
        let queued = [
            (
                "billing-1",
                Some(f.task_type),
                "billing",
                T0 + 100,
                1,
                QueueReason::Sampled,
            ),
            (
                "billing-1",
                Some(f.task_type),
                "billing",
                T0 + 100,
                2,
                QueueReason::SecondGrader,
            ),
            (
                "billing-old",
                Some(f.task_type),
                "billing",
                T0 - 1,
                1,
                QueueReason::Sampled,
            ),
            (
                "billing-forced",
                Some(f.task_type),
                "billing",
                T0 + 100,
                1,
                QueueReason::Forced,
            ),
            (
                "plain-1",
                Some(f.task_type),
                "",
                T0 + 100,
                1,
                QueueReason::Sampled,
            ),
            ("untyped-1", None, "", T0 + 200, 1, QueueReason::Sampled),
            ("untyped-2", None, "", T0 + 300, 1, QueueReason::Sampled),
        ];
        let mut ids = std::collections::HashMap::new();
        for (external_id, task_type_id, segment, at, slot, reason) in queued {
            let task_id = match ids.get(external_id) {
                Some(&id) => id,
                None => {
                    let task = NewTask {
                        external_id: external_id.into(),
                        workflow_id: f.workflow,
                        team_id: f.team,
                        task_type_id,
                        segment: segment.into(),
                        started_at: at,
                        content_hash: external_id.into(),
                        ..Default::default()
                    };
                    let id = db::task::insert_task(&mut tx, &task, at).await.unwrap();
                    ids.insert(external_id, id);
                    id
                }
            };
            assert!(
                db::queue::enqueue(&mut tx, task_id, slot, reason, at)
                    .await
                    .unwrap()
            );
        }
        let count = |task_type_id, segment: &'static str| {
            let db = t.db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                db::queue::sampled_in_stratum(&mut tx, f.workflow, task_type_id, segment, T0)
                    .await
                    .unwrap()
            }
        };
        tx.commit().await.unwrap();
        // Only first slots queued as samples since the window began, each in its own stratum.
        assert_eq!(
            count(Some(f.task_type), "billing").await,
            1,
            "{}",
            t.backend
        );
        assert_eq!(count(Some(f.task_type), "").await, 1, "{}", t.backend);
        assert_eq!(count(None, "").await, 2, "{}", t.backend);
        assert_eq!(count(None, "billing").await, 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn the_price_book_is_seeded_and_a_price_change_never_rewrites_earlier_calls() {
    for t in test_databases().await {
        let seeded = db::price::list_prices(&t.db).await.unwrap();
        assert!(
            seeded.len() >= 15,
            "{}: {} seeded prices",
            t.backend,
            seeded.len()
        );
        let before = db::price::price_at(&t.db, "openai", "gpt-4.1-mini", T0)
            .await
            .unwrap()
            .expect("seeded");
        assert_eq!(
            (before.input_micros_per_mtok, before.output_micros_per_mtok),
            (400_000, 1_600_000)
        );

        let change_at = T0 + 1_000;
        let mut tx = t.db.begin().await.unwrap();
        db::price::close_price(&mut tx, "openai", "gpt-4.1-mini", change_at)
            .await
            .unwrap();
        let cheaper = Price {
            id: 0,
            input_micros_per_mtok: 320_000,
            effective_from: change_at,
            effective_to: None,
            created_at: change_at,
            ..before.clone()
        };
        db::price::insert_price(&mut tx, &cheaper).await.unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            db::price::price_at(&t.db, "openai", "gpt-4.1-mini", change_at - 1)
                .await
                .unwrap()
                .unwrap()
                .input_micros_per_mtok,
            400_000
        );
        assert_eq!(
            db::price::price_at(&t.db, "openai", "gpt-4.1-mini", change_at)
                .await
                .unwrap()
                .unwrap()
                .input_micros_per_mtok,
            320_000
        );
        assert_eq!(
            db::price::price_at(&t.db, "openai", "no-such-model", T0)
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn platform_costs_audit_entries_gate_history_and_imports_round_trip() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let cost = PlatformCost {
            id: 0,
            name: "Vector database".into(),
            workflow_id: Some(f.workflow),
            team_id: None,
            monthly_micros: Micros(400_000_000),
            effective_from: T0,
            effective_to: None,
            created_at: T0,
        };
        let cost_id = db::platform_cost::insert_platform_cost(&mut tx, &cost)
            .await
            .unwrap();
        let entry = db::audit::NewAuditEntry {
            actor_user_id: Some(f.user),
            actor: "owner@example.com",
            action: "workflow.update",
            entity: "workflow",
            entity_id: &f.workflow.to_string(),
            before: Some(r#"{"budget":"$0.60"}"#),
            after: Some(r#"{"budget":"$0.55"}"#),
            team_id: None,
        };
        db::audit::append(&mut tx, &entry, T0).await.unwrap();
        let evaluation = GateEvaluation {
            id: 0,
            workflow_id: f.workflow,
            evaluated_at: T0,
            window_start: T0 - 30 * 86_400_000,
            window_end: T0,
            sample: 1_240,
            successes: 1_155,
            cpst_micros: Some(520_000),
            previous_cpst_micros: Some(510_000),
            quality_proven: true,
            cost_proven: false,
            evidence: "cost not proven: $0.52 > $0.50 budget".into(),
        };
        let evaluation_id = db::gate::insert_gate_evaluation(&mut tx, &evaluation)
            .await
            .unwrap();
        let change = AutonomyChange {
            id: 0,
            workflow_id: f.workflow,
            from_level: 1,
            to_level: 2,
            changed_by: Some(f.user),
            gate_evaluation_id: Some(evaluation_id),
            changed_at: T0 + 1,
            note: "gate passed".into(),
        };
        db::gate::insert_autonomy_change(&mut tx, &change)
            .await
            .unwrap();
        let run = db::import::start_or_resume(&mut tx, "spend.csv", "sha256:abc", T0)
            .await
            .unwrap();
        db::import::advance(&mut tx, run.id, 500, 498, 2)
            .await
            .unwrap();
        let resumed = db::import::start_or_resume(&mut tx, "spend-copy.csv", "sha256:abc", T0 + 5)
            .await
            .unwrap();
        db::import::finish(&mut tx, run.id, T0 + 9).await.unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            db::platform_cost::list_platform_costs(&t.db).await.unwrap(),
            vec![PlatformCost {
                id: cost_id,
                ..cost
            }],
            "{}",
            t.backend
        );
        let audit = db::audit::recent(&t.db, 10).await.unwrap();
        assert_eq!(
            (audit[0].action.as_str(), audit[0].after.as_deref()),
            ("workflow.update", Some(r#"{"budget":"$0.55"}"#))
        );
        assert_eq!(
            db::gate::gate_history(&t.db, f.workflow).await.unwrap(),
            vec![GateEvaluation {
                id: evaluation_id,
                ..evaluation
            }]
        );
        assert_eq!(
            db::gate::autonomy_history(&t.db, f.workflow).await.unwrap()[0].to_level,
            2
        );
        assert_eq!(
            (resumed.id, resumed.rows_done),
            (run.id, 500),
            "the same file resumes"
        );
        let run = db::import::get_import_run(&t.db, run.id).await.unwrap();
        assert_eq!(
            (
                run.accepted,
                run.rejected,
                run.finished_at,
                run.source.as_str()
            ),
            (498, 2, Some(T0 + 9), "spend-copy.csv")
        );
    }
}

#[tokio::test]
async fn rollups_are_recomputed_from_raw_rows_per_day_and_verdict() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let day = T0 / 86_400_000;
        let mut tx = t.db.begin().await.unwrap();
        for (i, (status, attempts)) in [
            (TaskStatus::Succeeded, 1),
            (TaskStatus::Succeeded, 2),
            (TaskStatus::Failed, 3),
        ]
        .into_iter()
        .enumerate()
        {
            let task = NewTask {
                external_id: format!("t{i}"),
                workflow_id: f.workflow,
                task_type_id: Some(f.task_type),
                team_id: f.team,
                started_at: day * 86_400_000 + 1_000,
                finished_at: Some(day * 86_400_000 + 61_000),
                status: Some(status),
                review_seconds: 30,
                content_hash: "t".into(),
                ..Default::default()
            };
            let task_id = db::task::insert_task(&mut tx, &task, T0).await.unwrap();
            for number in 1..=attempts {
                let corr = format!("t{i}-a{number}");
                let attempt = db::task::NewAttempt {
                    workflow_id: task.workflow_id,
                    task_id,
                    number,
                    correlation_id: corr.clone(),
                    status: AttemptStatus::Failed,
                    error: None,
                    started_at: T0,
                    finished_at: None,
                    content_hash: "a".to_owned(),
                };
                db::task::insert_attempt(&mut tx, &attempt).await.unwrap();
                let mut c = call(f.workflow, &format!("{corr}-c"), &corr, 10_000);
                c.started_at = day * 86_400_000 + 2_000;
                db::task::insert_call(&mut tx, &c).await.unwrap();
            }
        }
        db::rollup::refresh_slices(&mut tx, f.workflow, day, day)
            .await
            .unwrap();
        // Refreshing twice changes nothing.
        db::rollup::refresh_slices(&mut tx, f.workflow, day, day)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let rows = db::rollup::task_rollups(&t.db, day, day, Some(f.workflow))
            .await
            .unwrap();
        let succeeded = rows
            .iter()
            .find(|r| r.status == TaskStatus::Succeeded)
            .expect("a succeeded row");
        assert_eq!(
            (
                succeeded.tasks,
                succeeded.attempts,
                succeeded.first_attempt_tasks,
                succeeded.within_three_tasks
            ),
            (2, 3, 1, 2),
            "{}",
            t.backend
        );
        // First attempts: 10,000 each, of which 6,150 cache; the second attempt is all retry.
        assert_eq!(
            (
                succeeded.model_cost_micros,
                succeeded.cache_cost_micros,
                succeeded.retry_cost_micros
            ),
            (2 * 3_850, 2 * 6_150, 10_000)
        );
        assert_eq!(
            (
                succeeded.review_seconds,
                succeeded.duration_ms,
                succeeded.calls
            ),
            (60, 120_000, 3)
        );
        let failed = rows
            .iter()
            .find(|r| r.status == TaskStatus::Failed)
            .expect("a failed row");
        assert_eq!(
            (
                failed.tasks,
                failed.retry_cost_micros,
                failed.within_three_tasks
            ),
            (1, 20_000, 1)
        );

        let calls = db::rollup::call_rollups(&t.db, day, day, None)
            .await
            .unwrap();
        assert_eq!(
            (calls.len(), calls[0].calls, calls[0].cost_micros),
            (1, 6, 60_000)
        );
    }
}

#[tokio::test]
async fn the_kept_spreads_give_the_workflow_page_the_figures_of_its_task_lines() {
    use app::report::Window;
    use app::report::detail::details;
    use app::report::figures::{Filter, Grouping};
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let day = T0 / 86_400_000;
        let window = Window {
            first_day: day,
            last_day: day + 1,
        };
        let statuses = [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::Escalated,
            TaskStatus::Pending,
        ];
        let mut tx = t.db.begin().await.unwrap();
        for i in 0..48i64 {
            let started = (day + i % 2) * 86_400_000 + 1_000 * i;
            let status = statuses[i as usize % 4];
            let task = NewTask {
                external_id: format!("t{i}"),
                workflow_id: f.workflow,
                task_type_id: Some(f.task_type),
                team_id: f.team,
                started_at: started,
                finished_at: Some(started + 700 + i * i * 97),
                status: Some(status),
                escalation_reason: (status == TaskStatus::Escalated)
                    .then(|| ["refund over limit", " "][i as usize / 4 % 2].to_owned()),
                review_seconds: i % 5 * 30,
                content_hash: "t".into(),
                ..Default::default()
            };
            let task_id = db::task::insert_task(&mut tx, &task, T0).await.unwrap();
            let corr = format!("t{i}-a1");
            let attempt = db::task::NewAttempt {
                workflow_id: task.workflow_id,
                task_id,
                number: 1,
                correlation_id: corr.clone(),
                status: AttemptStatus::Succeeded,
                error: None,
                started_at: started,
                finished_at: None,
                content_hash: "a".to_owned(),
            };
            db::task::insert_attempt(&mut tx, &attempt).await.unwrap();
            let mut c = call(
                f.workflow,
                &format!("{corr}-c"),
                &corr,
                1_000 + i * i * 5_003,
            );
            c.started_at = started;
            db::task::insert_call(&mut tx, &c).await.unwrap();
        }
        db::rollup::refresh_slices(&mut tx, f.workflow, day, day + 1)
            .await
            .unwrap();
        // Refreshing one day again replaces its spreads rather than adding to them.
        db::rollup::refresh_slices(&mut tx, f.workflow, day + 1, day + 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let kept = db::catalog::window_spreads(&t.db, f.workflow, window)
            .await
            .unwrap()
            .detail();
        let lines = db::catalog::task_lines(&t.db, window, Some(&[f.workflow]))
            .await
            .unwrap();
        let exact = &details(&lines, &Filter::default(), Grouping::All, window)[""];
        assert_eq!(
            kept.cost.count, 36,
            "{}: pending tasks are left out",
            t.backend
        );
        assert_eq!(
            (
                kept.cost.total,
                kept.cost.max,
                kept.latency_ms.total,
                kept.latency_ms.max
            ),
            (
                exact.cost.total,
                exact.cost.max,
                exact.latency_ms.total,
                exact.latency_ms.max
            ),
            "{}",
            t.backend
        );
        for (estimate, truth) in [
            (kept.cost.median, exact.cost.median),
            (kept.cost.p95, exact.cost.p95),
            (kept.latency_ms.median, exact.latency_ms.median),
            (kept.latency_ms.p95, exact.latency_ms.p95),
        ] {
            assert!(
                (estimate - truth).abs() * 40 <= truth,
                "{}: {estimate} for {truth}",
                t.backend
            );
        }
        assert_eq!(kept.costliest, exact.costliest, "{}", t.backend);
        assert_eq!(kept.costliest.len(), 10);
        assert_eq!(
            kept.escalation_reasons,
            vec![
                ("(no reason given)".to_owned(), 6),
                ("refund over limit".to_owned(), 6)
            ],
            "{}",
            t.backend
        );
        let bars =
            |d: &app::report::detail::Detail| d.cost_histogram.iter().map(|b| b.count).sum::<u64>();
        assert_eq!(bars(&kept), 36);
        assert_eq!(bars(exact), 36);
    }
}

#[tokio::test]
async fn the_database_rules_come_back_as_conflicts_and_missing_references() {
    for t in test_databases().await {
        let f = fixture(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let duplicate = db::workflow::insert_workflow(
            &mut tx,
            &workflow_settings(f.team, "support-triage"),
            T0,
        )
        .await;
        assert!(
            matches!(duplicate, Err(DbError::Conflict(_))),
            "{}: {duplicate:?}",
            t.backend
        );
        drop(tx);

        let mut tx = t.db.begin().await.unwrap();
        let orphan =
            db::workflow::insert_workflow(&mut tx, &workflow_settings(f.team + 999, "orphan"), T0)
                .await;
        assert!(
            matches!(orphan, Err(DbError::MissingReference(_))),
            "{}: {orphan:?}",
            t.backend
        );
        drop(tx);

        let mut tx = t.db.begin().await.unwrap();
        let mut impossible = workflow_settings(f.team, "impossible");
        impossible.quality_target_bp = 12_000;
        let refused = db::workflow::insert_workflow(&mut tx, &impossible, T0).await;
        assert!(
            refused.is_err(),
            "{}: a target above 100% is refused",
            t.backend
        );
    }
}
