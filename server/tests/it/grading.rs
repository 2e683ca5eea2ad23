//! What the workflow page reads about grading, summed by the database (queue health) or cut to
//! the pairs agreement is measured on, equals the same figures worked out from every grade.

use crate::helpers::{app, ingest, test_databases};
use app::db::grade::{NewGrade, insert_grade};
use app::db::queue::{PairCount, grading_summary, latest_disagreements, pair_counts, pair_grades};
use app::db::{Db, on_db};
use app::domain::status::{EditSeverity, GradeVerdict};
use app::domain::time::{MS_PER_DAY, day_of, format_day};
use serde_json::json;
use server::demo::{self, DemoSpec};
use std::collections::BTreeMap;

/// A grade as the oracle reads it.
#[derive(sqlx::FromRow)]
struct Grade {
    task_id: i64,
    workflow_id: i64,
    task_type_id: i64,
    grader: String,
    verdict: String,
    review_seconds: i64,
    graded_at: i64,
}

/// Stores a grade the way every grade is stored (it is ranked among its task's grades).
async fn add_grade(
    db: &Db,
    task_id: i64,
    grader: &str,
    verdict: GradeVerdict,
    seconds: i64,
    at: i64,
) {
    let mut tx = db.begin().await.unwrap();
    let grade = NewGrade {
        external_id: None,
        task_id,
        reviewer_id: None,
        grader,
        verdict,
        edit_severity: EditSeverity::None,
        review_seconds: seconds,
        note: "second look",
        graded_at: at,
        content_hash: "test",
    };
    insert_grade(&mut tx, &grade).await.unwrap();
    tx.commit().await.unwrap();
}

async fn every_grade(db: &Db) -> Vec<Grade> {
    let sql = "SELECT g.task_id, t.workflow_id, COALESCE(t.task_type_id, 0) AS task_type_id,
                      g.grader, g.verdict, g.review_seconds, g.graded_at
               FROM grades g JOIN tasks t ON t.id = g.task_id ORDER BY g.task_id, g.graded_at, g.id";
    on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap()
}

