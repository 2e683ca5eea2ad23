//! Query parameters shared by the read API: the window, the filters (by slug and label, as
//! people write them) and the grouping. Each failure names its parameter.

use super::{ApiCaller, ApiError, Unseen};
use app::db::now_ms;
use app::db::report::Catalog;
use app::domain::time::day_of;
use app::model::Workflow;
use app::report::figures::{Filter, Grouping};
use app::report::{PeriodAsked, PeriodLimits, Window};
use std::collections::HashMap;

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

    /// `from`/`to` (inclusive dates), or `days` ending `to`; by default the last
    /// `default_days` days. Checked by the one period parser, with the read API's limits.
    pub fn window(&self, prefix: &str, default_days: i64) -> Result<Window, ApiError> {
        let part = |name: &str| self.get(&format!("{prefix}{name}")).unwrap_or_default();
        PeriodAsked {
            from: part("from"),
            to: part("to"),
            days: part("days"),
        }
        .window(prefix, PeriodLimits::API, default_days, day_of(now_ms()))
        .map_err(|error| ApiError::invalid(&error.field, error.message))
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

    /// The workflow named by `workflow` (a slug), which the caller must be allowed to see.
    pub fn workflow<'c>(
        &self,
        catalog: &'c Catalog,
        caller: &ApiCaller,
    ) -> Result<Option<&'c Workflow>, ApiError> {
        let Some(slug) = self.get("workflow") else {
            return Ok(None);
        };
        // A key with scopes gets one answer whether the workflow is outside them or missing.
        match caller.workflow(catalog, slug) {
            Ok(workflow) => Ok(Some(workflow)),
            Err(Unseen::Unknown) => Err(ApiError::invalid(
                "workflow",
                format!("no workflow has the slug '{slug}'"),
            )),
            Err(Unseen::OutOfScope) => Err(ApiError::Forbidden(format!(
                "this API key may not read the workflow '{slug}'"
            ))),
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
            filter.team_id = Some(match caller.team(catalog, slug) {
                Ok(team) => team.id,
                Err(Unseen::Unknown) => {
                    return Err(ApiError::invalid(
                        "team",
                        format!("no team has the slug '{slug}'"),
                    ));
                }
                Err(Unseen::OutOfScope) => {
                    return Err(ApiError::Forbidden(format!(
                        "this API key may not read the team '{slug}'"
                    )));
                }
            });
        }
        if let Some(slug) = self.get("task_type") {
            let matches: Vec<_> = catalog
                .task_types
                .iter()
                .filter(|t| t.slug == slug && caller.may_see(t.workflow_id))
                .filter(|t| workflow.is_none_or(|w| w.id == t.workflow_id))
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
