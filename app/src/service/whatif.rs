//! What-if on a workflow: the levers its own evidence lets a reader move over the last 30 days,
//! the projection (see `report::whatif`), and saved scenarios held against what happened after
//! they were saved. Saving is audited.

use crate::db::catalog::{Catalog, window_rows};
use crate::db::{Db, DbError, identity, scenario};
use crate::domain::basis_points::{ALL, BasisPoints};
use crate::domain::time::{day_of, format_day};
use crate::error::AppError;
use crate::model::{ScenarioRecord, Workflow};
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, figures};
use crate::report::whatif::{
    Evidence, MIN_EVIDENCE, Outlook, Reroute, Scenario, WhatIf, evidence, observed_shares, parts,
    project,
};
use crate::service::accounts::{Actor, audit, invalid};
use crate::service::workflows::{Named, named};
use crate::views::access::Viewer;
use crate::views::whatif::{RouteChoice, SavedScenario, WhatIfForm, WhatIfView};
use serde_json::json;
use std::collections::BTreeMap;

/// Days of evidence a what-if reads, ending today.
pub const WINDOW_DAYS: i64 = 30;

/// Saved scenarios the page lists, newest first.
pub const SAVED_LISTED: i64 = 20;

/// Most task types one what-if may route.
const MAX_ROUTES: usize = 100;

/// The longest model name a route may carry.
const MAX_MODEL_LEN: usize = 200;

/// The what-if page of the workflow `slug`: its levers, the projection of `form` when it moves
/// one, and its saved scenarios.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    slug: &str,
    form: &WhatIfForm,
    now: i64,
) -> Result<WhatIfView, AppError> {
    let Named { workflow, handle } = named(db, viewer, slug).await?;
    let catalog = Catalog::load(db).await?;
    let run = Run::load(db, catalog, &workflow, last_30_days(now), now).await?;
    let found = run.evidence()?;
    let choices = run.choices(&found);
    let result = match form.is_empty() {
        true => None,
        false => Some(run.project(&scenario_of(form, &choices)?)?),
    };
    let (cache_share, failure_rate) = observed_shares(&found);
    let users = identity::list_users(db).await?;
    let mut saved = Vec::new();
    // Scenarios saved on the same day share the days since: read them once.
    let mut since: std::collections::HashMap<i64, Option<Outlook>> = Default::default();
    for record in scenario::list_scenarios(db, workflow.id, SAVED_LISTED).await? {
        saved.push(run.saved(db, &handle, &record, &users, &mut since).await?);
    }
    Ok(WhatIfView {
        handle,
        workflow: workflow.name.clone(),
        from: format_day(run.window.first_day),
        to: format_day(run.window.last_day),
        choices,
        cache_share,
        failure_rate,
        form: form.clone(),
        result,
        saved,
        min_evidence: MIN_EVIDENCE,
    })
}

