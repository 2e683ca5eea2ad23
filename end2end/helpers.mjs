// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core.
import { chromium } from "playwright-core";

export const BASE = process.env.FINISHLINE_URL ?? "http://127.0.0.1:3000";

export async function openBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/// A page that fails the test on any console error or failed request.
export async function newPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems = [];
  page.on("console", (msg) => msg.type() === "error" && !msg.text().startsWith("Failed to load resource") && problems.push(`console: ${msg.text()}`));
  page.on("response", (res) => res.status() >= 400 && problems.push(`${res.status()}: ${res.url()}`));
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  // A request cut short because the page navigated away (net::ERR_ABORTED) is not a fault.
  page.on("requestfailed", (req) => req.failure()?.errorText !== "net::ERR_ABORTED" && problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  return { page, problems };
}

export async function screenshot(page, name) {
  const dir = process.env.FINISHLINE_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

/// The demo accounts (demo data only: their passwords are public).
export const DEMO = {
  admin: ["admin@demo.finishline.test", "demo-admin-password"],
  owner: ["owner@demo.finishline.test", "demo-owner-password"],
  finance: ["finance@demo.finishline.test", "demo-finance-password"],
  reviewer: ["reviewer@demo.finishline.test", "demo-reviewer-password"],
};

/// Signs in through the sign-in form as a demo role and waits for the landing page. With
/// JavaScript on, it first lets the sign-in page finish loading (leaving earlier would cut its
/// script downloads short).
export async function signIn(page, role, next = "", { javaScript = true } = {}) {
  const [email, password] = DEMO[role];
  await page.goto(`${BASE}/sign-in${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  if (javaScript) await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith("/sign-in")),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
}
