// Accounts in a real browser: each role signs in, sees its pages and nothing else, signs out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, newPage, screenshot, signIn } from "../helpers.mjs";

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.close(); });

const NAVIGATION = {
  admin: ["Overview", "Workflows", "Alerts", "Tasks", "Models", "Review queue", "Teams and costs", "Price book", "API keys", "Users", "Audit log", "Account"],
  owner: ["Overview", "Workflows", "Alerts", "Tasks", "Models", "Review queue", "Teams and costs", "Price book", "API keys", "Audit log", "Account"],
  finance: ["Overview", "Workflows", "Alerts", "Tasks", "Models", "Teams and costs", "Price book", "Account"],
  reviewer: ["Review queue", "Account"],
};

for (const [role, expected] of Object.entries(NAVIGATION)) {
  test(`${role}: signs in, sees the role's pages, signs out`, async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${BASE}/`);
    assert.equal(new URL(page.url()).pathname, "/sign-in", "signed-out people are sent to sign in");
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
    await signIn(page, role);
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
    // Alerts carries the count of open ones ("Alerts 2 open"); the label is what comes first.
    const links = await page.locator('nav[aria-label="Main"] a').allTextContents();
    assert.deepEqual(links.map((text) => text.replace(/ \d+ open$/, "")), expected);
    for (const label of expected) {
      await page.locator('nav[aria-label="Main"] a', { hasText: label }).click();
      await page.locator('nav[aria-label="Main"] a[aria-current="page"]', { hasText: new RegExp(`^${label}( \\d+ open)?$`) }).waitFor();
      await page.waitForSelector("main h1");
      assert.equal(await page.locator("main .error").count(), 0, `${label}: ${await page.locator("main .error").allTextContents()}`);
      await screenshot(page, `${role}-${label.toLowerCase().replace(/ /g, "-")}`);
    }
    await Promise.all([
      page.waitForURL(/\/sign-in\?signed_out=1/),
      page.getByRole("button", { name: "Sign out" }).click(),
    ]);
    assert.match(await page.locator("[role=status]").textContent(), /signed out/);
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
    await page.goto(`${BASE}/account`);
    assert.equal(new URL(page.url()).pathname, "/sign-in", "the session is gone");
    assert.deepEqual(problems, [], "no console errors (a CSP violation would be one)");
  });
}

test("a wrong password is refused with a message", async () => {
  const { page } = await newPage(browser);
  await page.goto(`${BASE}/sign-in`);
  await page.getByLabel("Email").fill("finance@demo.finishline.test");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/problem=incorrect/);
  assert.equal(await page.getByRole("alert").textContent(), "The email or password is incorrect.");
  await screenshot(page, "sign-in-refused");
});

test("an admin creates an API key, sees it once, and revokes it", async () => {
  const { page, problems } = await newPage(browser);
  await signIn(page, "admin", "/keys");
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  const name = `browser test ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  // Nothing ticked is refused, naming the field: a key for every workflow is a choice of its own.
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText(/May send for: choose the teams or workflows/).waitFor();
  assert.equal(await page.locator(".secret-value").count(), 0);
  // That refusal is the one expected failed request; anything else still fails the test.
  assert.deepEqual(problems.splice(0), [`422: ${BASE}/rpc/create_api_key`]);
  await page.getByLabel("Team Customer Operations").check();
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = await page.locator(".secret-value").textContent({ timeout: 10_000 });
  assert.match(secret, /^fl_[0-9a-f]{64}$/);
  const row = page.locator("tr", { hasText: name });
  await row.waitFor();
  assert.match(await row.textContent(), /team Customer Operations/);
  await screenshot(page, "admin-key-created");
  await row.getByRole("button", { name: "Revoke" }).click();
  await page.locator("tr", { hasText: name }).getByText(/^Revoked/).waitFor();
  assert.deepEqual(problems, []);
});
