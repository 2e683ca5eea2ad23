//! The comparison of two configuration versions, or of two periods, of one workflow: both
//! sets' figures, the change in CPST and success rate, and whether the change is beyond noise.

use crate::db::Db;
use crate::db::catalog::{Catalog, window_rows};
use crate::domain::compare::compare_sets;
use crate::domain::time::{day_of, format_day};
use crate::error::AppError;
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, figures};
use crate::views::access::Viewer;
use crate::views::workflows::VersionComparison;

/// What the comparison page asked for: a workflow, two version labels (empty: its first and
/// last) over the last `days`, or two periods (baseline from and to, candidate from and to).
pub struct ComparisonAsked {
    pub slug: String,
    pub baseline: String,
    pub candidate: String,
    pub days: i64,
    pub periods: [Option<String>; 4],
}

/// The comparison `asked` for, of a workflow `viewer` sees; the first field at fault by name.
pub async fn compare(
    db: &Db,
    viewer: &Viewer,
    asked: ComparisonAsked,
    now: i64,
) -> Result<VersionComparison, AppError> {
    let ComparisonAsked {
        slug,
        baseline,
        candidate,
        days,
        periods: dates,
    } = asked;
    let today = day_of(now);
    let window = Window::chosen(days, "", "", today).map_err(AppError::from_field_problem)?;
    let catalog = Catalog::load(db).await?;
    let visible = || {
        catalog
            .workflows
            .iter()
            .filter(|w| viewer.sees_team(w.team_id))
    };
    let flow = crate::model::find_workflow(visible(), &catalog.teams, &slug)
        .map_err(|lookup| crate::service::workflows::unnamed("workflow", &slug, lookup))?;
    let versions = catalog.versions_of(flow.id);
    let pick =
        |label: &str, field: &str, default: Option<&&crate::model::ConfigVersion>| match label
            .trim()
        {
            "" => Ok(default.map(|v| (*v).clone())),
            label => versions
                .iter()
                .find(|v| v.label == label)
                .map(|v| Some((*v).clone()))
                .ok_or_else(|| {
                    AppError::from_field_problem(format!(
                        "{field}: '{}' has no version '{label}'",
                        flow.slug
                    ))
                }),
        };
    let before = pick(&baseline, "baseline", versions.first())?;
    let after = pick(&candidate, "candidate", versions.last())?;
    let span = |w: Window| format!("{} to {}", format_day(w.first_day), format_day(w.last_day));
    // The workflow's figures (one version's, or every version's) over a window's rows.
    let set_of = |window: Window, rows: &[crate::model::TaskRollup], version: Option<i64>| {
        let filter = Filter {
            workflow_ids: Some(vec![flow.id]),
            config_version_id: version,
            ..Filter::default()
        };
        figures(&catalog.ledger(window, rows), &filter, Grouping::All)
            .map(|mut groups| groups.pop().map(|g| g.set).unwrap_or_default())
            .map_err(|overflow| AppError::from(crate::db::DbError::from(overflow)))
    };
    let rows_of = async |window: Window| window_rows(db, window).await.map_err(AppError::from);
    let dates = dates.map(|d| d.unwrap_or_default().trim().to_owned());
    let by_period = dates.iter().any(|d| !d.is_empty());
    let mut found = VersionComparison {
        slug: crate::model::workflow_handle(flow, visible(), &catalog.teams),
        name: flow.name.clone(),
        versions: versions.iter().map(|v| v.label.clone()).collect(),
        baseline: before.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
        candidate: after.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
        days,
        window: span(window),
        periods: None,
        baseline_heading: before.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
        candidate_heading: after.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
        comparison: None,
    };
    if by_period {
        let period = |side: &str, from: &str, to: &str| {
            if from.is_empty() {
                return Err(format!("{side}_from: is required to compare periods"));
            }
            Window::chosen(days, from, to, today).map_err(|problem| format!("{side}_{problem}"))
        };
        let refused = |problem: String| AppError::from_field_problem(problem);
        let b = period("baseline", &dates[0], &dates[1]).map_err(refused)?;
        let c = period("candidate", &dates[2], &dates[3]).map_err(refused)?;
        let (bs, cs) = (
            set_of(b, &rows_of(b).await?, None)?,
            set_of(c, &rows_of(c).await?, None)?,
        );
        found.comparison = Some(compare_sets(&bs, &cs));
        found.periods = Some([b.first_day, b.last_day, c.first_day, c.last_day].map(format_day));
        found.baseline_heading = span(b);
        found.candidate_heading = span(c);
        return Ok(found);
    }
    if let (Some(b), Some(a)) = (&before, &after)
        && b.id != a.id
    {
        let rows = rows_of(window).await?;
        let bs = set_of(window, &rows, Some(b.id))?;
        let cs = set_of(window, &rows, Some(a.id))?;
        found.comparison = Some(compare_sets(&bs, &cs));
    }
    Ok(found)
}
