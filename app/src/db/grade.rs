//! Human grades of sampled tasks.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::domain::status::{EditSeverity, GradeVerdict};
use crate::model::Grade;

pub struct NewGrade<'a> {
    pub external_id: Option<&'a str>,
    pub task_id: i64,
    pub reviewer_id: Option<i64>,
    pub grader: &'a str,
    pub verdict: GradeVerdict,
    pub edit_severity: EditSeverity,
    pub review_seconds: i64,
    pub note: &'a str,
    pub graded_at: i64,
    pub content_hash: &'a str,
}

pub async fn insert_grade(tx: &mut Tx, grade: &NewGrade<'_>) -> DbResult<i64> {
    // With its task's workflow and task type (migrations 0028 and 0029), which the workflow
    // page's grading reads by.
    let sql =
        "INSERT INTO grades (external_id, task_id, reviewer_id, grader, verdict, edit_severity,
                   review_seconds, note, graded_at, content_hash, workflow_id, task_type_id)
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, t.workflow_id,
                      COALESCE(t.task_type_id, 0)
               FROM tasks t WHERE t.id = $2
               RETURNING id";
    let id = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(grade.external_id)
        .bind(grade.task_id)
        .bind(grade.reviewer_id)
        .bind(grade.grader)
        .bind(grade.verdict.as_str())
        .bind(grade.edit_severity.as_str())
        .bind(grade.review_seconds)
        .bind(grade.note)
        .bind(grade.graded_at)
        .bind(grade.content_hash)
        .fetch_one(conn)
        .await)?;
    rank_grades(tx, grade.task_id).await?;
    Ok(id)
}

/// Numbers a task's grades by time (`nth`: 1 decides, 2 is the second opinion agreement pairs it
/// with), again after each new grade, since a sender's grade can arrive dated before another.
pub async fn rank_grades(tx: &mut Tx, task_id: i64) -> DbResult<()> {
    let sql = "UPDATE grades SET nth = ranked.nth
               FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY graded_at, id) AS nth
                     FROM grades WHERE task_id = $1) AS ranked
               WHERE ranked.id = grades.id AND grades.nth <> ranked.nth";
    execute!(tx, sqlx::query(sql).bind(task_id))?;
    Ok(())
}

pub async fn list_task_grades(db: &Db, task_id: i64) -> DbResult<Vec<Grade>> {
    let sql = "SELECT * FROM grades WHERE task_id = $1 ORDER BY graded_at, id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

/// The content hash of the task's stored grade from this grader, if any.
pub async fn stored_grade_hash(
    tx: &mut Tx,
    task_id: i64,
    grader: &str,
) -> DbResult<Option<String>> {
    let sql = "SELECT content_hash FROM grades WHERE task_id = $1 AND grader = $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(task_id).bind(grader).fetch_optional(conn).await)?,
    )
}
