//! What the workflow page reads about grading, summed by the database (queue health) or cut to
//! the pairs agreement is measured on, equals the same figures worked out from every grade.

use crate::helpers::test_databases;
use app::db::queue::{grading_summary, workflow_grade_pairs};
use app::db::{Db, on_db};
use app::domain::time::{MS_PER_DAY, day_of};
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
        // A third opinion on a task graded twice, the latest of the three, and a first grade
        // today on another task: pairs take each task's first two, and today has grades.
        let pair_sql = "SELECT task_id FROM grades GROUP BY task_id
                        HAVING COUNT(*) = 2 AND MIN(graded_at) >= $1 ORDER BY task_id";
        let paired: i64 = on_db!(db, pool => sqlx::query_scalar(pair_sql).bind(now - 20 * MS_PER_DAY).fetch_one(pool).await).unwrap();
        let lone_sql = "SELECT t.id FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM grades g WHERE g.task_id = t.id) ORDER BY t.id";
        let lone: i64 =
            on_db!(db, pool => sqlx::query_scalar(lone_sql).fetch_one(pool).await).unwrap();
        let insert =
            "INSERT INTO grades (task_id, grader, verdict, edit_severity, review_seconds, note,
                                          graded_at, content_hash, workflow_id)
                      SELECT $1, $2, $3, 'none', $4, '', $5, 'test', t.workflow_id
                      FROM tasks t WHERE t.id = $1";
        for (task, grader, verdict, seconds) in
            [(paired, "third", "fail", 900), (lone, "first", "pass", 30)]
        {
            on_db!(db, pool => sqlx::query(insert).bind(task).bind(grader).bind(verdict).bind(seconds).bind(now - 1_000).execute(pool).await.map(|done| done.rows_affected())).unwrap();
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
            let mut first: BTreeMap<i64, &Grade> = BTreeMap::new();
            for g in mine.iter().filter(|g| g.graded_at >= since) {
                first.entry(g.task_id).or_insert(g);
            }
            let mut by_type: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
            for g in first.values() {
                let counts = by_type.entry(g.task_type_id).or_default();
                counts.0 += 1;
                counts.1 += i64::from(g.verdict == "pass");
            }
            let mut summed = summary.first_grades.clone();
            summed.sort_unstable();
            let expected: Vec<(i64, i64, i64)> =
                by_type.into_iter().map(|(t, (n, p))| (t, n, p)).collect();
            assert_eq!(summed, expected, "{}: first grades by task type", t.backend);

            let pairs = workflow_grade_pairs(db, workflow_id, since).await.unwrap();
            let mut of_task: BTreeMap<i64, Vec<&Grade>> = BTreeMap::new();
            for g in mine.iter().filter(|g| g.graded_at >= since) {
                of_task.entry(g.task_id).or_default().push(g);
            }
            let expected: Vec<(i64, String)> = of_task
                .values()
                .filter(|grades| grades.len() >= 2)
                .flat_map(|grades| grades[..2].iter().map(|g| (g.task_id, g.grader.clone())))
                .collect();
            let got: Vec<(i64, String)> = pairs
                .iter()
                .map(|g| (g.task_id, g.grader.clone()))
                .collect();
            assert_eq!(got, expected, "{}: pairs", t.backend);
        }
    }
}
