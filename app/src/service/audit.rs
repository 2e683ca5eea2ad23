//! The audit log in words: who changed what, when, and each field from what to what, with the
//! ids the log stores turned back into the names people know; filtered and exported.

use crate::db::Db;
use crate::db::audit::{AuditSearch, actors_and_actions, page};
use crate::db::catalog::Catalog;
use crate::domain::rule::Rule;
use crate::domain::status::Role;
use crate::domain::time::{MS_PER_DAY, format_instant, parse_day};
use crate::error::AppError;
use crate::model::AuditEntry;
use crate::service::exports::csv_field;
use crate::views::access::Viewer;
use crate::views::audit::{AuditLine, AuditPage, AuditQuery, FieldChange, PAGE};
use crate::views::choice::Choice;
use serde_json::Value;
use std::collections::HashMap;

/// The most entries one export carries; a narrower filter gets the rest.
pub const MAX_EXPORT: i64 = 50_000;

/// What each action is called, in the order the filter lists them.
const ACTIONS: [(&str, &str); 25] = [
    ("workflow.create", "Workflow created"),
    ("workflow.update", "Workflow settings changed"),
    ("autonomy.change", "Autonomy level changed"),
    ("queue.force", "Tasks sent for review"),
    ("task_type.create", "Task type added"),
    ("task_type.update", "Task type changed"),
    ("rule.create", "Success rule saved"),
    ("rule.reevaluate", "Past tasks re-decided"),
    ("team.create", "Team created"),
    ("team.labour_rate", "Labour rate changed"),
    ("platform_cost.create", "Platform cost added"),
    ("platform_cost.end", "Platform cost ended"),
    ("price.create", "Price added"),
    ("user.create", "Person added"),
    ("user.update", "Role or teams changed"),
    ("user.enable", "Account enabled"),
    ("user.disable", "Account disabled"),
    ("password.change", "Password changed"),
    ("password.reset", "Password reset"),
    ("key.create", "API key created"),
    ("key.revoke", "API key revoked"),
    ("alert_rule.create", "Alert rule created"),
    ("alert_rule.update", "Alert rule changed"),
    ("alert_rule.delete", "Alert rule deleted"),
    ("alert.acknowledge", "Alert acknowledged"),
];

/// One page of the entries `viewer` may read that match `query`, in words.
pub async fn audit_page(
    db: &Db,
    viewer: &Viewer,
    query: &AuditQuery,
) -> Result<AuditPage, AppError> {
    let search = search_of(viewer, query)?;
    let mut entries = page(db, &search, PAGE + 1).await?;
    let older = (entries.len() as i64 > PAGE).then(|| {
        entries.truncate(PAGE as usize);
        entries.last().map(|e| e.id).unwrap_or_default()
    });
    let names = Names::load(db).await?;
    let (actors, actions) = actors_and_actions(db, search.member).await?;
    Ok(AuditPage {
        lines: entries.iter().map(|e| names.describe(e)).collect(),
        older,
        query: query.clone(),
        actors: actors
            .into_iter()
            .map(|a| Choice {
                value: a.clone(),
                label: a,
            })
            .collect(),
        actions: actions
            .into_iter()
            .map(|a| Choice {
                label: action_label(&a),
                value: a,
            })
            .collect(),
    })
}

