// Reconciliation with the bill, in a real browser, over the demo's imported bills: the
// overview's coverage line leads to the page, the page names the causes and folds the
// reconciled lines, an admin changes the threshold, and an owner is kept out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

test("finance follows the overview's coverage line to the bill and reads each difference's cause", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "finance", "/?days=90");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  const coverage = await page.locator("#bill-coverage").textContent();
  assert.match(coverage, /CPST covers \d+(\.\d+)?% of the \$[\d,.]+ Anthropic bill/);
  await page.locator("#bill-coverage a").click();
  await page.waitForURL(/\/reconciliation\?days=90/);
  await page.waitForSelector("#providers-table");
  assert.equal(await page.title(), "Reconciliation with the bill · Finishline");
  const providers = await page.locator("#providers-table tbody th").allTextContents();
  assert.deepEqual(providers, ["Anthropic", "OpenAI"]);
  const differences = await page.locator("#differences-table").textContent();
  assert.match(differences, /price mismatch/);
  assert.match(differences, /input billed at \$3\.30 per million tokens, the price book says \$3\.00/);
  assert.match(differences, /text-embedding-3-large/);
  assert.match(differences, /unattributed spend/);
  // The reconciled lines are folded away until asked for.
  assert.equal(await page.locator("#reconciled-table").isVisible(), false);
  await page.locator("details summary", { hasText: "reconciled lines" }).click();
  await page.waitForSelector("#reconciled-table", { state: "visible" });
  await screenshot(page, "reconciliation");
  await page.getByRole("link", { name: "By day" }).click();
  await page.waitForURL(/by=day/);
  await page.waitForFunction(() => document.querySelector("#differences-table thead")?.textContent.includes("Day"));
  assert.equal(await page.locator("text=Reconciliation settings").count(), 0, "finance without the cost permission does not change the settings");
  assert.deepEqual(problems, []);
});

test("an admin widens the threshold and every priced line reconciles; an owner sees no bill", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "admin", "/reconciliation?days=90");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  const save = async (threshold) => {
    await page.getByLabel(/within this share of the bill/).fill(threshold);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.waitForFunction((t) => document.querySelector(".hint")?.textContent.includes(`within ${t}% of its bill`), threshold);
  };
  try {
    await save("50");
    const differences = await page.locator("#differences-table").textContent();
    assert.doesNotMatch(differences, /price mismatch/);
    assert.match(differences, /unattributed spend/, "billed with no calls stays a difference at any threshold");
  } finally {
    await save("2");
  }
  assert.match(await page.locator("#differences-table").textContent(), /price mismatch/);
  assert.deepEqual(problems, []);

  const owner = await newPage(browser);
  await signIn(owner.page, "owner", "/reconciliation");
  await owner.page.waitForSelector("[role=alert]");
  assert.match(await owner.page.locator("[role=alert]").textContent(), /does not include the providers' bills/);
  await owner.page.goto(`${BASE}/`);
  assert.equal(await owner.page.locator("#bill-coverage").count(), 0);
});
