// What-if in a real browser: an owner projects a change from the workflow's own evidence, is
// refused where the evidence is too thin, saves a projection and finds it again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

test("an owner runs a what-if, is told when evidence is missing, saves it and finds it again", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "owner");
  await page.goto(`${BASE}/workflows/support-triage`);
  await page.locator("a", { hasText: "What if… project a change" }).click();
  await page.waitForURL(/\/what-if$/);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 90_000 });
  assert.equal(await page.locator("h1").textContent(), "What if: Support triage");

  // A model with fewer than 30 decided tasks of a type is offered, marked, and refused.
  const select = page.locator("select", { has: page.locator("option", { hasText: "too few to route to" }) }).first();
  const thin = select.locator("option", { hasText: "too few to route to" }).first();
  await select.selectOption(await thin.getAttribute("value"));
  await page.getByRole("button", { name: "Project" }).click();
  await page.waitForSelector("section.refusal");
  assert.match(await page.locator("section.refusal").textContent(), /Not enough evidence to project.*: not enough evidence: \d+ tasks, need 30/);

  // The model with the most password resets, and 5% failing: a projection with intervals.
  await select.selectOption("");
  const resets = page.locator("label", { hasText: "Send every Password reset task" }).locator("select");
  await resets.selectOption({ index: 1 });
  await page.getByLabel("Share of decided tasks that fail (%)").fill("5");
  await page.getByRole("button", { name: "Project" }).click();
  await page.waitForURL(/failure_rate=5/);
  const row = (name) => page.locator("#projection ~ div table tr", { has: page.locator("th", { hasText: name }) });
  await row("Success rate").waitFor();
  assert.equal((await row("Success rate").locator("td strong").textContent()).trim(), "95.0%");
  const cpst = (await row("Cost per success").locator("td").nth(1).locator("strong").textContent()).trim();
  assert.match(cpst, /^\$[\d,]+\.\d{2}$/);
  assert.match(await row("Cost per success").locator("td .interval").textContent(), /^\$[\d,.]+ – \$[\d,.]+$/);
  assert.match(await page.locator("ul.assumptions").first().textContent(), /Every Password reset task runs on .*5\.0% of decided tasks fail/);
  await screenshot(page, "what-if");

  // Saved under a name that is also markup, then listed with its projection after a reload.
  const name = `Resets on one model </textarea> 5% failing (${Date.now()})`;
  await page.getByLabel("Save as").fill(name);
  await page.getByRole("button", { name: "Save scenario" }).click();
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await page.goto(`${BASE}/workflows/support-triage/what-if`);
  const saved = page.locator("article.scenario", { has: page.locator("h3", { hasText: name }) });
  await saved.waitFor();
  const projected = saved.locator("tr", { has: page.locator("th", { hasText: "Cost per success" }) }).locator("td").nth(1);
  assert.equal((await projected.textContent()).trim(), cpst);
  assert.match(await saved.textContent(), /Saved \d{4}-\d{2}-\d{2} by owner@demo\.finishline\.test/);
  // Running it again restores the levers.
  await saved.locator("a", { hasText: "Project it again" }).click();
  await page.waitForURL(/failure_rate=5/);
  assert.equal(await page.getByLabel("Share of decided tasks that fail (%)").inputValue(), "5");
  assert.deepEqual(problems, []);
});