/// The entries `viewer` may read that match `query` (up to [`MAX_EXPORT`]) as CSV: one row per
/// changed field, so a spreadsheet can filter on it.
pub async fn audit_csv(db: &Db, viewer: &Viewer, query: &AuditQuery) -> Result<String, AppError> {
    let search = search_of(viewer, query)?;
    let entries = page(db, &search, MAX_EXPORT).await?;
    let names = Names::load(db).await?;
    let mut out = String::from("at_utc,actor,action,what,field,before,after\r\n");
    for line in entries.iter().map(|e| names.describe(e)) {
        let rows = match line.changes.is_empty() {
            true => vec![FieldChange {
                field: String::new(),
                before: String::new(),
                after: String::new(),
            }],
            false => line.changes.clone(),
        };
        for change in rows {
            let fields = [
                &line.at,
                &line.actor,
                &line.action,
                &line.what,
                &change.field,
                &change.before,
                &change.after,
            ];
            let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
    }
    Ok(out)
}

/// The export's file name: the filters it holds.
pub fn audit_file(query: &AuditQuery) -> String {
    crate::service::exports::file_name(&[
        "audit",
        query.actor.trim(),
        query.action.trim(),
        query.from.trim(),
        if query.to.trim().is_empty() { "" } else { "to" },
        query.to.trim(),
    ])
}

/// The filters checked: days must be days, `before` an entry id; owners are kept to the
/// entries about their teams.
fn search_of(viewer: &Viewer, query: &AuditQuery) -> Result<AuditSearch, AppError> {
    let day = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        match text.trim() {
            "" => Ok(None),
            text => parse_day(text)
                .map(Some)
                .ok_or_else(|| AppError::invalid(field, "must be a day as YYYY-MM-DD")),
        }
    };
    let (from, to) = (day("from", &query.from)?, day("to", &query.to)?);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(AppError::invalid("to", "must not be before the first day"));
    }
    let before = match query.before.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| AppError::invalid("before", "must be an entry number"))?,
        ),
    };
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    // Any code the log may hold (older ones too), or a family such as `workflow`: lower-case
    // letters, digits, `_` and `.`, as every code is written.
    let action = text(&query.action);
    if let Some(action) = &action
        && (action.len() > 64
            || !action
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'))
    {
        return Err(AppError::invalid(
            "action",
            "is not an action the log records",
        ));
    }
    Ok(AuditSearch {
        member: (viewer.role != Role::Admin).then_some(viewer.user_id),
        actor: text(&query.actor),
        action,
        from_ms: from.map(|d| d * MS_PER_DAY),
        to_ms: to.map(|d| (d + 1) * MS_PER_DAY),
        before,
    })
}

/// An action's name in words; an unknown code as it is.
pub fn action_label(code: &str) -> String {
    ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, label)| (*label).to_owned())
}

/// The names behind the ids the log stores.
#[derive(Default)]
struct Names {
    workflows: HashMap<i64, String>,
    teams: HashMap<i64, String>,
    task_types: HashMap<i64, String>,
    users: HashMap<i64, String>,
    platform_costs: HashMap<i64, String>,
    /// Rule id → (task type name, version).
    rules: HashMap<i64, (String, i64)>,
}

impl Names {
    async fn load(db: &Db) -> Result<Names, AppError> {
        let catalog = Catalog::load(db).await?;
        let mut names = Names {
            workflows: catalog
                .workflows
                .iter()
                .map(|w| (w.id, w.name.clone()))
                .collect(),
            teams: catalog
                .teams
                .iter()
                .map(|t| (t.id, t.name.clone()))
                .collect(),
            task_types: catalog
                .task_types
                .iter()
                .map(|t| (t.id, t.name.clone()))
                .collect(),
            platform_costs: catalog
                .platform_costs
                .iter()
                .map(|c| (c.id, c.name.clone()))
                .collect(),
            ..Names::default()
        };
        for user in crate::db::identity::list_users(db).await? {
            names.users.insert(user.id, user.email);
        }
        for workflow in &catalog.workflows {
            for rule in crate::db::workflow::workflow_rules(db, workflow.id).await? {
                let task_type = names
                    .task_types
                    .get(&rule.task_type_id)
                    .cloned()
                    .unwrap_or_default();
                names.rules.insert(rule.id, (task_type, rule.version));
            }
        }
        Ok(names)
    }

    /// One entry in words.
    fn describe(&self, entry: &AuditEntry) -> AuditLine {
        let before = entry.before.as_deref().map(parse);
        let after = entry.after.as_deref().map(parse);
        AuditLine {
            id: entry.id,
            at: format_instant(entry.at),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            what: format!(
                "{}: {}",
                action_label(&entry.action),
                self.subject(entry, after.as_ref())
            ),
            changes: self.changes(&entry.action, before.as_ref(), after.as_ref()),
        }
    }

