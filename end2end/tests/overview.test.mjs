// The overview, in a real browser: server-rendered figures, hydration, and the period picker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

test("the overview shows every demo workflow with its cost per successful task and hydrates", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  assert.equal(await page.title(), "Overview · Finishline");
  const rows = page.locator("table.figures").first().locator("tbody tr");
  assert.equal(await rows.count(), 4);
  const names = await rows.locator("th").allTextContents();
  assert.deepEqual(names.sort(), ["Invoice clearing", "Memo drafting", "Refund replies", "Support triage"]);
  for (const cell of await rows.locator("td.cpst").allTextContents()) {
    assert.match(cell, /^\$\d[\d,]*\.\d{2,4}$|^no successful tasks$/);
  }
  // Each workflow links to its autonomy gate, stating its last judgement and level.
  for (const gate of await rows.locator("a.gate").allTextContents()) {
    assert.match(gate, /^(ready to raise|proven|not proven|not judged yet) \(level \d\)$/);
  }
  await screenshot(page, "overview");
  assert.deepEqual(problems, []);
});

test("the period picker changes the window and keeps it in the address", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "owner");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  const before = await page.locator(".window").textContent();
  await page.getByRole("link", { name: "7 days" }).click();
  await page.waitForURL(/days=7/);
  await page.waitForFunction((old) => document.querySelector(".window")?.textContent !== old, before);
  const after = await page.locator(".window").textContent();
  const [from, to] = after.match(/\d{4}-\d{2}-\d{2}/g).map((d) => Date.parse(d));
  assert.equal((to - from) / 86_400_000, 6, after);
  assert.equal(await page.locator('.period-picker a[aria-current="page"]').textContent(), "7 days");
  // The rolling day: today so far.
  await page.getByRole("link", { name: "1 day", exact: true }).click();
  await page.waitForURL(/days=1(&|$)/);
  await page.waitForFunction(() => { const d = document.querySelector(".window")?.textContent.match(/\d{4}-\d{2}-\d{2}/g); return d && d[0] === d[1]; });
  assert.deepEqual(problems, []);
});

test("the overview works with JavaScript disabled", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, "finance", "/?days=90", { javaScript: false });
  assert.equal(new URL(page.url()).search, "?days=90", "back to the page asked for");
  assert.equal(await page.locator("table.figures").first().locator("tbody tr").count(), 4);
  assert.equal(await page.locator('.period-picker a[aria-current="page"]').textContent(), "90 days");
  await context.close();
});

test("the overview answers first: three headline figures, then workflows furthest over budget first", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance");
  const money = (text) => Number(text.replace(/[$,]/g, ""));
  const rows = page.locator("tr[data-workflow]");
  const variances = [];
  for (let i = 0; i < await rows.count(); i++) {
    const cpst = money(await rows.nth(i).locator("td.cpst").textContent());
    const budget = money((await rows.nth(i).locator(".verdict").textContent()).match(/\$[\d.,]+/)[0]);
    variances.push(cpst / budget - 1);
  }
  assert.ok(variances.length > 1);
  for (let i = 1; i < variances.length; i++) {
    assert.ok(variances[i - 1] >= variances[i] - 1e-9, `row ${i} is further over budget than the one above: ${variances}`);
  }
  const headline = page.locator("dl.headline");
  const figure = async (label) => (await headline.locator("div", { has: page.locator("dt", { hasText: label }) }).locator("dd").textContent()).trim();
  const over = (await rows.locator(".verdict.over").count());
  assert.equal(await figure("Workflows over budget"), `${over} of ${await rows.count()}`);
  const totalSpend = await page.locator("table.figures").first().locator("tfoot td.num:not(.savings)").last().textContent();
  assert.equal(await figure("Spend"), totalSpend);
  const blended = await page.locator("table.figures").first().locator("tfoot td.cpst").textContent();
  assert.ok((await figure("Cost per successful task")).startsWith(blended));
  // Net savings against the human baseline, and what they rest on.
  for (const cell of await rows.locator("td.savings").allTextContents()) {
    assert.match(cell, /^[+−]\$[\d,]+\.\d{2}$|^no baseline$/);
  }
  assert.match(await page.locator("#savings-note").textContent(), /^Net savings against the human baseline: [+−]\$[\d,.]+\. The succeeded tasks would have taken people [\d,]+ hours .* 7 of 8 task types with tasks have a baseline\. Baselines from: .*support time study, September 2026/);
  // Each over-budget pill says by how much in percent as well as in dollars.
  for (const pill of await rows.locator(".verdict.over").allInnerTexts()) {
    assert.match(pill, /^Over \$[\d.,]+ budget by \$[\d.,]+ \(\+\d+%\)$/);
  }
  // On a phone the same pill reads the percentage first, in a third of the words.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const pill of await rows.locator(".verdict.over").allInnerTexts()) {
    assert.match(pill, /^\+\d+% over \$[\d.,]+$/);
  }
  assert.deepEqual(problems, []);
});
