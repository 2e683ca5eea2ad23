//! The success-rule editor: conditions in a form that fits each kind, the rule in plain words
//! as it is written, a preview of what it would have done to the last 30 days, and saving it
//! as a new version.

use crate::api::workflows::{PreviewRule, SaveRule, get_workflow};
use crate::components::forms::{ActionError, error_text};
use crate::domain::cpst::percent;
use crate::domain::rule::{Operator, Rule};
use crate::domain::time::format_day;
use crate::views::format::count;
use crate::views::workflows::{RulePreview, TaskTypeView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// The kinds a condition row can take, with what the form calls them.
const KINDS: [(&str, &str); 8] = [
    ("fields_present", "Required fields are present"),
    ("exact_match", "A field matches the approved label"),
    ("schema_valid", "The output is valid against a JSON Schema"),
    ("human_accepted", "A person accepted it"),
    ("not_reopened_within", "Not reopened within some hours"),
    ("metric", "A reported number passes a threshold"),
    (
        "evaluation_score",
        "An evaluation's score passes a threshold",
    ),
    ("evaluation_label", "An evaluation gives a label"),
];

/// One condition being edited; each kind reads the inputs it needs.
#[derive(Clone, Copy)]
struct Condition {
    key: usize,
    kind: RwSignal<String>,
    /// Field names (comma-separated), one field, a metric name or an evaluation name.
    name: RwSignal<String>,
    /// The label an evaluation must give.
    label: RwSignal<String>,
    hours: RwSignal<String>,
    op: RwSignal<String>,
    value: RwSignal<String>,
    schema: RwSignal<String>,
}

impl Condition {
    fn new(key: usize, rule: Option<&Rule>) -> Condition {
        let (kind, name, hours, op, value, schema) = match rule {
            Some(Rule::FieldsPresent { fields }) => (
                "fields_present",
                fields.join(", "),
                "",
                ">=",
                String::new(),
                String::new(),
            ),
            Some(Rule::ExactMatch { field }) => (
                "exact_match",
                field.clone(),
                "",
                ">=",
                String::new(),
                String::new(),
            ),
            Some(Rule::SchemaValid { schema }) => (
                "schema_valid",
                String::new(),
                "",
                ">=",
                String::new(),
                serde_json::to_string_pretty(schema).unwrap_or_default(),
            ),
            Some(Rule::HumanAccepted {}) => (
                "human_accepted",
                String::new(),
                "",
                ">=",
                String::new(),
                String::new(),
            ),
            Some(Rule::NotReopenedWithin { hours }) => {
                return Condition::with(
                    "not_reopened_within",
                    key,
                    String::new(),
                    hours.to_string(),
                    ">=",
                    String::new(),
                    String::new(),
                );
            }
            Some(Rule::Metric { metric, op, value }) => {
                return Condition::with(
                    "metric",
                    key,
                    metric.clone(),
                    "48".into(),
                    op.symbol(),
                    value.to_string(),
                    String::new(),
                );
            }
            Some(Rule::EvaluationScore {
                evaluation,
                op,
                value,
            }) => {
                return Condition::with(
                    "evaluation_score",
                    key,
                    evaluation.clone(),
                    "48".into(),
                    op.symbol(),
                    value.to_string(),
                    String::new(),
                );
            }
            Some(Rule::EvaluationLabel { evaluation, label }) => {
                let condition = Condition::with(
                    "evaluation_label",
                    key,
                    evaluation.clone(),
                    "48".into(),
                    ">=",
                    String::new(),
                    String::new(),
                );
                condition.label.set(label.clone());
                return condition;
            }
            _ => (
                "fields_present",
                String::new(),
                "",
                ">=",
                String::new(),
                String::new(),
            ),
        };
        Condition::with(
            kind,
            key,
            name,
            if hours.is_empty() {
                "48".into()
            } else {
                hours.into()
            },
            op,
            value,
            schema,
        )
    }

    fn with(
        kind: &str,
        key: usize,
        name: String,
        hours: String,
        op: &str,
        value: String,
        schema: String,
    ) -> Condition {
        Condition {
            key,
            kind: RwSignal::new(kind.to_owned()),
            name: RwSignal::new(name),
            label: RwSignal::new(String::new()),
            hours: RwSignal::new(hours),
            op: RwSignal::new(op.to_owned()),
            value: RwSignal::new(value),
            schema: RwSignal::new(if schema.is_empty() {
                "{\n  \"type\": \"object\"\n}".to_owned()
            } else {
                schema
            }),
        }
    }

    /// The rule this row stands for, or what is missing, in words.
    fn rule(&self) -> Result<Rule, String> {
        let name = self.name.get();
        match self.kind.get().as_str() {
            "fields_present" => {
                let fields: Vec<String> = name
                    .split(',')
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect();
                if fields.is_empty() {
                    return Err("name at least one required field".into());
                }
                Ok(Rule::FieldsPresent { fields })
            }
            "exact_match" if name.trim().is_empty() => Err("name the field to compare".into()),
            "exact_match" => Ok(Rule::ExactMatch {
                field: name.trim().to_owned(),
            }),
            "schema_valid" => serde_json::from_str(&self.schema.get())
                .map(|schema| Rule::SchemaValid { schema })
                .map_err(|e| format!("the schema is not JSON: {e}")),
            "human_accepted" => Ok(Rule::HumanAccepted {}),
            "not_reopened_within" => self
                .hours
                .get()
                .trim()
                .parse::<i64>()
                .map(|hours| Rule::NotReopenedWithin { hours })
                .map_err(|_| "the window must be a whole number of hours".into()),
            kind @ ("metric" | "evaluation_score") => {
                let value = self
                    .value
                    .get()
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| "the threshold must be a number".to_owned())?;
                let op = Operator::from_symbol(&self.op.get()).ok_or("choose a comparison")?;
                let name = name.trim().to_owned();
                match kind {
                    "metric" if name.is_empty() => Err("name the metric".into()),
                    "metric" => Ok(Rule::Metric {
                        metric: name,
                        op,
                        value,
                    }),
                    _ if name.is_empty() => Err("name the evaluation".into()),
                    _ => Ok(Rule::EvaluationScore {
                        evaluation: name,
                        op,
                        value,
                    }),
                }
            }
            "evaluation_label" if name.trim().is_empty() => Err("name the evaluation".into()),
            "evaluation_label" if self.label.get().trim().is_empty() => {
                Err("name the label the evaluation must give".into())
            }
            "evaluation_label" => Ok(Rule::EvaluationLabel {
                evaluation: name.trim().to_owned(),
                label: self.label.get().trim().to_owned(),
            }),
            other => Err(format!("unknown kind {other}")),
        }
    }
}