    /// What the entry is about, by name where the log's id still names something.
    fn subject(&self, entry: &AuditEntry, after: Option<&Value>) -> String {
        let id = entry.entity_id.parse::<i64>().ok();
        let named = |map: &HashMap<i64, String>| id.and_then(|id| map.get(&id)).map(|n| quoted(n));
        let field = |name: &str| after.and_then(|a| a.get(name)).and_then(Value::as_str);
        let found = match entry.entity.as_str() {
            "workflow" => named(&self.workflows),
            "team" => named(&self.teams),
            "task_type" => named(&self.task_types),
            "user" => named(&self.users),
            "platform_cost" => named(&self.platform_costs),
            "success_rule" => id
                .and_then(|id| self.rules.get(&id))
                .map(|(task_type, version)| format!("{} v{version}", quoted(task_type))),
            "api_key" => field("name").map(quoted).or_else(|| {
                entry
                    .before
                    .as_deref()
                    .map(|prefix| format!("the key starting {prefix}…"))
            }),
            "alert_rule" => field("condition")
                .zip(field("subject"))
                .map(|(condition, subject)| format!("{condition} on {subject}")),
            "alert" => field("alert").map(quoted),
            "price" => field("provider")
                .zip(field("model"))
                .map(|(provider, model)| format!("{provider}/{model}")),
            _ => None,
        };
        found.unwrap_or_else(|| format!("{} {}", entry.entity.replace('_', " "), entry.entity_id))
    }

    /// Each field that changed, before → after, in words.
    fn changes(
        &self,
        action: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Vec<FieldChange> {
        match action {
            "rule.create" => vec![FieldChange {
                field: "Rule".into(),
                before: before.map(rule_words).unwrap_or_default(),
                after: after.map(rule_words).unwrap_or_default(),
            }],
            "autonomy.change" => {
                let mut changes = vec![FieldChange {
                    field: "Autonomy level".into(),
                    before: before.map(scalar).unwrap_or_default(),
                    after: after
                        .and_then(|a| a.get("level"))
                        .map(scalar)
                        .unwrap_or_default(),
                }];
                let detail = |name: &str| after.and_then(|a| a.get(name));
                if let Some(passes) = detail("gate_passes").and_then(Value::as_bool) {
                    let gate = if passes { "passed" } else { "not passed" };
                    changes.push(change("Gate at the time", "", gate));
                }
                for (name, label) in [("evidence", "Evidence"), ("note", "Reason given")] {
                    if let Some(text) = detail(name).map(scalar).filter(|t| !t.is_empty()) {
                        changes.push(change(label, "", &text));
                    }
                }
                changes
            }
            // Entries whose before and after are one plain value.
            "user.enable" | "user.disable" => vec![plain("Account", before, after, scalar)],
            "platform_cost.end" => vec![plain("Last day", before, after, scalar)],
            "team.labour_rate" => vec![plain("Labour rate, $ per hour", before, after, |v| {
                dollars(&scalar(v))
            })],
            "key.revoke" => Vec::new(),
            _ => self.field_changes(before, after),
        }
    }

    /// The fields of two JSON objects (or one, for a creation) whose values differ.
    fn field_changes(&self, before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        if let Some(value) = before {
            self.flatten("", value, &mut old);
        }
        if let Some(value) = after {
            self.flatten("", value, &mut new);
        }
        let mut keys: Vec<&String> = new.iter().map(|(k, _)| k).collect();
        keys.extend(
            old.iter()
                .map(|(k, _)| k)
                .filter(|k| !new.iter().any(|(n, _)| n == *k)),
        );
        let get = |list: &[(String, String)], key: &str| {
            list.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        keys.into_iter()
            .map(|key| FieldChange {
                field: field_label(key),
                before: get(&old, key),
                after: get(&new, key),
            })
            .filter(|c| c.before != c.after)
            .collect()
    }

    /// `value`'s leaves as (key path, words); a plain value is the field `value`.
    fn flatten(&self, prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    self.flatten(&path, inner, out);
                }
            }
            other => {
                let key = if prefix.is_empty() { "value" } else { prefix };
                out.push((key.to_owned(), self.words(key, other)));
            }
        }
    }

    /// One field's value in words: ids as names, basis points as percentages, dollars with
    /// their sign.
    fn words(&self, key: &str, value: &Value) -> String {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let team = |v: &Value| {
            v.as_i64()
                .map(|id| {
                    self.teams
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| format!("team {id}"))
                })
                .unwrap_or_else(|| scalar(v))
        };
        let workflow = |v: &Value| {
            v.as_i64()
                .map(|id| {
                    self.workflows.get(&id).map_or_else(
                        || format!("workflow {id}"),
                        |n| format!("workflow {}", quoted(n)),
                    )
                })
                .unwrap_or_else(|| scalar(v))
        };
        match (leaf, value) {
            ("team_id", v) => team(v),
            // A platform cost's scope, as stored: {"Team": id} or {"Workflow": id}.
            ("Team", v) => format!("team {}", quoted(&team(v))),
            ("Workflow", v) => workflow(v),
            ("teams", Value::Array(ids)) => ids.iter().map(team).collect::<Vec<_>>().join(", "),
            (_, Value::Number(n)) if leaf.ends_with("_bp") => n
                .as_i64()
                .map(|bp| format!("{}%", crate::views::format::plain_percent(bp)))
                .unwrap_or_else(|| n.to_string()),
            (_, Value::String(s)) if MONEY.contains(&leaf) => dollars(s),
            (_, Value::Array(items)) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
            (_, Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
            (_, other) => scalar(other),
        }
    }
}

