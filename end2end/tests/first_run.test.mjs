// A first run without the demo: a new installation with one admin and nothing else. The admin's
// overview lists five steps; the test walks them through the pages as a new user would (team,
// workflow, task type, success rule, key), sends the first batch the page shows, and watches
// each step tick itself off and the checklist give way to the figures.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser, newPage } from "../helpers.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = process.env.FINISHLINE_BIN ?? join(ROOT, "target", "debug", "finishline");
const PORT = process.env.FINISHLINE_FIRST_RUN_PORT ?? "3108";
const URL_ = `http://127.0.0.1:${PORT}`;
const ADMIN = ["first@example.test", "a-first-admin-password"];

let browser, server, dataDir;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "finishline-first-run-"));
  const env = {
    ...process.env,
    FINISHLINE_DATA_DIR: dataDir,
    LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
    LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? join(ROOT, "target", "site"),
    FINISHLINE_ADMIN_PASSWORD: ADMIN[1],
  };
  execFileSync(BIN, ["create-admin", "--email", ADMIN[0]], { env, stdio: "ignore" });
  server = spawn(BIN, ["serve"], { env, stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${URL_}/healthz`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const done = async (page) => page.locator("ol.checklist li.done").evaluateAll((items) => items.map((li) => li.dataset.step));

async function home(page) {
  await page.goto(`${URL_}/`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
}

test("an empty installation walks its first admin from nothing to a first figure", async () => {
  const { page, problems } = await newPage(browser);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: URL_ });
  await page.goto(`${URL_}/sign-in`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  await page.getByLabel("Email").fill(ADMIN[0]);
  await page.getByLabel("Password").fill(ADMIN[1]);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/sign-in")), page.getByRole("button", { name: "Sign in" }).click()]);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  await page.waitForSelector("section.setup");
  assert.deepEqual(await done(page), [], "nothing done yet");
  assert.equal(await page.locator("ol.checklist li").count(), 5);
  // The snippets name this server as the browser reached it.
  assert.match(await page.locator("#first-batch pre").first().textContent(), new RegExp(`POST ${URL_}/api/v1/ingest`));

  // 1. A team: the link opens the form, already unfolded on an installation without teams.
  await page.getByRole("link", { name: "Create a team" }).click();
  await page.waitForSelector("#new-team[open]");
  const team = page.locator("#new-team");
  await team.getByLabel("Name", { exact: true }).fill("Support");
  await team.getByLabel(/Short name/).fill("support");
  await team.getByLabel(/labour rate/i).fill("45");
  await team.getByRole("button", { name: "Add team" }).click();
  await page.getByText("Team created.").waitFor();
  await page.locator("#new-team summary").click();
  assert.equal(await team.getByLabel("Name", { exact: true }).inputValue(), "", "the create form empties itself");

  // 2. A workflow.
  await home(page);
  assert.deepEqual(await done(page), ["team"]);
  await page.getByRole("link", { name: "Create a workflow" }).click();
  await page.waitForSelector("#new-workflow[open]");
  const workflow = page.locator("#new-workflow");
  await workflow.getByLabel("Name", { exact: true }).fill("Support triage");
  await workflow.getByLabel(/Short name/).fill("support-triage");
  await workflow.getByLabel(/CPST budget/).fill("0.50");
  await workflow.getByRole("button", { name: "Add workflow" }).click();
  await page.getByText(/Workflow created. Next/).waitFor();

  // 3. A task type and its success rule, saved with a confirmation on the workflow page.
  await home(page);
  assert.deepEqual(await done(page), ["team", "workflow"]);
  await page.getByRole("link", { name: "Add a task type and its success rule" }).click();
  await page.waitForSelector("#new-task-type[open]");
  const taskType = page.locator("#new-task-type");
  await taskType.getByLabel("Name", { exact: true }).fill("Billing question");
  await taskType.getByLabel(/Short name/).fill("billing-question");
  await taskType.getByLabel(/User goal/).fill("The customer's billing question is answered");
  await taskType.getByLabel(/Pass condition/).fill("The ticket is not reopened within 48 hours");
  await taskType.getByRole("button", { name: "Add task type" }).click();
  // A new task type goes straight on to its rule.
  await page.waitForURL(/\/rules\/\d+\?added=1/);
  await page.getByText(/Task type added. Now say what finished means/).waitFor();
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  await page.getByText("Fill in the condition").waitFor();
  assert.equal(await page.locator("#draft ~ .error, section .error[role=alert]").count(), 0, "no error before anything is typed");
  await page.getByLabel("Kind of condition").selectOption("not_reopened_within");
  await page.getByLabel("Hours after finishing").fill("48");
  await page.getByRole("button", { name: "Save rule" }).click();
  await page.waitForURL(/rule_saved=/);
  await page.getByText(/Rule v1 of .Billing question. saved/).waitFor();

  // 4. A key, made in place, copied, and written into the snippet.
  await home(page);
  assert.deepEqual(await done(page), ["team", "workflow", "rule"]);
  await page.getByRole("button", { name: "Make a key for all workflows" }).click();
  const secret = (await page.locator("#first-key .secret-value").textContent()).trim();
  assert.match(secret, /^\S{20,}$/);
  await page.locator("#first-key").getByRole("button", { name: "Copy" }).click();
  await page.locator("#first-key").getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.waitForFunction(() => document.querySelector("ol.checklist li[data-step=key].done"));
  const snippet = await page.locator("#first-batch pre").first().textContent();
  assert.ok(snippet.includes(`export FINISHLINE_KEY=${secret}`), snippet);
  assert.ok(snippet.includes('"workflow": "support-triage", "task_type": "billing-question"'), snippet);

  // 5. The first batch, exactly as the page gives it.
  const body = snippet.slice(snippet.indexOf("-d '") + 4, snippet.lastIndexOf("'"));
  const sent = await fetch(`${URL_}/api/v1/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body,
  });
  assert.equal(sent.status, 200, await sent.text());
  await home(page);
  assert.equal(await page.locator("section.setup").count(), 0, "every step done: the checklist gives way");
  await page.locator("table.figures").getByRole("link", { name: "Support triage" }).waitFor();
  assert.deepEqual(problems, []);
});
