//! The grading screen: one sampled task at a time with its goal, pass condition, rule and trace;
//! a verdict, an edit severity, the minutes it took (counted by a timer, editable) and a note;
//! every action on a key, and the next task as soon as a grade is in.

use crate::api::review::{SkipReview, SubmitGrade, next_review};
use crate::components::forms::error_text;
use crate::views::review::{ReviewSlot, ReviewTask};
use leptos::prelude::*;
use leptos_meta::Title;

/// Keys and what they do, shown on the page.
const SHORTCUTS: [(&str, &str); 10] = [
    ("p", "pass"),
    ("a", "assisted (a person fixed facts)"),
    ("f", "fail"),
    ("1", "no edits"),
    ("2", "cosmetic edits"),
    ("3", "factual edits"),
    ("m", "edit the minutes"),
    ("n", "write a note"),
    ("Enter", "submit the grade (Ctrl+Enter inside the note)"),
    ("s", "skip: pass the task to someone else"),
];

#[component]
pub fn ReviewPage() -> impl IntoView {
    let first = Resource::new(|| (), |_| next_review());
    view! {
        <Title text="Review queue" />
        <h1>"Review queue"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading the next task…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(slot) => view! { <Grader initial=slot /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Grader(initial: ReviewSlot) -> impl IntoView {
    let slot = RwSignal::new(initial);
    let submit = ServerAction::<SubmitGrade>::new();
    let skip = ServerAction::<SkipReview>::new();
    let verdict = RwSignal::new(String::new());
    let severity = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let seconds = RwSignal::new(0u32);
    let minutes = RwSignal::new(String::from("0.0"));
    let minutes_edited = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);

    // A new task resets the form and restarts the timer.
    let reset = move || {
        verdict.set(String::new());
        severity.set(String::new());
        note.set(String::new());
        seconds.set(0);
        minutes.set("0.0".into());
        minutes_edited.set(false);
        problem.set(None);
        // The form is rebuilt in place: leave the note so the next keys are shortcuts again.
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            if let Some(el) = document()
                .active_element()
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                let _ = el.blur();
            }
        }
    };
    Effect::new(move || {
        let next = submit.value().get().or_else(|| skip.value().get());
        match next {
            Some(Ok(next)) => {
                slot.set(next);
                reset();
            }
            Some(Err(err)) => problem.set(Some(error_text(&err))),
            None => {}
        }
    });
    // The latest of the two actions wins: clear the other's value so the effect above
    // does not replay it.
    Effect::new(move || {
        if submit.pending().get() {
            skip.value().set(None);
        }
        if skip.pending().get() {
            submit.value().set(None);
        }
    });

    #[cfg(feature = "hydrate")]
    {
        use std::time::Duration;
        if let Ok(handle) = set_interval_with_handle(
            move || {
                seconds.update(|s| *s += 1);
                if !minutes_edited.get_untracked() {
                    minutes.set(format!("{:.1}", f64::from(seconds.get_untracked()) / 60.0));
                }
            },
            Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }

    let item_id = move || slot.with(|s| s.task.as_ref().map(|t| t.item_id));
    let send = move || {
        let Some(item_id) = item_id() else { return };
        if submit.pending().get_untracked() {
            return;
        }
        if verdict.get_untracked().is_empty() {
            problem.set(Some("Choose a verdict first: p, a or f.".into()));
            return;
        }
        submit.dispatch(SubmitGrade {
            item_id,
            verdict: verdict.get_untracked(),
            edit_severity: severity.get_untracked(),
            minutes: minutes.get_untracked(),
            note: note.get_untracked(),
        });
    };
    let pass_on = move || {
        if let Some(item_id) = item_id() {
            skip.dispatch(SkipReview { item_id });
        }
    };
    let choose = move |v: &str| {
        verdict.set(v.to_owned());
        // The usual severity for the verdict; a different one is a key away.
        severity.set(
            match v {
                "assisted" => "factual",
                _ => "none",
            }
            .to_owned(),
        );
        problem.set(None);
    };

    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            use leptos::wasm_bindgen::JsCast;
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            let key = ev.key();
            if typing {
                // Enter in the minutes field submits the form by itself; in the note it takes
                // Ctrl (or Cmd) + Enter.
                if key == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                    ev.prevent_default();
                    send();
                } else if key == "Escape" {
                    if let Some(el) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok())
                    {
                        let _ = el.blur();
                    }
                }
                return;
            }
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || submit.pending().get_untracked() {
                return;
            }
            let focus = |id: &str| {
                if let Some(el) = document()
                    .get_element_by_id(id)
                    .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            };
            let handled = match key.as_str() {
                "p" => {
                    choose("pass");
                    true
                }
                "a" => {
                    choose("assisted");
                    true
                }
                "f" => {
                    choose("fail");
                    true
                }
                "1" => {
                    severity.set("none".into());
                    true
                }
                "2" => {
                    severity.set("cosmetic".into());
                    true
                }
                "3" => {
                    severity.set("factual".into());
                    true
                }
                "m" => {
                    focus("grade-minutes");
                    true
                }
                "n" => {
                    focus("grade-note");
                    true
                }
                "s" => {
                    pass_on();
                    true
                }
                "Enter" => {
                    send();
                    true
                }
                _ => false,
            };
            if handled {
                ev.prevent_default();
            }
        });
        on_cleanup(move || handle.remove());
    }

    let radio = move |group: RwSignal<String>,
                      name: &'static str,
                      value: &'static str,
                      label: &'static str,
                      key: &'static str| {
        view! {
            <label class="choice" class:chosen=move || group.get() == value>
                <input type="radio" name=name value=value
                    prop:checked=move || group.get() == value
                    on:change=move |_| if name == "verdict" { choose(value) } else { group.set(value.to_owned()) } />
                {label} " " <kbd>{key}</kbd>
            </label>
        }
    };

    view! {
        <p class="hint" aria-live="polite">
            {move || format!("{} graded today.", slot.with(|s| s.graded_today))}
            {move || slot.with(|s| s.task.as_ref().map(|t| format!(" {} more waiting after this one.", t.waiting_after)))}
        </p>
        {move || match slot.with(|s| s.task.clone()) {
            None => view! {
                <p class="empty" role="status">"Nothing waiting for you: every sampled task you may grade is graded."</p>
            }.into_any(),
            Some(task) => view! {
                <div class="grading">
                    <TaskPanel task />
                    <form class="card grade-form" aria-label="Grade" on:submit=move |ev| { ev.prevent_default(); send(); }>
                        <fieldset>
                            <legend>"Verdict"</legend>
                            {radio(verdict, "verdict", "pass", "Pass", "p")}
                            {radio(verdict, "verdict", "assisted", "Assisted", "a")}
                            {radio(verdict, "verdict", "fail", "Fail", "f")}
                        </fieldset>
                        <fieldset>
                            <legend>"Edits needed"</legend>
                            {radio(severity, "edit_severity", "none", "None", "1")}
                            {radio(severity, "edit_severity", "cosmetic", "Cosmetic", "2")}
                            {radio(severity, "edit_severity", "factual", "Factual", "3")}
                        </fieldset>
                        <label><span>"Minutes spent " <kbd>"m"</kbd></span>
                            <input type="text" id="grade-minutes" inputmode="decimal" size="6"
                                prop:value=move || minutes.get()
                                on:input=move |ev| { minutes_edited.set(true); minutes.set(event_target_value(&ev)); } />
                        </label>
                        <label><span>"Note " <kbd>"n"</kbd></span>
                            <textarea id="grade-note" rows="3" maxlength="2000"
                                prop:value=move || note.get()
                                on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        </label>
                        {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
                        <p>
                            <button type="submit" disabled=move || submit.pending().get()>"Submit grade " <kbd>"Enter"</kbd></button>
                            " "
                            <button type="button" class="secondary" on:click=move |_| pass_on()>"Skip " <kbd>"s"</kbd></button>
                        </p>
                    </form>
                </div>
            }.into_any(),
        }}
        <details class="shortcuts">
            <summary>"Keyboard shortcuts"</summary>
            <dl class="facts">
                {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
            </dl>
        </details>
    }
}

#[component]
fn TaskPanel(task: ReviewTask) -> impl IntoView {
    view! {
        <article class="card task-panel" data-item=task.item_id.to_string()>
            <h2>{task.task_type.clone()} " " <small class="muted">{task.workflow.clone()}</small></h2>
            <p class="hint"><code>{task.external_id.clone()}</code> " · " {task.started.clone()}
                {(!task.segment.is_empty()).then(|| format!(" · segment {}", task.segment))} " · " {task.reason.clone()}</p>
            <dl class="facts">
                <dt>"User goal"</dt><dd>{task.user_goal.clone()}</dd>
                <dt>"Passes when"</dt><dd>{task.pass_condition.clone()}</dd>
                <dt>"Rule"</dt><dd>{if task.rule.is_empty() { "no rule: your grade decides".to_owned() } else { format!("succeeds when {}", task.rule) }}</dd>
                <dt>"Automatic verdict"</dt><dd>{task.automatic_verdict.clone()} " (" {task.automatic_reason.clone()} ")"</dd>
            </dl>
            <h3>"Input"</h3>
            <p>{task.input_summary.clone()}</p>
            <h3>"Output"</h3>
            <pre class="code">{if task.output.is_empty() { "(none)".to_owned() } else { task.output.clone() }}</pre>
            {(!task.expected.is_empty()).then(|| view! { <h3>"Expected"</h3><pre class="code">{task.expected.clone()}</pre> })}
            {(!task.outcomes.is_empty()).then(|| view! {
                <h3>"Outcomes"</h3>
                <ul class="plain">{task.outcomes.iter().map(|o| view! { <li>{o.clone()}</li> }).collect_view()}</ul>
            })}
            <details>
                <summary>{format!("Trace: {} attempt(s)", task.attempts.len())}</summary>
                {task.attempts.into_iter().map(|a| view! {
                    <h4>"Attempt " {a.number} ": " {a.status} {(!a.error.is_empty()).then(|| format!(" ({})", a.error))}</h4>
                    <table class="figures compact">
                        <thead><tr><th scope="col">"Kind"</th><th scope="col">"Step"</th><th scope="col">"Model"</th><th scope="col">"Tokens"</th><th scope="col" class="num">"Latency"</th><th scope="col">"Status"</th></tr></thead>
                        <tbody>
                            {a.calls.into_iter().map(|c| view! {
                                <tr><td>{c.kind}</td><td>{c.step}</td><td>{c.model}</td><td>{format!("{} in, {} out", c.input_tokens, c.output_tokens)}</td><td class="num">{format!("{} ms", c.latency_ms)}</td><td>{c.status}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }).collect_view()}
            </details>
        </article>
    }
}
