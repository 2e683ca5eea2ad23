// The finance and engineering views in a real browser: custom periods, team budgets, models
// against the read API, the workflow's charts and their tables, period comparison, and CSV
// downloads that hold the rows the page shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

const hydrated = (page) => page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });

/// The data of every series of the chart drawn in `#id` (it must have a canvas).
async function chartData(page, id) {
  await page.waitForSelector(`#${id} canvas`, { timeout: 10_000 });
  return page.evaluate((id) => {
    const option = window.echarts.getInstanceByDom(document.getElementById(id)).getOption();
    return { series: option.series.map((s) => s.data), marks: option.series[0].markLine?.data ?? [] };
  }, id);
}

/// The rows of the CSV behind a download link, header first.
async function csvOf(page, label) {
  const href = await page.getByRole("link", { name: label }).getAttribute("href");
  const reply = await page.request.get(`${BASE}${href}`);
  assert.equal(reply.status(), 200, href);
  assert.match(reply.headers()["content-type"], /^text\/csv/);
  return (await reply.text()).trim().split("\r\n").map((line) => line.split(","));
}

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/// Dollars as the pages print them: cents from $0.10, four decimals below.
// Finance views' format: two decimals with separators, "< $0.01" for a non-zero amount below a cent.
const dollars = (micros) => micros > 0 && micros < 5_000
  ? "< $0.01"
  : `$${(Math.round(micros / 1e4) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

test("finance picks a custom period, reads team budgets and downloads the overview's tables", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance");
  await hydrated(page);
  const [from, to] = [day(-20), day(-1)];
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(new RegExp(`from=${from}&to=${to}`));
  await page.waitForFunction((f) => document.querySelector(".window")?.textContent.startsWith(f), from);
  assert.match(await page.locator(".window").textContent(), new RegExp(`^${from} to ${to}`));
  assert.equal(await page.locator('.period-picker a[aria-current="page"]').count(), 0, "no offered period is current");

  // CPST against budget per workflow, drawn from the table's numbers.
  const chart = await chartData(page, "budget-chart");
  const rows = page.locator("tr[data-workflow]");
  assert.equal(chart.series[0].length, await rows.count());
  assert.ok(chart.series[1].every((budget) => budget > 0));
  for (const cell of await page.locator("#teams tbody tr td:nth-child(3)").allTextContents()) {
    assert.match(cell, /(Within|Over) \$[\d.,]+ budget|no successful tasks yet/);
  }
  await screenshot(page, "finance-overview-custom-period");

  const csv = await csvOf(page, "Download the workflows as CSV");
  const slugs = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.workflow));
  assert.deepEqual(csv.slice(1).map((r) => r[0]).sort(), slugs.sort());
  const cpst = csv[0].indexOf("cpst_usd");
  for (const r of csv.slice(1)) {
    const shown = await page.locator(`tr[data-workflow=${r[0]}] td.cpst`).textContent();
    if (r[cpst]) assert.equal(shown, dollars(Math.round(Number(r[cpst]) * 1e6)), r[0]);
  }
  const teams = await csvOf(page, "Download the teams as CSV");
  assert.equal(teams.length - 1, await page.locator("#teams tbody tr").count());
  assert.deepEqual(problems, []);
});

test("the models page shows what the read API answers", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "admin", "/keys");
  await hydrated(page);
  await page.getByLabel("Name").fill(`models check ${Date.now()}`);
  await page.getByLabel("All workflows, now and future").check();
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.locator(".secret-value").textContent({ timeout: 10_000 })).trim();
  const reply = await page.request.get(`${BASE}/api/v1/models?days=30`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(reply.status(), 200);
  const api = await reply.json();

  await page.getByRole("link", { name: "Models" }).click();
  await page.waitForURL(/\/models$/);
  await page.waitForSelector("#models-table");
  const groups = page.locator("tbody.model-group");
  assert.equal(await groups.count(), api.models.length);
  for (const model of api.models) {
    const head = await page.locator(`tbody.model-group[data-model="${model.model}"] tr.total`).textContent();
    if (model.weighted_cpst_micros !== null) assert.ok(head.includes(`${dollars(model.weighted_cpst_micros)} weighted`), `${model.model}: ${head}`);
  }
  for (const winner of api.winners) {
    const row = await page.locator(`#winners-table tr[data-workflow=${winner.workflow}]`).textContent();
    if (winner.model == null) {
      // Every model of the workflow is over its latency budget: none is named, each ruled out.
      assert.ok(winner.over_latency_budget.length > 0, `${winner.workflow}: ${JSON.stringify(winner)}`);
      assert.match(row, /no model within the latency budget/, row);
      for (const model of winner.over_latency_budget) assert.ok(row.includes(model), `${winner.workflow}: ${row}`);
      continue;
    }
    assert.ok(row.includes(winner.model), `${winner.workflow}: ${row}`);
    // Every named model shows the interval its success rate rests on; under 30 decided tasks
    // it is named, not recommended.
    assert.match(row, /95% interval [\d.]+%–[\d.]+%, [\d,]+ tasks/, row);
    const tasks = Number(row.match(/, ([\d,]+) tasks\)/)[1].replace(/,/g, ""));
    if (tasks < 30) assert.match(row, /too few tasks to recommend/, row);
    else assert.doesNotMatch(row, /too few tasks/, row);
  }
  const chart = await chartData(page, "models-chart");
  assert.equal(chart.series[0].length, api.models.length);
  await screenshot(page, "finance-models");
  const csv = await csvOf(page, "Download the winners as CSV");
  assert.equal(csv.length - 1, api.winners.length);
  assert.deepEqual(problems, []);
});

