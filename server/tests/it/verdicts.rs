//! Verdicts kept current as evidence arrives: late outcomes, grades and closing windows change a
//! task's status, and the rollups follow in the same transaction.

use crate::helpers::{test_databases, workflow_settings};
use app::db::{self, Db, on_db, verdict};
use app::domain::Micros;
use app::domain::rule::Rule;
use app::domain::status::*;
use app::model::NewTask;
use server::demo::{self, DemoSpec};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Noon on day 20,400 (2025-11-08).
const T: i64 = 20_400 * DAY + 12 * HOUR;

struct Setup {
    workflow: i64,
    team: i64,
    task_type: i64,
}

async fn setup(db: &Db, rule: Rule) -> Setup {
    let mut tx = db.begin().await.unwrap();
    let team = db::identity::insert_team(&mut tx, "support", "Support", Micros(30_000_000), T)
        .await
        .unwrap();
    let settings = workflow_settings(team, "support-triage");
    let workflow = db::workflow::insert_workflow(&mut tx, &settings, T)
        .await
        .unwrap();
    let new_type = db::workflow::NewTaskType {
        workflow_id: workflow,
        slug: "ticket",
        name: "Ticket",
        user_goal: "Answer the customer",
        pass_condition: "Right category, not reopened within 48 hours",
        review_method: ReviewMethod::Both,
        segments: &[],
    };
    let task_type = db::workflow::insert_task_type(&mut tx, &new_type, T)
        .await
        .unwrap();
    db::workflow::insert_success_rule(&mut tx, task_type, &rule.to_json(), T - DAY, None, T)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Setup {
        workflow,
        team,
        task_type,
    }
}

async fn add_task(
    db: &Db,
    s: &Setup,
    external_id: &str,
    output: &str,
    expected: Option<&str>,
) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let task = NewTask {
        external_id: external_id.into(),
        workflow_id: s.workflow,
        task_type_id: Some(s.task_type),
        team_id: s.team,
        started_at: T,
        finished_at: Some(T + 60_000),
        reported_status: Some(ReportedStatus::Completed),
        output: Some(output.into()),
        expected: expected.map(str::to_owned),
        content_hash: external_id.into(),
        ..Default::default()
    };
    let id = db::task::insert_task(&mut tx, &task, T).await.unwrap();
    verdict::reevaluate_tasks(&mut tx, &[id], T + HOUR)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn statuses(db: &Db, workflow: i64) -> Vec<(String, i64)> {
    let sql = "SELECT status, tasks FROM task_rollups WHERE workflow_id = $1 ORDER BY status";
    on_db!(db, pool => sqlx::query_as(sql).bind(workflow).fetch_all(pool).await).unwrap()
}