/// Saves the projection of `form` as the scenario `name` of the workflow `slug`; a form the
/// evidence cannot answer is refused as it is on the page.
pub async fn save(
    db: &Db,
    viewer: &Viewer,
    slug: &str,
    name: &str,
    form: &WhatIfForm,
    now: i64,
) -> Result<i64, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid("name", "must be 1 to 120 characters"));
    }
    if form.is_empty() {
        return Err(invalid("routes", "move at least one lever before saving"));
    }
    let Named { workflow, .. } = named(db, viewer, slug).await?;
    let catalog = Catalog::load(db).await?;
    let run = Run::load(db, catalog, &workflow, last_30_days(now), now).await?;
    let projection = match run.project(&scenario_of(form, &run.choices(&run.evidence()?))?)? {
        WhatIf::Projected(p) => p,
        WhatIf::Refused { refusals, .. } => {
            let reasons: Vec<String> = refusals
                .iter()
                .map(|r| format!("{}: {}", r.lever, r.reason))
                .collect();
            return Err(invalid("routes", reasons.join("; ")));
        }
    };
    let record = ScenarioRecord {
        id: 0,
        workflow_id: workflow.id,
        name: name.to_owned(),
        routes: form.routes.trim().to_owned(),
        cache_share: form.cache_share.trim().to_owned(),
        input_change: form.input_change.trim().to_owned(),
        failure_rate: form.failure_rate.trim().to_owned(),
        retry_cut: form.retry_cut.trim().to_owned(),
        assumptions: json!(projection.assumptions).to_string(),
        window_first_day: run.window.first_day,
        window_last_day: run.window.last_day,
        decided: i64::try_from(projection.today.decided).unwrap_or(i64::MAX),
        before_total_micros: projection.today.total.0,
        before_successes: projection.today.successes,
        total_micros: projection.projected.total.0,
        successes: projection.projected.successes,
        low_total_micros: projection.low.total.0,
        low_successes: projection.low.successes,
        high_total_micros: projection.high.total.0,
        high_successes: projection.high.successes,
        created_by: Some(viewer.user_id),
        created_at: now,
    };
    let mut tx = db.begin().await?;
    let id = match scenario::insert_scenario(&mut tx, &record).await {
        Err(DbError::Conflict(_)) => {
            return Err(AppError::conflict(
                "this workflow already has a scenario of that name",
            ));
        }
        other => other?,
    };
    let after = json!({
        "name": record.name, "routes": record.routes, "cache_share": record.cache_share,
        "input_change": record.input_change, "failure_rate": record.failure_rate,
        "retry_cut": record.retry_cut, "cpst_micros": projection.projected.cpst.map(|m| m.0),
    });
    audit(
        &mut tx,
        Actor::of(viewer),
        ("scenario.save", "scenario", id),
        (None, Some(after.to_string())),
        Some(workflow.team_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The projection of `form` for `workflow` over `window`, for the read API (which has loaded
/// the catalogue to check the caller's scope), with prices in force at `now`: storage failures
/// outside, a form the workflow cannot take inside.
pub async fn projection(
    db: &Db,
    catalog: Catalog,
    workflow: &Workflow,
    window: Window,
    form: &WhatIfForm,
    now: i64,
) -> Result<Result<WhatIf, AppError>, DbError> {
    let run = Run::load(db, catalog, workflow, window, now).await?;
    match scenario_of(form, &run.choices(&run.evidence()?)) {
        Ok(scenario) => run.project(&scenario).map(Ok),
        Err(refused) => Ok(Err(refused)),
    }
}

/// The comparison page's periods for a saved scenario: its evidence against the days since.
fn compare_link(handle: &str, record: &ScenarioRecord, now: i64) -> Option<String> {
    let first = day_of(record.created_at) + 1;
    (first <= day_of(now)).then(|| {
        format!(
            "/workflows/{handle}/compare?baseline_from={}&baseline_to={}&candidate_from={}&candidate_to={}",
            format_day(record.window_first_day),
            format_day(record.window_last_day),
            format_day(first),
            format_day(day_of(now)),
        )
    })
}

fn last_30_days(now: i64) -> Window {
    Window::ending(day_of(now), WINDOW_DAYS)
}

/// Reads the form's levers, naming the field at fault; routes to task types outside the
/// workflow are refused, routes to models without evidence are left for the projection to
/// refuse with the count.
pub fn scenario_of(form: &WhatIfForm, choices: &[RouteChoice]) -> Result<Scenario, AppError> {
    let mut routes = Vec::new();
    for pair in form.routes.split(';').filter(|p| !p.trim().is_empty()) {
        let bad = || {
            invalid(
                "routes",
                "must be task_type_id:provider/model pairs separated by ;",
            )
        };
        let (id, model) = pair.split_once(':').ok_or_else(bad)?;
        let task_type_id: i64 = id.trim().parse().map_err(|_| bad())?;
        let model = model.trim();
        if !choices.iter().any(|c| c.task_type_id == task_type_id) {
            return Err(invalid(
                "routes",
                format!("task type {task_type_id} has no decided tasks in this workflow"),
            ));
        }
        if model.is_empty() || model.len() > MAX_MODEL_LEN {
            return Err(invalid(
                "routes",
                "a model name must be 1 to 200 characters",
            ));
        }
        if routes
            .iter()
            .any(|r: &Reroute| r.task_type_id == task_type_id)
        {
            return Err(invalid("routes", "routes each task type once"));
        }
        routes.push(Reroute {
            task_type_id,
            model: model.to_owned(),
        });
    }
    if routes.len() > MAX_ROUTES {
        return Err(invalid("routes", "routes at most 100 task types"));
    }
    let share = |field: &'static str, text: &str| -> Result<Option<i64>, AppError> {
        match text.trim() {
            "" => Ok(None),
            text => BasisPoints::parse_percent(text, ALL)
                .map(|bp| Some(bp.get()))
                .map_err(|e| invalid(field, e.to_string())),
        }
    };
    Ok(Scenario {
        routes,
        cache_share_bps: share("cache_share", &form.cache_share)?,
        input_change_bps: signed_percent(&form.input_change)?,
        failure_bps: share("failure_rate", &form.failure_rate)?,
        retry_cut_bps: share("retry_cut", &form.retry_cut)?,
    })
}

/// A change of input tokens from -90% to +500%, with its sign.
fn signed_percent(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (sign, digits) = match text.strip_prefix(['-', '−']) {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let refuse = || invalid("input_change", "must be a percentage from -90 to +500");
    let bp = BasisPoints::parse_percent(digits, BasisPoints::new(50_000)).map_err(|_| refuse())?;
    let bp = sign * bp.get();
    match bp >= -9_000 {
        true => Ok(Some(bp)),
        false => Err(refuse()),
    }
}

/// Everything a projection reads: the catalogue and the window's rollup rows.
struct Run<'w> {
    workflow: &'w Workflow,
    catalog: Catalog,
    window: Window,
    rows: Vec<crate::model::TaskRollup>,
    now: i64,
}

impl<'w> Run<'w> {
    async fn load(
        db: &Db,
        catalog: Catalog,
        workflow: &'w Workflow,
        window: Window,
        now: i64,
    ) -> Result<Run<'w>, DbError> {
        let rows = window_rows(db, window).await?;
        Ok(Run {
            workflow,
            catalog,
            window,
            rows,
            now,
        })
    }

    fn filter(&self) -> Filter {
        Filter {
            workflow_ids: Some(vec![self.workflow.id]),
            ..Filter::default()
        }
    }

    fn project(&self, scenario: &Scenario) -> Result<WhatIf, DbError> {
        let ledger = self.catalog.ledger(self.window, &self.rows);
        let prices = &self.catalog.prices;
        Ok(project(
            &ledger,
            self.workflow.id,
            scenario,
            prices,
            self.now,
        )?)
    }

    /// The workflow's decided tasks by (task type, model).
    fn evidence(&self) -> Result<BTreeMap<(i64, String), Evidence>, DbError> {
        let ledger = self.catalog.ledger(self.window, &self.rows);
        Ok(evidence(&ledger, self.workflow.id)?)
    }

    /// Each task type with decided tasks, and the models that did them.
    fn choices(&self, found: &BTreeMap<(i64, String), Evidence>) -> Vec<RouteChoice> {
        let mut choices: Vec<RouteChoice> = Vec::new();
        for ((task_type_id, model), e) in found {
            let task_type_id = *task_type_id;
            if choices
                .last()
                .is_none_or(|c| c.task_type_id != task_type_id)
            {
                let label = self
                    .catalog
                    .task_types
                    .iter()
                    .find(|t| t.id == task_type_id);
                choices.push(RouteChoice {
                    task_type_id,
                    label: label.map_or_else(|| task_type_id.to_string(), |t| t.name.clone()),
                    decided: 0,
                    models: Vec::new(),
                });
            }
            let choice = choices.last_mut().expect("pushed above");
            choice.decided += e.decided();
            if !model.is_empty() {
                let rate = (e.decided() > 0).then(|| e.succeeded as f64 / e.decided() as f64);
                choice.models.push((model.clone(), e.decided(), rate));
            }
        }
        for choice in &mut choices {
            choice
                .models
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        choices.sort_by(|a, b| {
            b.decided
                .cmp(&a.decided)
                .then_with(|| a.label.cmp(&b.label))
        });
        choices
    }

    /// The workflow's figures from `first` through `last`, if that is a day or more.
    async fn actual(&self, db: &Db, first: i64, last: i64) -> Result<Option<Outlook>, DbError> {
        if first > last {
            return Ok(None);
        }
        let span = Window {
            first_day: first,
            last_day: last,
        };
        let rows = window_rows(db, span).await?;
        let ledger = self.catalog.ledger(span, &rows);
        let set = figures(&ledger, &self.filter(), Grouping::All)?
            .pop()
            .map(|g| g.set)
            .unwrap_or_default();
        Ok(Some(Outlook::of(
            set.counts.decided(),
            set.total_cost(),
            parts(set.counts.succeeded)?,
            span.days(),
        )?))
    }

    /// A saved scenario beside what happened from the day after it was saved through today.
    async fn saved(
        &self,
        db: &Db,
        handle: &str,
        record: &ScenarioRecord,
        users: &[crate::model::User],
        since: &mut std::collections::HashMap<i64, Option<Outlook>>,
    ) -> Result<SavedScenario, DbError> {
        let now = self.now;
        let before_days = record.window_last_day - record.window_first_day + 1;
        let decided = u64::try_from(record.decided).unwrap_or(0);
        let outlook = |total: i64, successes: i64| {
            Outlook::of(
                decided,
                crate::domain::Micros(total),
                successes,
                before_days,
            )
        };
        let first = day_of(record.created_at) + 1;
        let last = day_of(now);
        let after = match since.get(&first) {
            Some(known) => *known,
            None => {
                let known = self.actual(db, first, last).await?;
                since.insert(first, known);
                known
            }
        };
        let after_window = after.map(|_| format!("{} to {}", format_day(first), format_day(last)));
        Ok(SavedScenario {
            id: record.id,
            name: record.name.clone(),
            saved_on: format_day(day_of(record.created_at)),
            saved_by: users
                .iter()
                .find(|u| Some(u.id) == record.created_by)
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            form: WhatIfForm {
                routes: record.routes.clone(),
                cache_share: record.cache_share.clone(),
                input_change: record.input_change.clone(),
                failure_rate: record.failure_rate.clone(),
                retry_cut: record.retry_cut.clone(),
            },
            assumptions: serde_json::from_str(&record.assumptions).unwrap_or_default(),
            before_window: format!(
                "{} to {}",
                format_day(record.window_first_day),
                format_day(record.window_last_day)
            ),
            before: outlook(record.before_total_micros, record.before_successes)?,
            projected: outlook(record.total_micros, record.successes)?,
            low: outlook(record.low_total_micros, record.low_successes)?,
            high: outlook(record.high_total_micros, record.high_successes)?,
            after_window,
            after,
            compare: compare_link(handle, record, now),
        })
    }
}