/// Fields that hold dollars.
const MONEY: [&str; 8] = [
    "budget_cpst",
    "labour_rate",
    "monthly",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "reasoning",
];

/// What the log's field names are called on the pages.
fn field_label(key: &str) -> String {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let per_million = key.starts_with("per_million_tokens.");
    if key.starts_with("applies_to.") {
        return "Applies to".to_owned();
    }
    let known = match leaf {
        "slug" => Some("Short name"),
        "team_id" => Some("Team"),
        "budget_cpst" => Some("CPST budget"),
        "quality_target_bp" => Some("Quality target"),
        "gate_window_days" => Some("Gate window, days"),
        "gate_min_sample" => Some("Gate minimum sample"),
        "drift_tolerance_bp" => Some("Drift tolerance"),
        "latency_budget_ms" => Some("Latency budget (ms)"),
        "review_sampling_bp" => Some("Review sampling"),
        "second_grader_bp" => Some("Second grader share"),
        "can_edit_costs" => Some("May edit costs"),
        "scopes" => Some("May send for"),
        "prefix" => Some("Key starts with"),
        "monthly" => Some("Dollars per month"),
        "from" => Some("First day"),
        "checked_on" => Some("Checked on"),
        "slices_changed" => Some("Figures changed (workflow-days)"),
        _ => None,
    };
    let label = known.map_or_else(
        || crate::error::label_of(leaf.trim_end_matches("_bp")),
        str::to_owned,
    );
    if per_million {
        format!("{label}, $ per million tokens")
    } else {
        label
    }
}

/// One field whose before and after are single values, each put in words by `words`.
fn plain(
    field: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    words: impl Fn(&Value) -> String,
) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before: before.map(&words).unwrap_or_default(),
        after: after.map(&words).unwrap_or_default(),
    }
}

fn change(field: &str, before: &str, after: &str) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before: before.to_owned(),
        after: after.to_owned(),
    }
}

