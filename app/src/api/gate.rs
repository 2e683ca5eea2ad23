//! The autonomy gate page: whether quality and cost are proven, the gate's history, the level
//! and its changes; admins and the workflow's owners change the level.

use crate::error::AppError;
use crate::views::gate::GateView;
#[cfg(feature = "ssr")]
use crate::views::gate::{GateRow, LevelChange};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "get_gate")]
pub async fn get_gate(slug: String) -> Result<GateView, AppError> {
    use crate::api::context::*;
    use crate::db::{catalog::Catalog, gate, identity, workflow};
    use crate::domain::time::{MS_PER_DAY, day_of, format_day, format_instant};

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let db = db()?;
    let now = crate::db::now_ms();
    let flow = workflow::find_workflow_by_slug(&db, &slug)
        .await?
        .filter(|w| viewer.sees_team(w.team_id))
        .ok_or_else(|| AppError::not_found("workflow"))?;
    let load = async {
        let catalog = Catalog::load(&db).await?;
        let (window, result) =
            crate::service::gate::judge(&db, &catalog, &flow, day_of(now)).await?;
        let users = identity::list_users(&db).await?;
        let history = gate::gate_history(&db, flow.id).await?;
        let changes = gate::autonomy_history(&db, flow.id).await?;
        let days = |from: i64, to: i64| {
            format!(
                "{} to {}",
                format_day(from.div_euclid(MS_PER_DAY)),
                format_day(to.div_euclid(MS_PER_DAY) - 1)
            )
        };
        Ok::<_, crate::db::DbError>(GateView {
            workflow_id: flow.id,
            slug: flow.slug.clone(),
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
            levels: (0..=crate::service::gate::MAX_LEVEL)
                .map(|level| (level, crate::service::gate::level_words(level).to_owned()))
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

/// Raises or lowers a workflow's autonomy level; raising is refused while the gate fails.
#[server(prefix = "/rpc", endpoint = "set_autonomy_level")]
pub async fn set_autonomy_level(
    workflow_id: i64,
    level: i64,
    note: String,
) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "changing autonomy levels")?;
    crate::service::gate::set_level(
        &db()?,
        &viewer,
        workflow_id,
        level,
        &note,
        crate::db::now_ms(),
    )
    .await
    .map(|_| ())
}
