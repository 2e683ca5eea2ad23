//! The first-run checklist: an installation without data greets its admin with the five steps
//! to a first figure, each ticked off by what the database holds, and a first batch to send.

use crate::db::Db;
use crate::db::catalog::Catalog;
use crate::db::setup::{Progress, progress};
use crate::domain::status::Role;
use crate::domain::time::{MS_PER_DAY, civil_from_days};
use crate::error::AppError;
use crate::views::access::Viewer;
use crate::views::setup::{SetupChecklist, SetupStep};

/// The checklist for `viewer` while a step is left (admins only: the steps include teams and
/// keys for everything), with snippets addressed to `origin` (`http://host:port` as the reader
/// reached the server).
pub async fn checklist(
    db: &Db,
    viewer: &Viewer,
    origin: &str,
    now: i64,
) -> Result<Option<SetupChecklist>, AppError> {
    if viewer.role != Role::Admin {
        return Ok(None);
    }
    let done = progress(db).await?;
    if steps(done, "").iter().all(|s| s.done) {
        // An installation with data (the demo's too) shows no checklist, so nothing more is
        // read for it on every overview an admin opens.
        return Ok(None);
    }
    // The snippets name the first workflow and task type there are, once there are some.
    let catalog = Catalog::load(db).await?;
    let workflow = catalog.workflows.first();
    let handle =
        workflow.map(|w| crate::model::workflow_handle(w, &catalog.workflows, &catalog.teams));
    let task_type = workflow
        .and_then(|w| catalog.task_types.iter().find(|t| t.workflow_id == w.id))
        .map(|t| t.slug.clone());
    let workflow_name = handle.as_deref().unwrap_or("your-workflow");
    let task_type_name = task_type.as_deref().unwrap_or("your-task-type");
    let workflow_page = handle.as_ref().map_or_else(
        || "/workflows".to_owned(),
        |h| format!("/workflows/{h}#rules"),
    );
    Ok(Some(SetupChecklist {
        steps: steps(done, &workflow_page),
        origin: origin.to_owned(),
        curl: curl_snippet(origin, workflow_name, task_type_name, now),
        otel: otel_snippet(origin, workflow_name),
    }))
}

fn steps(done: Progress, workflow_page: &str) -> Vec<SetupStep> {
    let step = |key: &str, title: &str, done: bool, href: &str, hint: &str| SetupStep {
        key: key.to_owned(),
        title: title.to_owned(),
        done,
        href: href.to_owned(),
        hint: hint.to_owned(),
    };
    vec![
        step(
            "team",
            "Create a team",
            done.teams > 0,
            "/costs#new-team",
            "Teams own workflows; their hourly rate prices review time.",
        ),
        step(
            "workflow",
            "Create a workflow",
            done.workflows > 0,
            "/workflows",
            "A piece of work the AI does, with its CPST budget and quality target.",
        ),
        step(
            "rule",
            "Add a task type and its success rule",
            done.rules > 0,
            workflow_page,
            "Say what finished means before measuring, in words two reviewers would score alike.",
        ),
        step(
            "key",
            "Make an API key",
            done.live_keys > 0,
            "#first-key",
            "Gateways and agents send their work with it.",
        ),
        step(
            "batch",
            "Send the first batch",
            done.tasks > 0,
            "#first-batch",
            "One task, its attempt and a model call, with the command below.",
        ),
    ]
}

/// `ms` as RFC 3339 (`2026-12-04T09:30:00Z`), as the batch API takes times.
fn rfc3339(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let seconds = ms.rem_euclid(MS_PER_DAY) / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A first batch for `workflow` and `task_type`: one finished task, its attempt and one priced
/// model call, started a minute before `now`.
pub fn curl_snippet(origin: &str, workflow: &str, task_type: &str, now: i64) -> String {
    let (start, call, end) = (
        rfc3339(now - 60_000),
        rfc3339(now - 55_000),
        rfc3339(now - 50_000),
    );
    format!(
        r#"curl -s -X POST {origin}/api/v1/ingest \
  -H "Authorization: Bearer $FINISHLINE_KEY" -H "Content-Type: application/json" -d '{{
  "tasks":    [{{"id": "first-task-1", "workflow": "{workflow}", "task_type": "{task_type}",
                "status": "completed", "started_at": "{start}", "finished_at": "{end}"}}],
  "attempts": [{{"correlation_id": "first-task-1-a1", "workflow": "{workflow}", "task": "first-task-1",
                "number": 1, "status": "succeeded", "started_at": "{start}"}}],
  "calls":    [{{"id": "first-call-1", "workflow": "{workflow}", "correlation_id": "first-task-1-a1",
                "kind": "model", "provider": "openai", "model": "gpt-4.1-mini",
                "input_tokens": 1200, "output_tokens": 150, "started_at": "{call}", "latency_ms": 900}}]
}}'"#
    )
}

/// OpenTelemetry's standard exporter settings pointed at this server, for `workflow`.
pub fn otel_snippet(origin: &str, workflow: &str) -> String {
    format!(
        "export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={origin}/v1/traces\n\
         export OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer $FINISHLINE_KEY\"\n\
         export OTEL_RESOURCE_ATTRIBUTES=\"finishline.workflow={workflow}\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_and_the_batch_names_the_workflow_and_task_type() {
        let at = crate::domain::time::days_from_civil(2026, 11, 22) * MS_PER_DAY
            + (10 * 3600 + 5 * 60 + 2) * 1000
            + 600;
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at), "2026-11-22T10:05:02Z");
        let curl = curl_snippet("http://fl.example:3000", "invoice-clearing", "match-po", at);
        assert!(curl.starts_with("curl -s -X POST http://fl.example:3000/api/v1/ingest"));
        assert!(curl.contains(r#""workflow": "invoice-clearing", "task_type": "match-po""#));
        assert!(curl.contains(r#""started_at": "2026-11-22T10:04:02Z""#));
        let otel = otel_snippet("http://fl.example:3000", "invoice-clearing");
        assert!(
            otel.contains("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://fl.example:3000/v1/traces")
        );
    }

    #[test]
    fn each_step_is_ticked_by_what_exists() {
        let none = steps(Progress::default(), "/workflows");
        assert_eq!(none.iter().filter(|s| s.done).count(), 0);
        let some = steps(
            Progress {
                teams: 1,
                workflows: 2,
                rules: 0,
                live_keys: 1,
                tasks: 0,
            },
            "/workflows/x#rules",
        );
        let done: Vec<&str> = some
            .iter()
            .filter(|s| s.done)
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(done, ["team", "workflow", "key"]);
        assert_eq!(some[2].href, "/workflows/x#rules");
    }
}
