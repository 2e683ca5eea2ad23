//! The autonomy gate of a workflow, judged by the CPST engine over its gate window, and changes
//! of its autonomy level: raising it needs the gate to pass at that moment (the evaluation is
//! stored with the change); lowering it is always allowed. Both are audited.

use crate::db::catalog::{Catalog, window_rows};
use crate::db::{Db, DbError, gate, identity, workflow};
use crate::domain::gate::{GateResult, evaluate_autonomy_gate};
use crate::domain::time::{MS_PER_DAY, day_of, format_day, format_instant};
use crate::error::AppError;
use crate::model::{AutonomyChange, GateEvaluation, Workflow};
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, figures};
use crate::service::accounts::{Actor, audit, invalid};
use crate::views::access::Viewer;
use crate::views::gate::{GateRow, GateView, LevelChange};
use serde_json::json;

/// The highest autonomy level (the schema allows 0 to 3).
pub const MAX_LEVEL: i64 = 3;

/// What each level lets the workflow do, in words.
pub fn level_words(level: i64) -> &'static str {
    match level {
        0 => "suggests only: a person sends every output",
        1 => "acts on low-risk tasks; a person approves the rest",
        2 => "acts on most tasks; a person reviews a sample afterwards",
        _ => "acts on its own; people handle escalations",
    }
}

/// The gate over the workflow's window ending on `last_day`, against the window before it.
pub async fn judge(
    db: &Db,
    catalog: &Catalog,
    flow: &Workflow,
    last_day: i64,
) -> Result<(Window, GateResult), DbError> {
    let window = Window::ending(last_day, flow.gate_window_days);
    let filter = Filter {
        workflow_ids: Some(vec![flow.id]),
        ..Filter::default()
    };
    let mut sets = Vec::new();
    for span in [window, window.previous()] {
        let rows = window_rows(db, span).await?;
        let set = figures(&catalog.ledger(span, &rows), &filter, Grouping::All)?
            .pop()
            .map(|group| group.set)
            .unwrap_or_default();
        sets.push(set);
    }
    Ok((
        window,
        evaluate_autonomy_gate(&sets[0], &sets[1], &flow.gate_settings()),
    ))
}

fn evaluation(flow: &Workflow, window: Window, result: &GateResult, now: i64) -> GateEvaluation {
    GateEvaluation {
        id: 0,
        workflow_id: flow.id,
        evaluated_at: now,
        window_start: window.first_day * MS_PER_DAY,
        window_end: (window.last_day + 1) * MS_PER_DAY,
        sample: result.sample as i64,
        successes: result.successes as i64,
        cpst_micros: result.cpst.micros().map(|m| m.0),
        previous_cpst_micros: result.previous_cpst.micros().map(|m| m.0),
        quality_proven: result.quality_proven,
        cost_proven: result.cost_proven,
        evidence: result.evidence(),
    }
}