test("an engineer reads the cost distribution and escalation Pareto and drills from a bar to its tasks", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "owner", "/workflows/support-triage");
  await hydrated(page);
  const histogram = await chartData(page, "cost-histogram-chart");
  const counts = (await page.locator("#cost-histogram tbody td").allTextContents()).map((t) => Number(t.replace(/,/g, "")));
  assert.deepEqual(histogram.series[0], counts, "the chart draws the table's counts");
  const pareto = await chartData(page, "pareto-chart");
  assert.equal(pareto.series[1].at(-1), 100, "the cumulative share ends at 100%");
  const spend = await chartData(page, "spend-chart");
  assert.equal(spend.series.length, 6, "one stacked series per cost component");
  const cpst = await chartData(page, "cpst-chart");
  assert.equal(cpst.marks.length, await page.locator("#trend-table tr.baseline").count(), "a marker per baseline");
  await page.locator("#engineering").scrollIntoViewIfNeeded();
  await screenshot(page, "owner-workflow-health");

  const csv = await csvOf(page, "Download the cost distribution as CSV");
  assert.deepEqual(csv.slice(1).map((r) => Number(r[2])), counts);

  const bar = page.locator("#cost-histogram tbody tr").first();
  const count = (await bar.locator("td").textContent()).trim().replace(/,/g, "");
  await bar.locator("a").click();
  await page.waitForURL(/\/tasks\?.*status=decided.*min_cost=/);
  await page.waitForSelector("#task-list");
  assert.equal((await page.locator(".task-count").textContent()).trim().replace(/,/g, ""), count);

  await page.goto(`${BASE}/workflows/support-triage`);
  await hydrated(page);
  await page.getByRole("link", { name: "By day, last 30 days" }).click();
  await page.waitForURL(/trend=day/);
  await page.waitForFunction(() => document.querySelectorAll("#trend-table tbody tr").length === 30);
  assert.equal(await page.locator("h2#trend").textContent(), "Daily trend");
  assert.deepEqual(problems, []);
});

test("finance compares two periods side by side and downloads the comparison", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance", "/workflows/support-triage/compare");
  await hydrated(page);
  await page.getByLabel("Baseline from").fill(day(-28));
  await page.getByLabel("to", { exact: true }).first().fill(day(-15));
  await page.getByLabel("Candidate from").fill(day(-14));
  await page.getByRole("button", { name: "Compare periods" }).click();
  await page.waitForURL(/candidate_from=/);
  await page.waitForFunction((d) => document.querySelector("#comparison thead")?.textContent.includes(d), day(-14));
  const headers = await page.locator("#comparison thead th").allTextContents();
  assert.equal(headers[1], `${day(-28)} to ${day(-15)}`);
  assert.match(headers[2], new RegExp(`^${day(-14)} to `));
  await screenshot(page, "finance-compare-periods");
  const csv = await csvOf(page, "Download the comparison as CSV");
  assert.deepEqual(csv[0], ["figure", "baseline", "candidate", "change"]);
  assert.equal(csv[2][1], (await page.locator("#comparison tbody tr").first().locator("td").first().textContent()).trim());
  assert.deepEqual(problems, []);
});
