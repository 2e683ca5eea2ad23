//! How the read API takes its query: each route's one query struct (which is also what the
//! OpenAPI document lists), the window through the one period parser, the filters (by slug
//! and label, as people write them) and the grouping. Each failure names its parameter.

use crate::caller::{ApiCaller, Unseen};
use crate::error::ApiError;
use app::db::catalog::Catalog;
use app::db::now_ms;
use app::domain::time::day_of;
use app::model::Workflow;
use app::report::figures::{Filter, Grouping};
use app::report::{API_MAX_DAYS, PeriodAsked, PeriodLimits, Window};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa::openapi::path::ParameterIn;

/// A route's query read into its one struct `Q`. The names `Q` documents are the names the
/// route takes: any other is refused, so a typo never silently widens a figure. An empty
/// value is no value, and a name given twice keeps its last value.
pub struct ApiQuery<Q>(pub Q);

impl<S, Q> FromRequestParts<S> for ApiQuery<Q>
where
    S: Send + Sync,
    Q: DeserializeOwned + IntoParams,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let known: Vec<String> = Q::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .map(|p| p.name)
            .collect();
        let given: BTreeMap<String, String> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        if let Some(unknown) = given.keys().find(|name| !known.contains(name)) {
            return Err(ApiError::invalid(
                unknown,
                format!("unknown parameter; this route takes: {}", known.join(", ")),
            ));
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(given.iter().filter(|(_, value)| !value.is_empty()))
            .finish();
        // Every field is text, checked by the route with a sentence naming it, so reading the
        // struct fails only if a field and its documentation disagree.
        serde_urlencoded::from_str(&query)
            .map(ApiQuery)
            .map_err(|error| ApiError::invalid("query", error.to_string()))
    }
}

/// How the document describes a `days` parameter: a whole number from 1 to [`API_MAX_DAYS`].
/// (A parameter described by a function takes its description from the function, not from
/// the field's doc comment.)
pub fn api_days() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(API_MAX_DAYS))
        .description(Some(
            "Days ending `to`, instead of `from`; default 30 (90 when comparing versions).",
        ))
        .build()
}

/// `{prefix}from`/`{prefix}to` (inclusive dates), or `{prefix}days` ending `to`; by default
/// the last `default_days` days. Checked by the one period parser, with the read API's limits.
pub fn window(
    prefix: &str,
    [from, to, days]: [Option<&str>; 3],
    default_days: i64,
) -> Result<Window, ApiError> {
    PeriodAsked {
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        days: days.unwrap_or_default(),
    }
    .window(prefix, PeriodLimits::API, default_days, day_of(now_ms()))
    .map_err(|error| ApiError::invalid(&error.field, error.message))
}

/// `detail=true|false` (or 1/0).
pub fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::invalid(name, "must be true or false")),
    }
}

/// `group_by` among the engine's groupings.
pub fn grouping(value: Option<&str>, default: Grouping) -> Result<Grouping, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => Grouping::parse(text).ok_or_else(|| {
            let names: Vec<&str> = Grouping::ALL.iter().map(|g| g.as_str()).collect();
            ApiError::invalid("group_by", format!("must be one of: {}", names.join(", ")))
        }),
    }
}

/// The workflow a route cannot answer without: named by `slug`, and one the caller may see.
pub fn required_workflow<'c>(
    catalog: &'c Catalog,
    caller: &ApiCaller,
    slug: Option<&str>,
) -> Result<&'c Workflow, ApiError> {
    let asked = FilterAsked {
        workflow: slug,
        ..FilterAsked::default()
    };
    asked
        .workflow(catalog, caller)?
        .ok_or_else(|| ApiError::invalid("workflow", "is required"))
}

/// The filters a request names, as sent; those a route does not take stay `None`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FilterAsked<'a> {
    pub workflow: Option<&'a str>,
    pub team: Option<&'a str>,
    pub task_type: Option<&'a str>,
    pub segment: Option<&'a str>,
    pub version: Option<&'a str>,
    pub model: Option<&'a str>,
    pub provider: Option<&'a str>,
}

impl FilterAsked<'_> {
    /// The workflow named by `workflow` (a slug), which the caller must be allowed to see.
    pub fn workflow<'c>(
        &self,
        catalog: &'c Catalog,
        caller: &ApiCaller,
    ) -> Result<Option<&'c Workflow>, ApiError> {
        let Some(slug) = self.workflow else {
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
            Err(Unseen::Ambiguous) => Err(ApiError::invalid(
                "workflow",
                app::model::ambiguous_name(slug),
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
            segment: self.segment.map(str::to_owned),
            model: self.model.map(str::to_owned),
            provider: self.provider.map(str::to_owned),
            ..Filter::default()
        };
        if let Some(slug) = self.team {
            filter.team_id = Some(match caller.team(catalog, slug) {
                Ok(team) => team.id,
                Err(Unseen::Unknown | Unseen::Ambiguous) => {
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
        if let Some(slug) = self.task_type {
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
        if let Some(label) = self.version {
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