/// Moves a workflow to `level`. Raising is refused (422, with the evidence) unless the gate
/// passes now; the evaluation is stored with the change either way it goes through.
pub async fn set_level(
    db: &Db,
    viewer: &Viewer,
    workflow_id: i64,
    level: i64,
    note: &str,
    now: i64,
) -> Result<GateResult, AppError> {
    let flow = crate::service::success::workflow_for(db, viewer, workflow_id).await?;
    if !(0..=MAX_LEVEL).contains(&level) {
        return Err(invalid("level", format!("must be from 0 to {MAX_LEVEL}")));
    }
    if level == flow.autonomy_level {
        return Err(invalid("level", "is the level the workflow already has"));
    }
    if note.trim().chars().count() > 1_000 {
        return Err(invalid("note", "must be at most 1000 characters"));
    }
    let catalog = Catalog::load(db).await?;
    let (window, result) = judge(db, &catalog, &flow, crate::domain::time::day_of(now)).await?;
    let raising = level > flow.autonomy_level;
    if raising && !result.passes() {
        return Err(invalid(
            "level",
            format!(
                "more autonomy needs quality and cost proven: {}",
                result.evidence()
            ),
        ));
    }
    let mut tx = db.begin().await?;
    let evaluation_id =
        gate::insert_gate_evaluation(&mut tx, &evaluation(&flow, window, &result, now)).await?;
    workflow::set_autonomy_level(&mut tx, flow.id, level, now).await?;
    let change = AutonomyChange {
        id: 0,
        workflow_id: flow.id,
        from_level: flow.autonomy_level,
        to_level: level,
        changed_by: Some(viewer.user_id),
        gate_evaluation_id: Some(evaluation_id),
        changed_at: now,
        note: note.trim().to_owned(),
    };
    gate::insert_autonomy_change(&mut tx, &change).await?;
    let details = json!({
        "level": level, "note": change.note, "gate_passes": result.passes(),
        "evidence": result.evidence(),
    });
    audit(
        &mut tx,
        Actor::of(viewer),
        ("autonomy.change", "workflow", flow.id),
        (
            Some(flow.autonomy_level.to_string()),
            Some(details.to_string()),
        ),
        Some(flow.team_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// The gate page of the workflow `slug`, when `viewer` sees it: the gate judged now, its daily
/// history (the last 60 days) and the level's changes with who made them.
pub async fn page(db: &Db, viewer: &Viewer, slug: &str, now: i64) -> Result<GateView, AppError> {
    let crate::service::workflows::Named {
        workflow: flow,
        handle,
    } = crate::service::workflows::named(db, viewer, slug).await?;
    let load = async {
        let catalog = Catalog::load(db).await?;
        let (window, result) = judge(db, &catalog, &flow, day_of(now)).await?;
        let users = identity::list_users(db).await?;
        let history = gate::gate_history(db, flow.id).await?;
        let changes = gate::autonomy_history(db, flow.id).await?;
        let days = |from: i64, to: i64| {
            format!(
                "{} to {}",
                format_day(from.div_euclid(MS_PER_DAY)),
                format_day(to.div_euclid(MS_PER_DAY) - 1)
            )
        };
        Ok::<_, crate::db::DbError>(GateView {
            workflow_id: flow.id,
            slug: handle,
            name: flow.name.clone(),
            window: format!(
                "{} to {}",
                format_day(window.first_day),
                format_day(window.last_day)
            ),
            passes: result.passes(),
            quality_proven: result.quality_proven,
            cost_proven: result.cost_proven,
            quality_evidence: result.quality_evidence.clone(),
            cost_evidence: result.cost_evidence.clone(),
            level: flow.autonomy_level,
            levels: (0..=MAX_LEVEL)
                .map(|level| (level, level_words(level).to_owned()))
                .collect(),
            may_change: viewer.defines_success(flow.team_id),
            history: history
                .iter()
                .rev()
                .take(60)
                .map(|e| GateRow {
                    day: format_instant(e.evaluated_at),
                    window: days(e.window_start, e.window_end),
                    decided: e.sample,
                    succeeded: e.successes,
                    cpst: e
                        .cpst_micros
                        .map(|m| crate::domain::Micros(m).to_string())
                        .unwrap_or_else(|| "no successful tasks".into()),
                    quality_proven: e.quality_proven,
                    cost_proven: e.cost_proven,
                })
                .collect(),
            changes: changes
                .iter()
                .rev()
                .map(|c| LevelChange {
                    when: format_instant(c.changed_at),
                    from: c.from_level,
                    to: c.to_level,
                    by: c
                        .changed_by
                        .and_then(|id| users.iter().find(|u| u.id == id))
                        .map(|u| u.name.clone())
                        .unwrap_or_else(|| "system".into()),
                    note: c.note.clone(),
                })
                .collect(),
        })
    };
    load.await.map_err(AppError::from)
}

/// Records today's evaluation of every workflow that has none yet today: the gate's history.
pub async fn record_daily(db: &Db, now: i64) -> Result<u64, DbError> {
    let today = crate::domain::time::day_of(now);
    // Called every minute: one read answers "done for today" without loading the catalogue.
    let judged_today: Vec<i64> = gate::latest_evaluations(db)
        .await?
        .iter()
        .filter(|e| crate::domain::time::day_of(e.evaluated_at) == today)
        .map(|e| e.workflow_id)
        .collect();
    let flows = workflow::list_workflows(db).await?;
    if flows.iter().all(|f| judged_today.contains(&f.id)) {
        return Ok(0);
    }
    let catalog = Catalog::load(db).await?;
    let mut recorded = 0;
    for flow in flows.iter().filter(|f| !judged_today.contains(&f.id)) {
        let (window, result) = judge(db, &catalog, flow, today).await?;
        let mut tx = db.begin().await?;
        gate::insert_gate_evaluation(&mut tx, &evaluation(flow, window, &result, now)).await?;
        tx.commit().await?;
        recorded += 1;
    }
    Ok(recorded)
}
