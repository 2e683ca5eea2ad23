// Defining success and grading in a real browser: an owner edits a task type's rule, previews
// its effect and saves it; a reviewer grades sampled tasks with the keyboard alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

const hydrated = (page) => page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });

test("an owner drafts a rule, previews the last 30 days and saves a new version", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "owner", "/workflows");
  await hydrated(page);
  await screenshot(page, "owner-workflows");
  await page.getByRole("link", { name: "Support triage" }).click();
  await page.waitForSelector("#rules");
  await screenshot(page, "owner-workflow");
  const card = page.locator("article[data-task-type=password-reset]");
  const before = await card.locator(".rule").textContent();
  await card.getByRole("link", { name: "Edit the rule" }).click();
  await page.waitForSelector("h1:has-text('Success rule')");
  await hydrated(page);

  // A second condition: the reply must also name the reset link.
  await page.getByRole("button", { name: "Add a condition" }).click();
  const added = page.locator("fieldset.condition").last();
  await added.getByLabel("Kind of condition").selectOption("fields_present");
  await added.getByLabel("Fields, comma-separated").fill("reset_link");
  await page.waitForSelector(".rule-words:has-text('reset_link')");

  await page.getByRole("button", { name: "Preview the last 30 days" }).click();
  await page.waitForSelector("#preview");
  const rows = await page.locator("#preview tbody tr").allTextContents();
  assert.equal(rows.length, 2, rows.join(" | "));
  assert.match(rows[0], /As decided now/);
  assert.match(rows[1], /Under the draft/);
  assert.match(await page.locator("#preview caption").textContent(), /^\d+ tasks from /);
  await screenshot(page, "owner-rule-preview");

  await page.getByRole("button", { name: "Save rule" }).click();
  await page.waitForURL(/\/workflows\/support-triage\?rule_saved=\d+&version=\d+/);
  await page.waitForSelector("#trend");
  // The save is confirmed where the rule now stands.
  assert.match(await page.locator("#rules ~ p.ok[role=status], section[aria-labelledby=rules] p.ok").first().textContent(), /^Rule v\d+ of .Password reset. saved/);
  const after = await page.locator("article[data-task-type=password-reset] .rule").textContent();
  assert.notEqual(after, before, "the new version is the one in force");
  assert.match(after, /reset_link/);
  const baseline = await page.locator("tr.baseline").last().textContent();
  assert.match(baseline, /Password reset rule v\d+/, "the trend marks the new baseline");
  await screenshot(page, "owner-rule-saved");
  assert.deepEqual(problems, []);
});

test("a reviewer grades sampled tasks with the keyboard only", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "reviewer");
  assert.equal(new URL(page.url()).pathname, "/review", "reviewers land on their queue");
  await hydrated(page);
  const panel = page.locator("article.task-panel");
  await panel.waitFor();
  await screenshot(page, "reviewer-queue");
  const first = await panel.getAttribute("data-item");
  const countBefore = Number((await page.locator("p.hint[aria-live]").textContent()).match(/([\d,]+) graded today/)[1].replace(/,/g, ""));

  // Pass, no edits, straight from the keyboard.
  await page.keyboard.press("p");
  await page.waitForSelector("label.choice.chosen:has-text('Pass')");
  await page.keyboard.press("Enter");
  await page.waitForFunction((item) => document.querySelector("article.task-panel")?.getAttribute("data-item") !== item, first);
  const second = await panel.getAttribute("data-item");

  // Assisted: a person fixed facts; the severity follows; a note, then Ctrl+Enter from it.
  await page.keyboard.press("a");
  await page.waitForSelector("label.choice.chosen:has-text('Factual')");
  await page.keyboard.press("n");
  await page.keyboard.type("Wrong reset address");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction((item) => document.querySelector("article.task-panel")?.getAttribute("data-item") !== item, second);

  // Skip the third.
  const third = await panel.getAttribute("data-item");
  await screenshot(page, "reviewer-before-skip");
  await page.keyboard.press("s");
  await page.waitForFunction((item) => document.querySelector("article.task-panel")?.getAttribute("data-item") !== item, third);
  const countAfter = Number((await page.locator("p.hint[aria-live]").textContent()).match(/([\d,]+) graded today/)[1].replace(/,/g, ""));
  assert.equal(countAfter, countBefore + 2);
  await screenshot(page, "reviewer-graded");
  assert.deepEqual(problems, []);
});

