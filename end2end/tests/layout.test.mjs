// Every page at phone, tablet and desktop width: the page never scrolls sideways (wide tables
// scroll inside themselves) and the header is one row; on narrow screens the navigation folds
// into a menu that opens, leads to a page and closes again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

const WIDTHS = [390, 1024, 1440];

/// Sideways overflow of the page, and whether the header's visible parts share one row.
async function measure(page) {
  return page.evaluate(() => {
    const header = document.querySelector(".site-header");
    const middles = [...header.querySelectorAll(".brand, .menu-button, nav, .account-menu")]
      .map((e) => e.getBoundingClientRect())
      .filter((box) => box.height > 0)
      .map((box) => box.top + box.height / 2);
    const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
    return {
      duplicateIds: ids.filter((id, i) => ids.indexOf(id) !== i),
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      // Parts whose middles lie within 12 px of each other share a row.
      rows: Math.max(...middles) - Math.min(...middles) <= 12 ? 1 : 2,
      height: header.getBoundingClientRect().height,
    };
  });
}

for (const role of ["admin", "owner", "finance", "reviewer"]) {
  test(`${role}: every page fits 390, 1024 and 1440 px with a one-row header`, async () => {
    const { page, problems } = await newPage(browser);
    await signIn(page, role);
    const links = await page.locator('nav[aria-label="Main"] a').evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    const pages = [...links];
    if (role !== "reviewer") {
      pages.push("/workflows/support-triage", "/workflows/support-triage/gate", "/workflows/support-triage/compare", "/workflows/support-triage/what-if?failure_rate=10");
      await page.goto(`${BASE}/tasks?workflow=support-triage`);
      pages.push(await page.locator('#task-list tbody a[href^="/tasks/"]').first().getAttribute("href"));
    }
    if (role === "admin" || role === "finance") pages.push("/reconciliation?days=90", "/reconciliation?days=30&by=day");
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
      for (const path of pages) {
        await page.goto(`${BASE}${path}`);
        await page.waitForSelector("main h1");
        const found = await measure(page);
        assert.ok(found.overflow <= 0, `${role} ${path} at ${width} px scrolls sideways by ${found.overflow} px`);
        assert.equal(found.rows, 1, `${role} ${path} at ${width} px: the header takes ${found.height} px`);
        // In-page links and labels need each id once.
        assert.deepEqual(found.duplicateIds, [], `${role} ${path}: ids used twice`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test("on a phone the navigation folds into a menu that opens, leads on and closes", async () => {
  const { page, problems } = await newPage(browser);
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "owner");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  const costs = page.getByRole("link", { name: "Teams and costs" });
  assert.equal(await costs.isVisible(), false, "folded");
  await page.getByText("Menu", { exact: true }).click();
  assert.equal(await costs.isVisible(), true, "opened");
  assert.equal(await page.getByRole("button", { name: "Sign out" }).isVisible(), true);
  await costs.click();
  await page.waitForURL(/\/costs$/);
  await page.waitForSelector("main h1");
  assert.equal(await costs.isVisible(), false, "closed after leading on");
  await page.goto(`${BASE}/account`);
  const field = page.locator("main input").first();
  assert.equal(await field.evaluate((e) => getComputedStyle(e).fontSize), "16px", "phones do not zoom into fields");
  assert.deepEqual(problems, []);
});

test("the logo leads each role to its own first page", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "reviewer");
  await page.locator("a.brand").click();
  await page.waitForSelector("main h1");
  assert.equal(new URL(page.url()).pathname, "/review");
  assert.equal(await page.locator("main .error").count(), 0);
  assert.deepEqual(problems, []);
});
