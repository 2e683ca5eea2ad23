//! Bulk import: JSON lines and CSV through the same validation as the API, resumable, and
//! idempotent when run again.

use crate::helpers::{test_databases, workflow_settings};
use app::db::{self, Db, on_db};
use app::domain::Micros;
use server::import::import_file;

async fn workflow(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    let team = db::identity::insert_team(&mut tx, "support", "Support", Micros(30_000_000), 0)
        .await
        .unwrap();
    db::workflow::insert_workflow(&mut tx, &workflow_settings(team, "support-triage"), 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    on_db!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn json_lines_import_once_and_say_what_they_refused() {
    for t in test_databases().await {
        workflow(&t.db).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut lines = vec![
            r#"{"type": "task", "id": "T-1", "workflow": "support-triage", "status": "completed", "started_at": "2026-01-05T10:00:00Z"}"#.to_owned(),
            r#"{"type": "attempt", "correlation_id": "T-1-a1", "workflow": "support-triage", "task": "T-1", "number": 1, "status": "succeeded", "started_at": "2026-01-05T10:00:00Z"}"#.to_owned(),
            "not json".to_owned(),
            r#"{"type": "comment", "id": "x"}"#.to_owned(),
        ];
        for i in 0..2_500 {
            lines.push(format!(
                r#"{{"type": "call", "id": "c-{i}", "workflow": "support-triage", "correlation_id": "T-1-a1", "kind": "tool", "cost_usd": "0.0001", "started_at": 1767607200000}}"#
            ));
        }
        lines.push(r#"{"type": "call", "id": "bad", "workflow": "support-triage", "correlation_id": "T-1-a1", "kind": "tool", "input_tokens": -5, "started_at": 1767607200000}"#.to_owned());
        std::fs::write(&path, lines.join("\n")).unwrap();

        let mut seen = Vec::new();
        let summary = import_file(&t.db, &path, |done, total| seen.push((done, total)))
            .await
            .unwrap();
        assert_eq!(
            (summary.rows, summary.accepted, summary.rejected),
            (2_505, 2_502, 3),
            "{}",
            t.backend
        );
        assert_eq!(
            seen.last(),
            Some(&(2_505, 2_505)),
            "progress reaches the end"
        );
        assert!(seen.len() >= 3, "progress is reported per chunk: {seen:?}");
        assert!(
            summary
                .reasons
                .contains_key(&("input_tokens".to_owned(), "must not be negative".to_owned())),
            "{:?}",
            summary.reasons
        );
        assert_eq!(count(&t.db, "calls").await, 2_500);
        let cost: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT CAST(SUM(tool_cost_micros) AS BIGINT) FROM task_rollups").fetch_one(pool).await).unwrap();
        assert_eq!(cost, 250_000, "{}: 2,500 calls at $0.0001", t.backend);

        let again = import_file(&t.db, &path, |_, _| {}).await.unwrap();
        assert_eq!(
            again.skipped, 2_505,
            "{}: a finished import is not read again",
            t.backend
        );
        assert_eq!(count(&t.db, "calls").await, 2_500);
    }
}

#[tokio::test]
async fn an_interrupted_import_resumes_where_it_stopped() {
    let t = crate::helpers::sqlite().await;
    workflow(&t.db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spend.csv");
    let mut csv = String::from(
        "id,workflow,correlation_id,kind,provider,model,input_tokens,output_tokens,cost_usd,started_at,step\n",
    );
    for i in 0..1_500 {
        csv.push_str(&format!("c-{i},support-triage,T-9-a1,model,openai,gpt-5-mini,1200,80,0.00052,2026-01-05T10:00:00Z,\"drafter, v2\"\n"));
    }
    std::fs::write(&path, &csv).unwrap();
    // A first run that stopped after its first chunk: its progress row says 1,000 rows done.
    let first = import_file(&t.db, &path, |_, _| {}).await.unwrap();
    assert_eq!((first.accepted, first.rejected), (1_500, 0));
    let run_id: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT id FROM import_runs").fetch_one(pool).await).unwrap();
    on_db!(&t.db, pool => sqlx::query("UPDATE import_runs SET rows_done = 1000, accepted = 1000, finished_at = NULL WHERE id = $1")
        .bind(run_id).execute(pool).await.map(|_| ())).unwrap();
    on_db!(&t.db, pool => sqlx::query("DELETE FROM calls WHERE CAST(SUBSTR(external_id, 3) AS INTEGER) >= 1000")
        .execute(pool).await.map(|_| ())).unwrap();
    let resumed = import_file(&t.db, &path, |_, _| {}).await.unwrap();
    assert_eq!((resumed.skipped, resumed.accepted), (1_000, 1_500));
    assert_eq!(count(&t.db, "calls").await, 1_500);
    let step: String = on_db!(&t.db, pool => sqlx::query_scalar("SELECT step FROM calls LIMIT 1").fetch_one(pool).await).unwrap();
    assert_eq!(step, "drafter, v2", "quoted CSV cells keep their commas");
}