/// Stored text as a JSON object or array when it is one, else as the text it is ("40.00" stays
/// "40.00", not the number 40).
fn parse(text: &str) -> Value {
    let structured = text.trim_start().starts_with(['{', '[']);
    structured
        .then(|| serde_json::from_str(text).ok())
        .flatten()
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `"1200.00"` as `$1,200.00`, every stored decimal kept; an amount already written with its
/// sign (older entries) as it is.
fn dollars(text: &str) -> String {
    if text.starts_with('$') || text.is_empty() {
        return text.to_owned();
    }
    let (sign, digits) = text.strip_prefix('-').map_or(("", text), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    match whole.parse::<u64>() {
        Ok(whole) if fraction.bytes().all(|b| b.is_ascii_digit()) => {
            let point = if fraction.is_empty() { "" } else { "." };
            format!(
                "{sign}${}{point}{fraction}",
                crate::domain::money::group_thousands(whole)
            )
        }
        _ => text.to_owned(),
    }
}

fn rule_words(value: &Value) -> String {
    match Rule::from_json(&value.to_string()) {
        Ok(rule) => format!("succeeds when {}", rule.describe()),
        Err(_) => scalar(value),
    }
}

fn quoted(name: &str) -> String {
    format!("\u{201c}{name}\u{201d}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        action: &str,
        entity: &str,
        id: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> AuditEntry {
        AuditEntry {
            id: 1,
            at: 0,
            actor_user_id: Some(1),
            actor: "ada@example.test".into(),
            action: action.into(),
            entity: entity.into(),
            entity_id: id.into(),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
            team_id: Some(7),
        }
    }

    fn viewer(role: Role, user_id: i64) -> Viewer {
        Viewer {
            user_id,
            email: "someone@example.com".into(),
            name: "Someone".into(),
            role,
            team_ids: vec![7],
            can_edit_costs: false,
            is_demo: false,
            must_change_password: false,
        }
    }

    fn names() -> Names {
        Names {
            workflows: HashMap::from([(3, "Invoice clearing".to_owned())]),
            teams: HashMap::from([
                (7, "Finance Operations".to_owned()),
                (8, "Support".to_owned()),
            ]),
            ..Names::default()
        }
    }

    #[test]
    fn a_settings_change_names_the_workflow_and_only_the_fields_that_moved() {
        let before = r#"{"name":"Invoice clearing","budget_cpst":"0.90","quality_target_bp":9000,"team_id":7}"#;
        let after = r#"{"name":"Invoice clearing","budget_cpst":"0.85","quality_target_bp":9250,"team_id":8}"#;
        let line = names().describe(&entry(
            "workflow.update",
            "workflow",
            "3",
            Some(before),
            Some(after),
        ));
        assert_eq!(
            line.what,
            "Workflow settings changed: \u{201c}Invoice clearing\u{201d}"
        );
        assert_eq!(
            line.changes,
            vec![
                change("CPST budget", "$0.90", "$0.85"),
                change("Quality target", "90%", "92.5%"),
                change("Team", "Finance Operations", "Support"),
            ]
        );
    }

    #[test]
    fn creations_list_their_fields_and_unknown_ids_still_read() {
        let after =
            r#"{"email":"bo@example.test","role":"owner","teams":[7,99],"can_edit_costs":false}"#;
        let line = names().describe(&entry("user.create", "user", "42", None, Some(after)));
        assert_eq!(line.what, "Person added: user 42");
        assert!(
            line.changes
                .contains(&change("Teams", "", "Finance Operations, team 99"))
        );
        assert!(line.changes.contains(&change("May edit costs", "", "no")));
        let rate = names().describe(&entry(
            "team.labour_rate",
            "team",
            "7",
            Some("$40.00"),
            Some("62.50"),
        ));
        assert_eq!(
            rate.changes,
            vec![change("Labour rate, $ per hour", "$40.00", "$62.50")]
        );
        let cost = r#"{"name":"vector database","applies_to":{"Workflow":3},"monthly":"1200.075"}"#;
        let line = names().describe(&entry(
            "platform_cost.create",
            "platform_cost",
            "1",
            None,
            Some(cost),
        ));
        assert!(
            line.changes.contains(&change(
                "Applies to",
                "",
                "workflow \u{201c}Invoice clearing\u{201d}"
            )),
            "{:?}",
            line.changes
        );
        assert!(
            line.changes
                .contains(&change("Dollars per month", "", "$1,200.075"))
        );
    }

    #[test]
    fn a_rule_reads_as_its_sentence_and_the_autonomy_change_as_level_and_evidence() {
        let rule = r#"{"kind":"not_reopened_within","hours":48}"#;
        let line = names().describe(&entry("rule.create", "success_rule", "5", None, Some(rule)));
        assert!(
            line.changes[0].after.starts_with("succeeds when"),
            "{:?}",
            line.changes
        );
        let after =
            r#"{"level":2,"note":"proven for a month","gate_passes":true,"evidence":"92% of 400"}"#;
        let line = names().describe(&entry(
            "autonomy.change",
            "workflow",
            "3",
            Some("1"),
            Some(after),
        ));
        assert_eq!(line.changes[0], change("Autonomy level", "1", "2"));
        assert!(
            line.changes
                .contains(&change("Reason given", "", "proven for a month"))
        );
    }

    #[test]
    fn filters_are_checked_and_owners_kept_to_their_teams() {
        let owner = viewer(Role::Owner, 9);
        let query = AuditQuery {
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            action: "workflow".into(),
            ..AuditQuery::default()
        };
        let search = search_of(&owner, &query).unwrap();
        assert_eq!(search.member, Some(9));
        assert_eq!(
            search.to_ms.unwrap() - search.from_ms.unwrap(),
            30 * MS_PER_DAY
        );
        let bad = AuditQuery {
            from: "Nov 1".into(),
            ..AuditQuery::default()
        };
        assert_eq!(search_of(&owner, &bad).unwrap_err().field(), Some("from"));
        let unknown = AuditQuery {
            action: "x'; DROP".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            search_of(&owner, &unknown).unwrap_err().field(),
            Some("action")
        );
        let admin = viewer(Role::Admin, 1);
        assert_eq!(
            search_of(&admin, &AuditQuery::default()).unwrap().member,
            None
        );
    }
}