#[tokio::test]
async fn a_reopen_within_48_hours_fails_the_task_and_a_closed_window_passes_it() {
    for t in test_databases().await {
        let s = setup(&t.db, Rule::NotReopenedWithin { hours: 48 }).await;
        let reopened = add_task(&t.db, &s, "ticket-1", "{}", None).await;
        let quiet = add_task(&t.db, &s, "ticket-2", "{}", None).await;
        assert_eq!(
            statuses(&t.db, s.workflow).await,
            [("pending".into(), 2)],
            "{}",
            t.backend
        );
        let task = db::task::get_task(&t.db, quiet).await.unwrap();
        assert_eq!(task.pending_until, Some(T + 60_000 + 48 * HOUR));

        let mut tx = t.db.begin().await.unwrap();
        let event = db::outcome::NewOutcome {
            external_id: "reopen-1",
            workflow_id: s.workflow,
            task_external_id: "ticket-1",
            kind: OutcomeKind::Reopened,
            occurred_at: T + 20 * HOUR,
            source: "helpdesk",
            detail: "",
            content_hash: "e",
        };
        db::outcome::insert_outcome(&mut tx, &event, T + 20 * HOUR)
            .await
            .unwrap();
        verdict::reevaluate_tasks(&mut tx, &[reopened], T + 20 * HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let task = db::task::get_task(&t.db, reopened).await.unwrap();
        assert_eq!(task.status, TaskStatus::Failed, "{}", t.backend);
        assert_eq!(
            task.status_reason,
            "Reopened 19 h after finishing, within the 48 h window"
        );
        assert_eq!(
            statuses(&t.db, s.workflow).await,
            [("failed".into(), 1), ("pending".into(), 1)]
        );

        let looked_at = verdict::settle_due_tasks(&t.db, T + 47 * HOUR, 100)
            .await
            .unwrap();
        assert_eq!(looked_at, 0, "{}: the window is still open", t.backend);
        let looked_at = verdict::settle_due_tasks(&t.db, T + 49 * HOUR, 100)
            .await
            .unwrap();
        assert_eq!(looked_at, 1, "{}", t.backend);
        assert_eq!(
            db::task::get_task(&t.db, quiet).await.unwrap().status,
            TaskStatus::Succeeded
        );
        assert_eq!(
            statuses(&t.db, s.workflow).await,
            [("failed".into(), 1), ("succeeded".into(), 1)]
        );
    }
}

#[tokio::test]
async fn a_reviewers_grade_overrides_the_automatic_check_and_prices_the_labour() {
    for t in test_databases().await {
        let s = setup(
            &t.db,
            Rule::ExactMatch {
                field: "category".into(),
            },
        )
        .await;
        let id = add_task(
            &t.db,
            &s,
            "ticket-1",
            r#"{"category":"billing"}"#,
            Some(r#"{"category":"access"}"#),
        )
        .await;
        assert_eq!(
            db::task::get_task(&t.db, id).await.unwrap().status,
            TaskStatus::Failed,
            "{}",
            t.backend
        );

        let mut tx = t.db.begin().await.unwrap();
        let grade = db::grade::NewGrade {
            external_id: None,
            task_id: id,
            reviewer_id: None,
            grader: "ops-reviewer",
            verdict: GradeVerdict::Pass,
            edit_severity: EditSeverity::None,
            review_seconds: 90,
            note: "The expected label was wrong",
            graded_at: T + 2 * HOUR,
            content_hash: "g",
        };
        db::grade::insert_grade(&mut tx, &grade).await.unwrap();
        verdict::reevaluate_tasks(&mut tx, &[id], T + 2 * HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let task = db::task::get_task(&t.db, id).await.unwrap();
        assert_eq!(
            (task.status, task.status_reason.as_str()),
            (TaskStatus::Succeeded, "A reviewer passed the output")
        );
        assert_eq!(
            task.labour_cost_micros, 750_000,
            "{}: 90 s at $30/hour",
            t.backend
        );
        let labour: Vec<i64> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT labour_cost_micros FROM task_rollups WHERE workflow_id = $1").bind(s.workflow).fetch_all(pool).await).unwrap();
        assert_eq!(labour, [750_000]);
    }
}

#[tokio::test]
async fn re_deciding_every_demo_task_from_stored_evidence_changes_nothing() {
    for t in test_databases().await {
        let end_day = 20_400;
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 9,
                tasks: 800,
                end_day,
            },
        )
        .await
        .unwrap();
        let ids: Vec<i64> = on_db!(&t.db, pool => sqlx::query_scalar("SELECT id FROM tasks ORDER BY id").fetch_all(pool).await).unwrap();
        assert!(ids.len() > 700);
        let mut tx = t.db.begin().await.unwrap();
        let changed = verdict::reevaluate_tasks(&mut tx, &ids, (end_day + 1) * DAY - 1)
            .await
            .unwrap();
        assert_eq!(
            changed, 0,
            "{}: the demo's verdicts are the rules' verdicts",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_ticket_a_reviewer_passed_still_fails_when_reopened_within_the_window() {
    for t in test_databases().await {
        let rule = Rule::All {
            rules: vec![
                Rule::ExactMatch {
                    field: "category".into(),
                },
                Rule::NotReopenedWithin { hours: 48 },
            ],
        };
        let s = setup(&t.db, rule).await;
        let output = r#"{"category":"billing"}"#;
        let expected = Some(r#"{"category":"access"}"#);
        let reopened = add_task(&t.db, &s, "ticket-1", output, expected).await;
        let quiet = add_task(&t.db, &s, "ticket-2", output, expected).await;
        let mut tx = t.db.begin().await.unwrap();
        for (id, hash) in [(reopened, "g1"), (quiet, "g2")] {
            let grade = db::grade::NewGrade {
                external_id: None,
                task_id: id,
                reviewer_id: None,
                grader: "ops-reviewer",
                verdict: GradeVerdict::Pass,
                edit_severity: EditSeverity::None,
                review_seconds: 60,
                note: "The expected label was wrong",
                graded_at: T + 2 * HOUR,
                content_hash: hash,
            };
            db::grade::insert_grade(&mut tx, &grade).await.unwrap();
        }
        verdict::reevaluate_tasks(&mut tx, &[reopened, quiet], T + 2 * HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let passed = db::task::get_task(&t.db, quiet).await.unwrap();
        assert_eq!(
            (passed.status, passed.pending_until),
            (TaskStatus::Pending, Some(T + 60_000 + 48 * HOUR)),
            "{}: a passing grade waits for the reopen window",
            t.backend
        );

        let mut tx = t.db.begin().await.unwrap();
        let event = db::outcome::NewOutcome {
            external_id: "reopen-1",
            workflow_id: s.workflow,
            task_external_id: "ticket-1",
            kind: OutcomeKind::Reopened,
            occurred_at: T + 30 * HOUR,
            source: "helpdesk",
            detail: "customer replied: still locked out",
            content_hash: "e",
        };
        db::outcome::insert_outcome(&mut tx, &event, T + 30 * HOUR)
            .await
            .unwrap();
        verdict::reevaluate_tasks(&mut tx, &[reopened], T + 30 * HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let task = db::task::get_task(&t.db, reopened).await.unwrap();
        assert_eq!(
            (task.status, task.status_reason.as_str()),
            (
                TaskStatus::Failed,
                "Reopened 29 h after finishing, within the 48 h window"
            ),
            "{}: the reopen outweighs the earlier pass",
            t.backend
        );

        verdict::settle_due_tasks(&t.db, T + 49 * HOUR, 100)
            .await
            .unwrap();
        assert_eq!(
            db::task::get_task(&t.db, quiet).await.unwrap().status,
            TaskStatus::Succeeded,
            "{}: not reopened, the grade stands",
            t.backend
        );
        assert_eq!(
            statuses(&t.db, s.workflow).await,
            [("failed".into(), 1), ("succeeded".into(), 1)],
            "{}",
            t.backend
        );
    }
}