#[component]
pub fn RuleEditorPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let task_type_id = move || {
        params
            .read()
            .get("task_type")
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let query = leptos_router::hooks::use_query_map();
    let added = move || query.read().get("added").is_some();
    let detail = Resource::new(slug, |slug| get_workflow(slug, None));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the rule…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => match d.task_types.into_iter().find(|t| t.id == task_type_id()) {
                        Some(task_type) if d.editable => view! {
                            <Title text=format!("Success rule: {}", task_type.name) />
                            <p class="crumbs"><a href="/workflows">"Workflows"</a> " › " <a href=format!("/workflows/{}", d.handle)>{d.settings.name.clone()}</a></p>
                            <h1>"Success rule: " {task_type.name.clone()}</h1>
                            {added().then(|| view! {
                                <p class="ok" role="status">"Task type added. Now say what finished means for it: the rule decides which of its tasks count as successes."</p>
                            })}
                            <RuleEditor task_type slug=d.handle.clone() />
                        }.into_any(),
                        Some(_) => view! { <p class="error" role="alert">"Only the workflow's owners and admins change its rules."</p> }.into_any(),
                        None => view! { <p class="error" role="alert">"No such task type."</p> }.into_any(),
                    },
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RuleEditor(task_type: TaskTypeView, slug: String) -> impl IntoView {
    let current = task_type
        .rules
        .last()
        .and_then(|r| Rule::from_json(&r.definition).ok());
    let (combine, rows) = match &current {
        Some(Rule::All { rules }) => ("all", rules.clone()),
        Some(Rule::Any { rules }) => ("any", rules.clone()),
        Some(other) => ("all", vec![other.clone()]),
        None => ("all", vec![]),
    };
    // Rules nested deeper than one all/any are edited as JSON.
    let nested = rows
        .iter()
        .any(|r| matches!(r, Rule::All { .. } | Rule::Any { .. }));
    let combine = RwSignal::new(combine.to_owned());
    let next_key = StoredValue::new(rows.len().max(1));
    let conditions = RwSignal::new(if rows.is_empty() || nested {
        vec![Condition::new(0, None)]
    } else {
        rows.iter()
            .enumerate()
            .map(|(i, r)| Condition::new(i, Some(r)))
            .collect::<Vec<_>>()
    });
    let json_mode = RwSignal::new(nested);
    let json_text = RwSignal::new(
        current
            .as_ref()
            .map(|r| serde_json::to_string_pretty(r).unwrap_or_default())
            .unwrap_or_default(),
    );

    let draft = move || -> Result<Rule, String> {
        if json_mode.get() {
            return Rule::from_json(&json_text.get()).map_err(|e| format!("not a rule: {e}"));
        }
        let rules = conditions
            .get()
            .iter()
            .enumerate()
            .map(|(i, c)| c.rule().map_err(|e| format!("condition {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match (rules.len(), combine.get().as_str()) {
            (1, _) => rules.into_iter().next().expect("one rule"),
            (_, "any") => Rule::Any { rules },
            _ => Rule::All { rules },
        })
    };
    let definition = move || draft().map(|r| r.to_json()).unwrap_or_default();
    // A problem is shown once the person has changed something (or tried to save), never on a
    // draft nobody has touched yet.
    let touched = RwSignal::new(false);
    let words = move || match draft().and_then(|r| r.check().map(|()| r).map_err(|p| p.to_string()))
    {
        Ok(rule) => {
            view! { <p class="rule-words">"A task succeeds when " {rule.describe()} "."</p> }
                .into_any()
        }
        Err(problem) if touched.get() => {
            view! { <p class="error" role="alert">{problem}</p> }.into_any()
        }
        Err(_) => view! {
            <p class="hint">"Fill in the condition: the rule will read here in plain words."</p>
        }
        .into_any(),
    };

    let preview = ServerAction::<PreviewRule>::new();
    let save = ServerAction::<SaveRule>::new();
    let navigate = use_navigate();
    let back = format!("/workflows/{slug}");
    let back_link = back.clone();
    Effect::new(move || {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(
                &format!(
                    "{back}?rule_saved={}&version={}#rules",
                    saved.rule.task_type_id, saved.rule.version
                ),
                Default::default(),
            );
        }
    });
    let task_type_id = task_type.id;
    let reevaluate_from = RwSignal::new(String::new());

    view! {
        <dl class="facts">
            <dt>"User goal"</dt><dd>{task_type.user_goal.clone()}</dd>
            <dt>"Pass condition"</dt><dd>{task_type.pass_condition.clone()}</dd>
            <dt>"In force now"</dt>
            <dd>{task_type.rules.last().map(|r| format!("v{}: {}", r.version, r.description)).unwrap_or_else(|| "no rule yet".into())}</dd>
        </dl>
        <section class="card" aria-labelledby="draft" on:input=move |_| touched.set(true) on:change=move |_| touched.set(true)>
            <h2 id="draft">"Draft"</h2>
            <p class="hint">"Write the rule so that two reviewers would score a task the same way. An assisted task (a person had to fix facts) never counts as success, whatever the rule says."</p>
            <label class="check"><input type="checkbox" prop:checked=move || json_mode.get() on:change=move |ev| json_mode.set(event_target_checked(&ev)) /> "Edit as JSON (for rules nested more than one level)"</label>
            <Show when=move || json_mode.get() fallback=move || view! {
                <div class="stacked">
                    <label>
                        "A task succeeds when"
                        <select on:change=move |ev| combine.set(event_target_value(&ev)) prop:value=move || combine.get()>
                            <option value="all">"all of these hold"</option>
                            <option value="any">"any of these holds"</option>
                        </select>
                    </label>
                    <For each=move || conditions.get() key=|c| c.key let:c>
                        <ConditionRow c conditions />
                    </For>
                    <p>
                        <button type="button" class="secondary" on:click=move |_| {
                            let key = next_key.get_value();
                            next_key.set_value(key + 1);
                            conditions.update(|list| list.push(Condition::new(key, None)));
                        }>"Add a condition"</button>
                    </p>
                </div>
            }>
                <label class="stacked">"Rule (JSON)"
                    <textarea rows="12" class="code" prop:value=move || json_text.get() on:input=move |ev| json_text.set(event_target_value(&ev))></textarea>
                </label>
            </Show>
            {words}
            <details><summary>"As stored (JSON)"</summary><pre class="code">{definition}</pre></details>
        </section>
        <section class="card" aria-labelledby="effect">
            <h2 id="effect">"What it would do"</h2>
            <p class="hint">"Tries the draft on this task type's tasks of the last 30 days, with the grades and outcomes known now. Nothing is saved."</p>
            <button type="button" on:click=move |_| { preview.dispatch(PreviewRule { task_type_id, definition: definition() }); }>"Preview the last 30 days"</button>
            <ActionError action=preview />
            {move || preview.value().get().and_then(Result::ok).map(|p| view! { <PreviewTable preview=p /> })}
        </section>
        <section class="card" aria-labelledby="save">
            <h2 id="save">"Save as a new version"</h2>
            <p class="hint">"The new version applies to tasks that start from now; tasks already measured keep their verdicts. To apply it to a past period instead, give its first day: those tasks are decided again, and the audit log records it."</p>
            <ActionError action=save />
            <div class="stacked">
                <label>"Re-evaluate tasks that started since (optional, YYYY-MM-DD, UTC)" <input type="text" name="reevaluate_from" inputmode="numeric" maxlength="10" autocomplete="off" prop:value=move || reevaluate_from.get() on:input=move |ev| reevaluate_from.set(event_target_value(&ev)) /></label>
                <p>
                    <button type="button" on:click=move |_| {
                        touched.set(true);
                        save.dispatch(SaveRule { task_type_id, definition: definition(), reevaluate_from: reevaluate_from.get() });
                    }>"Save rule"</button>
                    " "
                    <a href=back_link>"Cancel"</a>
                </p>
            </div>
        </section>
    }
}

#[component]
fn ConditionRow(c: Condition, conditions: RwSignal<Vec<Condition>>) -> impl IntoView {
    let kind = c.kind;
    let schema_problem = move || match serde_json::from_str::<serde_json::Value>(&c.schema.get()) {
        Ok(serde_json::Value::Object(_)) | Ok(serde_json::Value::Bool(_)) => None,
        Ok(_) => Some("a JSON Schema is an object, like {\"type\": \"object\"}".to_owned()),
        Err(e) => Some(format!("not JSON: {e}")),
    };
    view! {
        <fieldset class="condition">
            <legend>"Condition"</legend>
            <select aria-label="Kind of condition" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                {KINDS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
            </select>
            {move || match kind.get().as_str() {
                "fields_present" => view! {
                    <label>"Fields, comma-separated" <input type="text" prop:value=move || c.name.get() on:input=move |ev| c.name.set(event_target_value(&ev)) placeholder="e.g. queue, priority" /></label>
                }.into_any(),
                "exact_match" => view! {
                    <label>"Field" <input type="text" prop:value=move || c.name.get() on:input=move |ev| c.name.set(event_target_value(&ev)) placeholder="e.g. gl_code" /></label>
                }.into_any(),
                "schema_valid" => view! {
                    <label>"JSON Schema"
                        <textarea rows="8" class="code" prop:value=move || c.schema.get() on:input=move |ev| c.schema.set(event_target_value(&ev))></textarea>
                    </label>
                    {move || match schema_problem() {
                        Some(problem) => view! { <p class="error">{problem}</p> }.into_any(),
                        None => view! { <p class="hint">"Valid JSON; the preview also checks it against the JSON Schema specification."</p> }.into_any(),
                    }}
                }.into_any(),
                "not_reopened_within" => view! {
                    <label>"Hours after finishing" <input type="text" inputmode="numeric" prop:value=move || c.hours.get() on:input=move |ev| c.hours.set(event_target_value(&ev)) /></label>
                }.into_any(),
                kind @ ("metric" | "evaluation_score") => view! {
                    {if kind == "metric" {
                        view! { <label>"Metric" <input type="text" prop:value=move || c.name.get() on:input=move |ev| c.name.set(event_target_value(&ev)) placeholder="e.g. confidence" /></label> }.into_any()
                    } else {
                        view! { <label>"Evaluation" <input type="text" prop:value=move || c.name.get() on:input=move |ev| c.name.set(event_target_value(&ev)) placeholder="e.g. faithfulness" /></label> }.into_any()
                    }}
                    <label>"Must be"
                        <select prop:value=move || c.op.get() on:change=move |ev| c.op.set(event_target_value(&ev))>
                            <option value=">=">"at least"</option>
                            <option value="<=">"at most"</option>
                            <option value=">">"above"</option>
                            <option value="<">"below"</option>
                        </select>
                    </label>
                    <label>"Threshold" <input type="text" inputmode="decimal" prop:value=move || c.value.get() on:input=move |ev| c.value.set(event_target_value(&ev)) /></label>
                    {(kind == "evaluation_score").then(|| view! { <p class="hint">"The latest gen_ai.evaluation.result of this name decides; until one arrives the task waits. A reviewer's grade overrides it."</p> })}
                }.into_any(),
                "evaluation_label" => view! {
                    <label>"Evaluation" <input type="text" prop:value=move || c.name.get() on:input=move |ev| c.name.set(event_target_value(&ev)) placeholder="e.g. resolution" /></label>
                    <label>"Label" <input type="text" prop:value=move || c.label.get() on:input=move |ev| c.label.set(event_target_value(&ev)) placeholder="e.g. resolved" /></label>
                    <p class="hint">"The latest gen_ai.evaluation.result of this name must give this label (letter case aside); until one arrives the task waits. A reviewer's grade overrides it."</p>
                }.into_any(),
                _ => view! { <p class="hint">"An accepted outcome from the requester, or a passing grade, settles it."</p> }.into_any(),
            }}
            <button type="button" class="secondary" on:click=move |_| conditions.update(|list| list.retain(|other| other.key != c.key))>"Remove"</button>
        </fieldset>
    }
}

#[component]
fn PreviewTable(preview: RulePreview) -> impl IntoView {
    let rate = |o: &crate::views::workflows::Outlook| {
        o.success_rate().map(percent).unwrap_or_else(|| "–".into())
    };
    view! {
        <table class="figures" id="preview">
            <caption>{format!("{} tasks from {} to {}", preview.tasks, format_day(preview.first_day), format_day(preview.last_day))}</caption>
            <thead>
                <tr>
                    <th scope="col"></th>
                    <th scope="col" class="num">"Succeeded"</th>
                    <th scope="col" class="num">"Decided"</th>
                    <th scope="col" class="num">"Pending"</th>
                    <th scope="col" class="num">"Success rate"</th>
                    <th scope="col" class="num">"CPST"</th>
                </tr>
            </thead>
            <tbody>
                <tr>
                    <th scope="row">"As decided now"</th>
                    <td class="num">{count(preview.now.succeeded)}</td>
                    <td class="num">{count(preview.now.decided)}</td>
                    <td class="num">{count(preview.now.pending)}</td>
                    <td class="num">{rate(&preview.now)}</td>
                    <td class="num">{preview.now.cpst.to_string()}</td>
                </tr>
                <tr>
                    <th scope="row">"Under the draft"</th>
                    <td class="num">{count(preview.draft.succeeded)}</td>
                    <td class="num">{count(preview.draft.decided)}</td>
                    <td class="num">{count(preview.draft.pending)}</td>
                    <td class="num">{rate(&preview.draft)}</td>
                    <td class="num">{preview.draft.cpst.to_string()}</td>
                </tr>
            </tbody>
        </table>
        <p>{format!("{} tasks would change verdict.", preview.changed)}</p>
        {(!preview.examples.is_empty()).then(|| view! {
            <ul class="plain">
                {preview.examples.into_iter().map(|t| view! {
                    <li><a href=format!("/tasks/{}", t.task_id)><code>{t.external_id}</code></a> ": " {t.before.label()} " → " {t.after.label()} " (" {t.reason} ")"</li>
                }).collect_view()}
            </ul>
        })}
    }
}
