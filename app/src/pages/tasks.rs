//! The task list: every task behind a figure, filtered as the address says, sortable, paged,
//! each linked to its trace, and exported as CSV with the same filters.

use crate::api::tasks::list_tasks;
use crate::components::forms::{DayInput, choices, error_text};
use crate::domain::money::group_thousands;
use crate::domain::status::TaskStatus;
use crate::views::choice::Choice;
use crate::views::tasks::{TaskList, TaskQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TasksPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || TaskQuery::from_pairs(move |name| params.read().get(name));
    let tasks = Resource::new(query, list_tasks);
    view! {
        <Title text="Tasks" />
        <h1>"Tasks"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading tasks…"</p> }>
            {move || Suspend::new(async move {
                let current = query();
                match tasks.await {
                    Ok(list) => view! { <Filters query=current.clone() list=list.clone() /> <Rows query=current list /> }.into_any(),
                    Err(err) => view! {
                        <Filters query=current list=TaskList { rows: vec![], total: 0, page: 0, pages: 0, window: String::new(), workflows: vec![], task_types: vec![], versions: vec![] } />
                        <p class="error" role="alert">{error_text(&err)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filters(query: TaskQuery, list: TaskList) -> impl IntoView {
    let statuses = std::iter::once(Choice {
        value: "decided".to_owned(),
        label: "any verdict (not pending)".to_owned(),
    })
    .chain(TaskStatus::ALL.iter().map(|s| Choice {
        value: s.as_str().to_owned(),
        label: s.label().to_owned(),
    }))
    .collect();
    let sorts = [
        ("newest", "newest first"),
        ("oldest", "oldest first"),
        ("costliest", "costliest first"),
        ("cheapest", "cheapest first"),
        ("slowest", "slowest first"),
        ("most_attempts", "most attempts first"),
    ];
    let sort = query.sort.clone();
    view! {
        <form method="get" action="/tasks" class="filters card" aria-label="Filters">
            {choices("workflow", "Workflow", list.workflows, query.workflow.clone())}
            {choices("status", "Verdict", statuses, query.status.clone())}
            {choices("task_type", "Task type", list.task_types, query.task_type.clone())}
            {choices("version", "Configuration", list.versions, query.version.clone())}
            <label>"Segment" <input type="text" name="segment" value=query.segment.clone() size="10" /></label>
            <label>"Model" <input type="text" name="model" value=query.model.clone() size="18" placeholder="provider/model" /></label>
            <label>"Escalation reason" <input type="text" name="reason" value=query.reason.clone() size="14" /></label>
            <label>"From" <DayInput name="from" value=query.from.clone() /></label>
            <label>"To" <DayInput name="to" value=query.to.clone() /></label>
            <label>"Cost from $" <input type="text" name="min_cost" value=query.min_cost.clone() size="6" inputmode="decimal" /></label>
            <label>"to $" <input type="text" name="max_cost" value=query.max_cost.clone() size="6" inputmode="decimal" /></label>
            <label>"Order"
                <select name="sort">
                    {sorts.into_iter().map(|(value, label)| {
                        let selected = sort == value;
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

#[component]
fn Rows(query: TaskQuery, list: TaskList) -> impl IntoView {
    let export = format!("/export/tasks.csv?{}", query.to_query(None));
    let page = list.page;
    let pages = list.pages;
    let previous = (page > 0).then(|| format!("/tasks?{}", query.to_query(Some(page - 1))));
    let next = (page + 1 < pages).then(|| format!("/tasks?{}", query.to_query(Some(page + 1))));
    view! {
        <p class="window">
            <strong class="task-count">{group_thousands(list.total.max(0) as u64)}</strong>
            {format!(" tasks started {}", list.window)}
            " · " <a href=export download="tasks.csv">"Download CSV"</a>
        </p>
        {if list.rows.is_empty() {
            view! { <p class="empty">"No task matches these filters."</p> }.into_any()
        } else {
            view! {
                <table class="figures" id="task-list">
                    <thead>
                        <tr>
                            <th scope="col">"Task"</th>
                            <th scope="col">"Workflow"</th>
                            <th scope="col">"Task type"</th>
                            <th scope="col">"Verdict"</th>
                            <th scope="col">"Started"</th>
                            <th scope="col" class="num">"Cost"</th>
                            <th scope="col" class="num">"Attempts"</th>
                            <th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Duration"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col">"Escalation"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.rows.into_iter().map(|t| view! {
                            <tr>
                                <th scope="row"><a href=format!("/tasks/{}", t.id)><code>{t.external_id}</code></a></th>
                                <td>{t.workflow}</td>
                                <td>{t.task_type} {(!t.segment.is_empty()).then(|| format!(" · {}", t.segment))}</td>
                                <td>{t.status}</td>
                                <td class="nowrap">{t.started}</td>
                                <td class="num">{t.cost}</td>
                                <td class="num">{t.attempts}</td>
                                <td class="num">{group_thousands(t.tokens.max(0) as u64)}</td>
                                <td class="num">{t.duration}</td>
                                <td>{t.model}</td>
                                <td>{t.escalation_reason}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <nav class="pages" aria-label="Pages">
                    {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                    <span>{format!(" Page {} of {} ", page + 1, pages.max(1))}</span>
                    {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
                </nav>
            }.into_any()
        }}
    }
}
