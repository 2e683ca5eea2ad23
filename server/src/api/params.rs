//! Query parameters shared by the read API: the window, the filters (by slug and label, as
//! people write them) and the grouping. Each failure names its parameter.

use super::{ApiCaller, ApiError};
use app::db::now_ms;
use app::db::report::Catalog;
use app::domain::time::{day_of, parse_day};
use app::model::Workflow;
use app::report::Window;
use app::report::figures::{Filter, Grouping};
use std::collections::HashMap;

/// The longest window the API computes in one request.
pub const MAX_WINDOW_DAYS: i64 = 731;

/// A request's query parameters, each taken at most once.
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Refuses parameters the route does not know, so a typo never silently widens a figure.
    pub fn new(values: HashMap<String, String>, known: &[&str]) -> Result<Params, ApiError> {
        if let Some(unknown) = values.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::invalid(
                unknown,
                format!("unknown parameter; this route takes: {}", known.join(", ")),
            ));
        }
        Ok(Params { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(ApiError::invalid(name, "must be true or false")),
        }
    }

    fn day(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|text| {
                parse_day(text)
                    .ok_or_else(|| ApiError::invalid(name, "must be a date like 2026-11-22"))
            })
            .transpose()
    }

    /// `from`/`to` (inclusive dates), or `days` ending today; by default the last 30 days.
    pub fn window(&self, prefix: &str, default_days: i64) -> Result<Window, ApiError> {
        let name = |n: &str| format!("{prefix}{n}");
        let (from, to) = (self.day(&name("from"))?, self.day(&name("to"))?);
        let days = match self.get(&name("days")) {
            None => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|d| (1..=MAX_WINDOW_DAYS).contains(d))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            &name("days"),
                            format!("must be a whole number from 1 to {MAX_WINDOW_DAYS}"),
                        )
                    })?,
            ),
        };
        let last_day = to.unwrap_or_else(|| day_of(now_ms()));
        let window = match (from, days) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    &name("days"),
                    format!("give {prefix}from or {prefix}days, not both"),
                ));
            }
            (Some(first_day), None) => Window {
                first_day,
                last_day,
            },
            (None, days) => Window::ending(last_day, days.unwrap_or(default_days)),
        };
        if window.first_day > window.last_day {
            return Err(ApiError::invalid(
                &name("from"),
                format!("must not be after {prefix}to"),
            ));
        }
        if window.days() > MAX_WINDOW_DAYS {
            return Err(ApiError::invalid(
                &name("from"),
                format!("the window may span at most {MAX_WINDOW_DAYS} days"),
            ));
        }
        Ok(window)
    }

    pub fn grouping(&self, default: Grouping) -> Result<Grouping, ApiError> {
        match self.get("group_by") {
            None => Ok(default),
            Some(text) => Grouping::parse(text).ok_or_else(|| {
                let names: Vec<&str> = Grouping::ALL.iter().map(|g| g.as_str()).collect();
                ApiError::invalid("group_by", format!("must be one of: {}", names.join(", ")))
            }),
        }
    }

    /// The workflow named by `workflow` (a slug), which the caller must be allowed to see. A
    /// key with scopes gets the same answer for another team's workflow as for one that does
    /// not exist, so that it cannot learn which slugs are in use elsewhere.
    pub fn workflow<'c>(
        &self,
        catalog: &'c Catalog,
        caller: &ApiCaller,
    ) -> Result<Option<&'c Workflow>, ApiError> {
        let Some(slug) = self.get("workflow") else {
            return Ok(None);
        };
        let workflow = catalog
            .workflows
            .iter()
            .find(|w| w.slug == slug && caller.may_see(w.id));
        match workflow {
            Some(workflow) => Ok(Some(workflow)),
            None if caller.workflow_ids.is_some() => Err(ApiError::Forbidden(format!(
                "this API key may not read a workflow with the slug '{slug}'"
            ))),
            None => Err(ApiError::invalid(
                "workflow",
                format!("no workflow has the slug '{slug}'"),
            )),
        }
    }

    /// The filter the parameters describe, narrowed to what the caller may see.
    pub fn filter(&self, catalog: &Catalog, caller: &ApiCaller) -> Result<Filter, ApiError> {
        let workflow = self.workflow(catalog, caller)?;
        let mut filter = Filter {
            workflow_ids: match workflow {
                Some(w) => Some(vec![w.id]),
                None => caller
                    .workflow_ids
                    .as_ref()
                    .map(|ids| ids.iter().copied().collect()),
            },
            segment: self.get("segment").map(str::to_owned),
            model: self.get("model").map(str::to_owned),
            provider: self.get("provider").map(str::to_owned),
            ..Filter::default()
        };
        if let Some(slug) = self.get("team") {
            // A key with scopes knows only the teams of the workflows it may read: another
            // team is answered as a team that does not exist.
            let team = catalog.teams.iter().find(|t| {
                t.slug == slug
                    && (caller.workflow_ids.is_none()
                        || catalog
                            .workflows
                            .iter()
                            .any(|w| w.team_id == t.id && caller.may_see(w.id)))
            });
            filter.team_id = Some(
                team.ok_or_else(|| {
                    ApiError::invalid("team", format!("no team has the slug '{slug}'"))
                })?
                .id,
            );
        }
        if let Some(slug) = self.get("task_type") {
            let matches: Vec<_> = catalog
                .task_types
                .iter()
                .filter(|t| {
                    t.slug == slug
                        && caller.may_see(t.workflow_id)
                        && workflow.is_none_or(|w| w.id == t.workflow_id)
                })
                .collect();
            filter.task_type_id = Some(match matches.as_slice() {
                [one] => one.id,
                [] => {
                    return Err(ApiError::invalid(
                        "task_type",
                        format!("no task type has the slug '{slug}'"),
                    ));
                }
                _ => {
                    return Err(ApiError::invalid(
                        "task_type",
                        "several workflows have this task type: add workflow=<slug>",
                    ));
                }
            });
        }
        if let Some(label) = self.get("version") {
            let workflow = workflow.ok_or_else(|| {
                ApiError::invalid("version", "a version label needs workflow=<slug>")
            })?;
            filter.config_version_id = Some(version_id(catalog, workflow, label, "version")?);
        }
        Ok(filter)
    }
}

/// The id of a workflow's configuration version by its label.
pub fn version_id(
    catalog: &Catalog,
    workflow: &Workflow,
    label: &str,
    field: &str,
) -> Result<i64, ApiError> {
    catalog
        .config_versions
        .iter()
        .find(|v| v.workflow_id == workflow.id && v.label == label)
        .map(|v| v.id)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!(
                    "the workflow '{}' has no configuration version '{label}'",
                    workflow.slug
                ),
            )
        })
}