#[tokio::test]
async fn grading_figures_summed_by_the_database_equal_those_of_every_grade() {
    for t in test_databases().await {
        let db = &t.db;
        let now = app::db::now_ms();
        let today = day_of(now);
        demo::load(
            db,
            &DemoSpec {
                seed: 11,
                tasks: 2_000,
                end_day: today,
            },
        )
        .await
        .unwrap();
        // A third opinion on a task graded twice, the latest of the three; a grade sent late
        // but dated before the first of another task graded twice, which makes it that task's
        // first; and a first grade today on a third task: pairs take each task's first two by
        // time, and today has grades.
        let pair_sql = "SELECT task_id, MIN(graded_at) FROM grades GROUP BY task_id
                        HAVING COUNT(*) = 2 AND MIN(graded_at) >= $1 ORDER BY task_id LIMIT 2";
        let twice: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(pair_sql).bind(now - 20 * MS_PER_DAY).fetch_all(pool).await).unwrap();
        let [(paired, _), (overtaken, first_at)] = twice[..] else {
            panic!("{}: the demo has tasks graded twice", t.backend);
        };
        let lone_sql = "SELECT t.id FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM grades g WHERE g.task_id = t.id) ORDER BY t.id";
        let lone: i64 =
            on_db!(db, pool => sqlx::query_scalar(lone_sql).fetch_one(pool).await).unwrap();
        for (task, grader, verdict, seconds, at) in [
            (paired, "third", GradeVerdict::Fail, 900, now - 1_000),
            (overtaken, "early", GradeVerdict::Fail, 60, first_at - 1_000),
            (lone, "first", GradeVerdict::Pass, 30, now - 1_000),
        ] {
            add_grade(db, task, grader, verdict, seconds, at).await;
        }
        let grades = every_grade(db).await;
        let workflows: Vec<i64> = {
            let mut ids: Vec<i64> = grades.iter().map(|g| g.workflow_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        assert!(
            workflows.len() >= 2,
            "{}: the demo grades several workflows",
            t.backend
        );
        for workflow_id in workflows {
            let mine: Vec<&Grade> = grades
                .iter()
                .filter(|g| g.workflow_id == workflow_id)
                .collect();
            let (since, days_from, seconds_from) = (
                now - 30 * MS_PER_DAY,
                (today - 6) * MS_PER_DAY,
                now - 20 * MS_PER_DAY,
            );
            let summary = grading_summary(db, workflow_id, since, days_from, seconds_from)
                .await
                .unwrap();

            let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
            for g in mine.iter().filter(|g| g.graded_at >= days_from) {
                *per_day.entry(day_of(g.graded_at)).or_default() += 1;
            }
            assert_eq!(
                summary.per_day,
                per_day.into_iter().collect::<Vec<_>>(),
                "{}: per day",
                t.backend
            );

            let mut seconds: Vec<i64> = mine
                .iter()
                .filter(|g| g.graded_at >= seconds_from)
                .map(|g| g.review_seconds)
                .collect();
            seconds.sort_unstable();
            let median =
                (!seconds.is_empty()).then(|| app::domain::stats::nearest_rank(&seconds, 50));
            assert_eq!(summary.median_seconds, median, "{}: median", t.backend);

            // Grades come ordered by task, then time and id: the first of each task decides it.
            let mut of_task: BTreeMap<i64, Vec<&Grade>> = BTreeMap::new();
            for g in &mine {
                of_task.entry(g.task_id).or_default().push(g);
            }
            let mut by_type: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
            for g in of_task
                .values()
                .map(|grades| grades[0])
                .filter(|g| g.graded_at >= since)
            {
                let counts = by_type.entry(g.task_type_id).or_default();
                counts.0 += 1;
                counts.1 += i64::from(g.verdict == "pass");
            }
            let mut summed = summary.first_grades.clone();
            summed.sort_unstable();
            let expected: Vec<(i64, i64, i64)> =
                by_type.into_iter().map(|(t, (n, p))| (t, n, p)).collect();
            assert_eq!(summed, expected, "{}: first grades by task type", t.backend);

            // A pair: a task's first two grades, when the second came in the period.
            let twice: Vec<&[&Grade]> = of_task
                .values()
                .filter(|grades| grades.len() >= 2 && grades[1].graded_at >= since)
                .map(|grades| &grades[..2])
                .collect();
            let mut counted: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
            for p in &twice {
                let key = (
                    p[1].task_type_id,
                    p[0].verdict.clone(),
                    p[1].verdict.clone(),
                );
                *counted.entry(key).or_default() += 1;
            }
            let expected: Vec<PairCount> = counted
                .into_iter()
                .map(|((task_type_id, first, second), pairs)| PairCount {
                    task_type_id,
                    first,
                    second,
                    pairs,
                })
                .collect();
            let got = pair_counts(db, workflow_id, since).await.unwrap();
            assert!(!got.is_empty(), "{}: the demo has pairs", t.backend);
            assert_eq!(got, expected, "{}: pairs", t.backend);

            let mut disagreeing: Vec<(i64, i64, i64)> = twice
                .iter()
                .filter(|p| p[0].verdict != p[1].verdict)
                .map(|p| (p[1].graded_at, p[1].task_id, p[1].task_type_id))
                .collect();
            disagreeing.sort_unstable_by(|a, b| b.cmp(a));
            disagreeing.truncate(3);
            let got: Vec<(i64, i64, i64)> = latest_disagreements(db, workflow_id, since, 3)
                .await
                .unwrap()
                .into_iter()
                .map(|d| (d.paired_at, d.task_id, d.task_type_id))
                .collect();
            assert_eq!(got, disagreeing, "{}: the latest disagreements", t.backend);

            // The grades of a few pairs, the way the list of disagreements reads them.
            let some: Vec<i64> = twice.iter().rev().take(3).map(|p| p[0].task_id).collect();
            let lines = pair_grades(db, &some).await.unwrap();
            let mut expected: Vec<(i64, String, String)> = twice
                .iter()
                .filter(|p| some.contains(&p[0].task_id))
                .flat_map(|p| {
                    p.iter()
                        .map(|g| (g.task_id, g.grader.clone(), g.verdict.clone()))
                })
                .collect();
            expected.sort_by_key(|(task, _, _)| *task);
            let got: Vec<(i64, String, String)> = lines
                .iter()
                .map(|l| (l.task_id, l.grader.clone(), l.verdict.clone()))
                .collect();
            assert_eq!(got, expected, "{}: the grades of some pairs", t.backend);
        }
    }
}

#[tokio::test]
async fn a_graded_task_sent_again_with_another_task_type_takes_its_grades_along() {
    for t in test_databases().await {
        let db = &t.db;
        demo::load(
            db,
            &DemoSpec {
                seed: 12,
                tasks: 300,
                end_day: day_of(app::db::now_ms()),
            },
        )
        .await
        .unwrap();
        let key = server::api::create_api_key(db, "test", &[], None)
            .await
            .unwrap();
        let router = app(db);
        let day = format_day(day_of(app::db::now_ms()) - 1);
        let task = |task_type: &str| {
            json!({"tasks": [{"id": "moved-1", "workflow": "support-triage", "task_type": task_type,
                "started_at": format!("{day}T09:00:00Z"), "finished_at": format!("{day}T09:01:00Z"),
                "status": "completed"}]})
        };
        ingest(&router, &key, &task("billing-question")).await;
        let id_sql = "SELECT id FROM tasks WHERE external_id = 'moved-1'";
        let moved: i64 =
            on_db!(db, pool => sqlx::query_scalar(id_sql).fetch_one(pool).await).unwrap();
        add_grade(
            db,
            moved,
            "api:first",
            GradeVerdict::Pass,
            60,
            app::db::now_ms(),
        )
        .await;
        let types_sql = "SELECT g.task_type_id, COALESCE(t.task_type_id, 0) FROM grades g
                         JOIN tasks t ON t.id = g.task_id WHERE t.external_id = 'moved-1'";
        let type_of_slug = |slug: &'static str| async move {
            let sql = "SELECT tt.id FROM task_types tt JOIN workflows w ON w.id = tt.workflow_id
                       WHERE w.slug = 'support-triage' AND tt.slug = $1";
            on_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).bind(slug).fetch_one(pool).await)
                .unwrap()
        };
        let billing = type_of_slug("billing-question").await;
        let (graded_as, task_is): (i64, i64) =
            on_db!(db, pool => sqlx::query_as(types_sql).fetch_one(pool).await).unwrap();
        assert_eq!((graded_as, task_is), (billing, billing), "{}", t.backend);

        ingest(&router, &key, &task("password-reset")).await;
        let reset = type_of_slug("password-reset").await;
        let (graded_as, task_is): (i64, i64) =
            on_db!(db, pool => sqlx::query_as(types_sql).fetch_one(pool).await).unwrap();
        assert_eq!(
            (graded_as, task_is),
            (reset, reset),
            "{}: the grade follows its task",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_workflow_page_lists_the_latest_disagreements_and_counts_them_all() {
    for t in test_databases().await {
        let db = &t.db;
        let now = app::db::now_ms();
        demo::load(
            db,
            &DemoSpec {
                seed: 13,
                tasks: 2_000,
                end_day: day_of(now),
            },
        )
        .await
        .unwrap();
        let flow_sql = "SELECT id FROM workflows WHERE slug = 'support-triage'";
        let flow_id: i64 =
            on_db!(db, pool => sqlx::query_scalar(flow_sql).fetch_one(pool).await).unwrap();
        // A second opinion that differs on 22 tasks graded once, a minute apart and after every
        // other grade, the newest last.
        let once_sql = "SELECT task_id FROM grades WHERE workflow_id = $1 AND graded_at >= $2
                        GROUP BY task_id HAVING COUNT(*) = 1 ORDER BY task_id LIMIT 22";
        let once: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(once_sql).bind(flow_id).bind(now - 89 * MS_PER_DAY).fetch_all(pool).await).unwrap();
        assert_eq!(once.len(), 22, "{}", t.backend);
        let latest_sql = "SELECT MAX(graded_at) FROM grades";
        let latest: i64 =
            on_db!(db, pool => sqlx::query_scalar(latest_sql).fetch_one(pool).await).unwrap();
        let verdict_sql = "SELECT verdict FROM grades WHERE task_id = $1";
        for (i, task) in once.iter().enumerate() {
            let first: String = on_db!(db, pool => sqlx::query_scalar(verdict_sql).bind(task).fetch_one(pool).await).unwrap();
            let other = match first.as_str() {
                "fail" => GradeVerdict::Pass,
                _ => GradeVerdict::Fail,
            };
            add_grade(
                db,
                *task,
                "api:second",
                other,
                60,
                latest + 60_000 * (i as i64 + 1),
            )
            .await;
        }
        let flow = app::db::workflow::get_workflow(db, flow_id).await.unwrap();
        let view = app::service::review::agreement_of(db, &flow, now)
            .await
            .unwrap();

        let pairs = pair_counts(db, flow_id, now - 90 * MS_PER_DAY)
            .await
            .unwrap();
        let disagreeing: i64 = pairs
            .iter()
            .filter(|p| p.first != p.second)
            .map(|p| p.pairs)
            .sum();
        assert!(disagreeing >= 22, "{}", t.backend);
        assert_eq!(
            view.disagreements_total, disagreeing as u64,
            "{}",
            t.backend
        );
        let all: i64 = pairs.iter().map(|p| p.pairs).sum();
        assert_eq!(view.overall.pairs, all as u64, "{}", t.backend);
        let shown = app::service::review::DISAGREEMENTS_SHOWN;
        let latest: Vec<i64> = once.iter().rev().take(shown).copied().collect();
        let listed: Vec<i64> = view.disagreements.iter().map(|d| d.task_id).collect();
        assert_eq!(listed, latest, "{}: the latest, newest first", t.backend);
        assert!(
            view.disagreements
                .iter()
                .all(|d| d.notes.contains("second look") && d.second.contains("api:second")),
            "{}",
            t.backend
        );
    }
}
