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
    assert.match(gate, /^(passes|not proven|not judged yet) \(level \d\)$/);
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
