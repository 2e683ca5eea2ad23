//! The dated price book: what each model costs per million tokens, and from when.

use crate::api::costs::{AddPrice, list_prices};
use crate::components::forms::{ActionError, DayInput, error_text, reset_on_success};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PricesPage() -> impl IntoView {
    let add = ServerAction::<AddPrice>::new();
    let prices = Resource::new(move || add.version().get(), |_| list_prices());
    view! {
        <Title text="Price book" />
        <h1>"Price book"</h1>
        <p class="lede">
            "Calls that arrive without a cost are priced with the entry in force at the call's time. "
            "A new price ends the one before it; past calls keep their cost unless you ask for them to be re-priced, "
            "which the audit log records with its totals. Costs a gateway reported are never re-priced."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading prices…"</p> }>
            {move || Suspend::new(async move {
                match prices.await {
                    Ok(view_) => view! {
                        <table class="figures">
                            <thead>
                                <tr>
                                    <th scope="col">"Model"</th>
                                    <th scope="col" class="num">"Input"</th>
                                    <th scope="col" class="num">"Output"</th>
                                    <th scope="col" class="num">"Cache read"</th>
                                    <th scope="col" class="num">"Cache write"</th>
                                    <th scope="col" class="num">"Reasoning"</th>
                                    <th scope="col">"Audio, image input"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"Until"</th>
                                    <th scope="col">"Source"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {view_.prices.into_iter().map(|p| view! {
                                    <tr>
                                        <th scope="row">{format!("{}/{}", p.provider, p.model)}</th>
                                        {p.rates.into_iter().map(|r| view! { <td class="num">{format!("${r}")}</td> }).collect_view()}
                                        <td>{if p.modalities.is_empty() { "as input".to_owned() } else { p.modalities }}</td>
                                        <td class="nowrap">{p.from_day}</td>
                                        <td class="nowrap">{p.last_day.unwrap_or_else(|| "open".into())}</td>
                                        <td>{p.source} {(!p.checked_on.is_empty()).then(|| format!(" (checked {})", p.checked_on))}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <p class="hint">"Dollars per million tokens. Whether the bill agrees: " <a href="/reconciliation">"reconciliation with the bill"</a> "."</p>
                        {if view_.may_edit {
                            view! {
                                <section class="card narrow" aria-labelledby="new-price">
                                    <h2 id="new-price">"Add a price"</h2>
                                    <ActionError action=add />
                                    {move || add.value().get().and_then(Result::ok).map(|message| view! { <p class="ok" role="status">{message}</p> })}
                                    <ActionForm action=add node_ref=reset_on_success(add) attr:class="stacked">
                                        <label>"Provider" <input type="text" name="provider" required maxlength="100" placeholder="e.g. openai" /></label>
                                        <label>"Model" <input type="text" name="model" required maxlength="100" placeholder="e.g. gpt-4.1-mini" /></label>
                                        <label>"Input, $ per million tokens" <input type="text" name="input" inputmode="decimal" required placeholder="e.g. 0.40" /></label>
                                        <label>"Output, $ per million tokens" <input type="text" name="output" inputmode="decimal" required placeholder="e.g. 1.60" /></label>
                                        <label>"Cache read, $ per million tokens" <input type="text" name="cache_read" inputmode="decimal" value="0" required /></label>
                                        <label>"Cache write, $ per million tokens" <input type="text" name="cache_write" inputmode="decimal" value="0" required /></label>
                                        <label>"Reasoning, $ per million tokens" <input type="text" name="reasoning" inputmode="decimal" value="0" required /></label>
                                        <label>"Audio input, $ per million tokens (empty: as input)" <input type="text" name="audio_input" inputmode="decimal" placeholder="e.g. 40" /></label>
                                        <label>"Image input, $ per million tokens (empty: as input)" <input type="text" name="image_input" inputmode="decimal" /></label>
                                        <label>"First day (UTC)" <DayInput name="from_day" required=true /></label>
                                        <label>"Source (the provider's price page)" <input type="text" name="source" maxlength="500" /></label>
                                        <label>"Checked on (optional)" <DayInput name="checked_on" /></label>
                                        <label class="check"><input type="checkbox" name="reprice" value="on" /> "Re-price calls made since the first day"</label>
                                        <button type="submit">"Add price"</button>
                                    </ActionForm>
                                </section>
                            }.into_any()
                        } else {
                            view! { <p class="hint">"Only admins, and finance people an admin allowed, change the price book."</p> }.into_any()
                        }}
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