test("an owner reads the autonomy gate and follows a disagreement to its task trace", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "owner", "/workflows/support-triage");
  await hydrated(page);
  await page.getByRole("link", { name: "Autonomy gate" }).click();
  await page.waitForSelector("h1:has-text('Autonomy gate')");
  const halves = await page.locator(".gate-half h2").allTextContents();
  assert.equal(halves.length, 2);
  assert.match(halves[0], /^Quality: (proven|not proven)$/);
  assert.match(halves[1], /^Cost: (proven|not proven)$/);
  assert.equal(await page.locator("ol.levels li.current").count(), 1);
  await screenshot(page, "owner-gate");

  await page.goto(`${BASE}/workflows/support-triage#agreement`);
  await hydrated(page);
  const link = page.locator("#agreement ~ table a, section[aria-labelledby=agreement] table a").first();
  const external = (await link.textContent()).trim();
  await link.click();
  await page.waitForSelector("#timeline");
  assert.equal((await page.locator("h1 code").textContent()).trim(), external);
  assert.ok(await page.locator("svg.bar-track rect").count() > 0, "the timeline draws its calls");
  const drawn = await page.locator("svg.bar-track rect.call-bar").first().boundingBox();
  assert.ok(drawn && drawn.width > 0 && drawn.height > 0, "a call's bar is visible on the time axis");
  assert.match(await page.locator("tr.total").textContent(), /Total\s*\$\d/);
  // Every dollar of human review is explained: its lines of minutes at the team's rate make
  // exactly the human-review cost the task counts.
  const labour = page.locator("#labour");
  const seconds = (await labour.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.seconds))))
    .reduce((a, b) => a + b, 0);
  assert.ok(seconds > 0, "a graded task has review time");
  const rate = Number(await labour.getAttribute("data-rate-micros"));
  const micros = Math.round((rate * seconds) / 3600);
  // Written as the product writes a task's money: cents from ten cents up, four decimals below,
  // half a unit rounded up on whole micro-dollars (toFixed would round 4.175 down, a float
  // just under it).
  const decimals = micros >= 100_000 ? 2 : 4;
  const unit = 10 ** (6 - decimals);
  const rounded = Math.floor((micros + unit / 2) / unit);
  const shown = `$${Math.floor(rounded / 10 ** decimals)}.${String(rounded % 10 ** decimals).padStart(decimals, "0")}`;
  assert.equal((await labour.locator("tfoot td").textContent()).trim(), shown);
  const humanReview = page.locator("section[aria-labelledby=cost] tr", { has: page.locator("th", { hasText: "Human review" }) }).first();
  assert.equal((await humanReview.locator("td").textContent()).trim(), shown);
  await screenshot(page, "owner-task-trace");
  assert.deepEqual(problems, []);
});

test("finance drills down from an overview figure to the tasks behind it, their CSV and one trace", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance");
  await hydrated(page);
  const row = page.locator("tr[data-workflow=invoice-clearing]");
  const succeeded = (await row.locator("td a").first().textContent()).trim();
  await row.locator("td a").first().click();
  await page.waitForURL(/\/tasks\?workflow=invoice-clearing&status=succeeded/);
  await page.waitForSelector("#task-list");
  assert.equal((await page.locator(".task-count").textContent()).trim(), succeeded, "the list counts what the overview counted");
  await screenshot(page, "finance-task-list");

  // The export has the same rows: a header plus one line per counted task.
  const href = await page.getByRole("link", { name: "Download CSV" }).getAttribute("href");
  const csv = await page.request.get(`${BASE}${href}`);
  assert.equal(csv.status(), 200);
  const lines = (await csv.text()).trim().split("\r\n");
  assert.equal(lines.length - 1, Number(succeeded.replace(/,/g, "")));

  const first = page.locator("#task-list tbody a").first();
  const external = (await first.textContent()).trim();
  await first.click();
  await page.waitForSelector("#timeline");
  assert.equal((await page.locator("h1 code").textContent()).trim(), external);
  assert.match(await page.locator("dl.facts").textContent(), /Succeeded/);
  assert.deepEqual(problems, []);
});

test("finance compares two configuration versions and reads the workflow's economics", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance", "/workflows/support-triage");
  await hydrated(page);
  // The trend charts are drawn (a canvas each) from the numbers in the table below them.
  await page.waitForSelector("#cpst-chart canvas", { timeout: 10_000 });
  await page.waitForSelector("#success-chart canvas", { timeout: 10_000 });
  await page.locator("#trend").scrollIntoViewIfNeeded();
  await screenshot(page, "finance-workflow-charts");
  const components = await page.locator("#cost-components tbody tr").count();
  assert.equal(components, 6, "model, tool, retry, cache, human review, platform");
  assert.match(await page.locator("#health-facts").textContent(), /pass@1/);
  await page.getByRole("link", { name: "Compare versions" }).click();
  await page.waitForSelector("#comparison");
  const headers = await page.locator("#comparison thead th").allTextContents();
  assert.equal(headers.length, 4);
  assert.notEqual(headers[1], headers[2], "two different versions");
  const verdict = await page.locator("#verdict").textContent();
  assert.match(verdict, /success rate/);
  // Its colour follows the news: a real fall red, a real rise green, noise grey.
  const [, delta] = verdict.match(/changed by ([+-][\d.]+) points/);
  const tone = /more than sampling noise/.test(verdict) ? (Number(delta) > 0 ? "good" : "bad") : "neutral";
  assert.match(await page.locator("#verdict").getAttribute("class"), new RegExp(`\\b${tone}\\b`));
  await screenshot(page, "finance-compare");
  assert.deepEqual(problems, []);
});

test("the workflow page's first screen holds its cost per success, its budget and what changed", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance", "/workflows/invoice-clearing");
  await hydrated(page);
  const panel = page.locator("section.what-changed");
  const box = await panel.boundingBox();
  assert.ok(box.y + box.height <= 900, `the panel ends at ${Math.round(box.y + box.height)} px, below the first screen`);
  const text = await panel.textContent();
  assert.match(text, /Cost per successful task\s*\$[\d.,]+\s*was \$[\d.,]+/);
  assert.match(text, /budget \$[\d.,]+/);
  assert.match(text, /Success rate\s*[\d.]+%/);
  // Every section is one click away, and the money comes before the settings.
  const sections = await page.locator('nav[aria-label="On this page"] a').evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  for (const id of sections) assert.equal(await page.locator(id).count(), 1, id);
  assert.ok(sections.indexOf("#economics") < sections.indexOf("#rules"));
  // A configuration version that took effect in the window links to its comparison.
  const versions = page.locator("#took-effect a");
  assert.ok(await versions.count() > 0, "the demo's invoice clearing changed its configuration within the 60 days compared");
  await versions.first().click();
  await page.waitForSelector("#comparison");
  assert.equal((await page.locator("#comparison thead th").allTextContents()).length, 4);
  assert.deepEqual(problems, []);
});
