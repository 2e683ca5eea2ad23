// Alerts in the browser, on a server of its own with a larger demo (so the demo's CPST
// regression on refund replies has enough tasks to be told from noise) that may send webhooks
// to this machine: the owner finds the demo's alerts and their cause, adds a rule with a Slack
// webhook that a real receiver here gets (signed), sees the open alert at the top of the
// workflow's page, and acknowledges it with the keyboard alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser, newPage, DEMO } from "../helpers.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = process.env.FINISHLINE_BIN ?? join(ROOT, "target", "debug", "finishline");
const PORT = process.env.FINISHLINE_ALERTS_PORT ?? "3109";
const URL_ = `http://127.0.0.1:${PORT}`;

let browser, server, dataDir, receiver;
const received = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "finishline-alerts-"));
  const env = {
    ...process.env,
    FINISHLINE_DATA_DIR: dataDir,
    LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
    LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? join(ROOT, "target", "site"),
    FINISHLINE_ALLOW_INTERNAL_WEBHOOKS: "true",
  };
  execFileSync(BIN, ["demo", "--tasks", "20000"], { env, stdio: "ignore" });
  server = spawn(BIN, ["serve"], { env, stdio: "ignore" });
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${URL_}/healthz`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(page, path) {
  await page.goto(`${URL_}${path}`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
}

test("an owner reads the demo's alerts, adds a webhook rule and acknowledges with the keyboard", async () => {
  const { page, problems } = await newPage(browser);
  await open(page, "/sign-in");
  await page.getByLabel("Email").fill(DEMO.owner[0]);
  await page.getByLabel("Password").fill(DEMO.owner[1]);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/sign-in")), page.getByRole("button", { name: "Sign in" }).click()]);

  // The navigation counts the open alerts the owner may see.
  await open(page, "/alerts");
  const count = Number(await page.locator('nav[aria-label="Main"] a[href="/alerts"] .nav-count').innerText().then((t) => t.replace(/\D/g, "")));
  assert.ok(count >= 2, `open alerts counted: ${count}`);

  // The demo's regression, tied to the change that caused it, and the team's spend budget.
  const regression = page.locator("article.alert-card", { hasText: "CPST regression" }).filter({ hasText: "Refund replies" });
  await regression.waitFor();
  assert.match(await regression.innerText(), /beyond noise/);
  assert.match(await regression.innerText(), /Since v2-deepseek-chat took effect on \d{4}-\d\d-\d\d/);
  assert.equal(await regression.getByRole("link", { name: "Compare the two periods" }).count(), 1);
  await page.locator("article.alert-card", { hasText: "Monthly spend budget" }).filter({ hasText: "of the budget reached" }).waitFor();

  // A new rule with a Slack webhook: its secret is shown once, and a test reaches the receiver.
  const hook = `http://127.0.0.1:${receiver.address().port}/slack/incoming`;
  await page.locator("#new-rule summary").click();
  const form = page.locator("#new-rule");
  await form.getByLabel("Watch").selectOption({ label: "Workflow: Support triage" });
  await form.getByLabel("Condition").selectOption("success_drop");
  await form.getByLabel(/Webhook address/).fill(hook);
  await form.getByLabel("Webhook body").selectOption("slack");
  await form.getByRole("button", { name: "Add rule" }).click();
  await page.getByText("Rule saved").waitFor();
  const secret = (await page.locator(".secret-value").innerText()).trim();
  assert.match(secret, /^whsec_[0-9a-f]{48}$/);
  const rule = page.locator("article.rule-card", { hasText: "Success-rate drop: Support triage" });
  await rule.waitFor();
  assert.match(await rule.innerText(), /Webhook \(slack\) to http:\/\/127\.0\.0\.1\/…/);
  assert.doesNotMatch(await page.content(), /slack\/incoming/, "the address's path stays secret");
  await rule.getByRole("button", { name: "Send a test" }).click();
  await page.getByText("Test notification queued").waitFor();
  for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal(received.length, 1, "the receiver got the test");
  const [{ headers, body }] = received;
  const [, t, v1] = headers["x-finishline-signature"].match(/^t=(\d+), v1=([0-9a-f]{64})$/);
  assert.equal(v1, createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"), "signed with the shown secret");
  assert.match(JSON.parse(body).text, /^Test of the Success-rate drop rule for Support triage/);

  // The workflow's page opens with its open alert.
  await open(page, "/workflows/refund-replies");
  const top = page.locator("section.open-alerts");
  await top.waitFor();
  assert.match(await top.innerText(), /CPST regression/);

  // Acknowledged with the keyboard alone: focus the note, type, Tab to the button, Enter.
  await open(page, "/alerts");
  const card = page.locator("article.alert-card", { hasText: "CPST regression" }).filter({ hasText: "Refund replies" });
  await card.getByLabel("Note (optional)").focus();
  await page.keyboard.type("Rolling refund replies back to v1 while we look");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Acknowledge");
  await page.keyboard.press("Enter");
  await page.getByText("Acknowledged: the alert shows who is on it").waitFor();
  await card.getByText(/^Acknowledged by Omar Owner at .*: Rolling refund replies back to v1 while we look$/).waitFor();
  assert.match(await card.locator(".alert-state").innerText(), /Acknowledged/);

  // On a phone the page does not scroll sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, "/alerts");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `scrolls sideways by ${overflow} px`);
  assert.deepEqual(problems, []);
});
