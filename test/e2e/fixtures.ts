import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test as base, expect, type Page } from "@playwright/test";

/** Every page fails its test on a console error or an uncaught exception (CSP violations included). */
export const test = base.extend<{ page: Page }>({
  page: async ({ page, javaScriptEnabled }, use) => {
    const problems: string[] = [];
    page.on("console", (message) => {
      // Chrome reports every 4xx document as "Failed to load resource"; form errors answer 400
      // and rate limits 429 by design. Failed subresources are caught below instead.
      if (message.type() !== "error" || message.text().startsWith("Failed to load resource")) return;
      problems.push(`console.error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("response", (response) => {
      const type = response.request().resourceType();
      if (response.status() >= 400 && type !== "document" && type !== "fetch") {
        problems.push(`${type} ${response.url()} answered ${response.status()}`);
      }
    });
    page.on("requestfailed", (request) => {
      const reason = request.failure()?.errorText;
      if (reason === "net::ERR_ABORTED") return;
      // With JavaScript disabled, Chromium refuses every script fetch and reports it this way.
      if (!javaScriptEnabled && request.resourceType() === "script" && reason === "csp") return;
      problems.push(`${request.resourceType()} ${request.url()} failed: ${request.failure()?.errorText}`);
    });
    await use(page);
    expect(problems, problems.join("\n")).toEqual([]);
  },
});

export { expect };

export const PASSWORD = "correct horse battery";

export function uniqueEmail(label: string) {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export async function signUp(page: Page, email: string, workspaceName: string) {
  await page.goto("/signup");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Workspace name").fill(workspaceName);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/integration-connections$/);
  await expect(page.getByRole("heading", { name: "Connections", exact: true })).toBeVisible();
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/**
 * Chooses a config value from the provider's own list on a settings form (decision 023): first
 * searching the list (Enter in its search box) when the value is not among those shown.
 */
export async function choose(page: Page, label: string, option: { value: string } | { label: string }, search?: string) {
  if (search) {
    const box = page.getByLabel(`Search ${label.toLowerCase()}`, { exact: true });
    await box.fill(search);
    await box.press("Enter");
    await expect(page.getByText(`match “${search}”`)).toBeVisible();
  }
  await page.getByLabel(label, { exact: true }).selectOption(option);
}

/** Shows the choices that depend on a parent just chosen (a repository's labels, a team's states…). */
export async function showDependents(page: Page, parentLabel: string) {
  await page.getByRole("button", { name: new RegExp(`^Show .* for this ${parentLabel.toLowerCase()}$`) }).click();
  // A GET of the form: with JavaScript on, the page is drawn again once the address changed.
  await expect(page).toHaveURL(/[?&]show=/);
}

/** Opens the settings page from a connection's page. */
export async function editSettings(page: Page) {
  await page.getByRole("link", { name: "Edit settings" }).click();
  await expect(page.getByRole("heading", { name: /^Settings of / })).toBeVisible();
}

/** Switches a picker to a text box, for a value the provider's list does not offer. */
export async function typeInstead(page: Page, label: string) {
  await page
    .locator(".picker", { has: page.getByLabel(label, { exact: true }) })
    .getByRole("button", { name: "Type it instead" })
    .click();
  await expect(page.getByRole("textbox", { name: label, exact: true })).toBeVisible();
}

/**
 * Runs one SQL statement on the browser tests' local D1 from outside the running app, for a state
 * no browser can bring about in a test's time. It goes straight to the SQLite file (WAL mode) and
 * holds the write lock for about a millisecond: `wrangler d1 execute` held it for the life of a
 * second runtime, and the app, which does not wait for a lock, failed a request of the other test
 * worker with SQLITE_BUSY meanwhile (seen in CI). Our side waits up to 5 s for the app's writes.
 * Returns the rows the statement returned.
 */
export function executeOnLocalD1(sql: string): Promise<unknown[]> {
  const folder = join(".wrangler", "e2e", "d1", "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(folder).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (!file) throw new Error(`no local D1 database in ${folder}`);
  const db = new DatabaseSync(join(folder, file), { timeout: 5_000 });
  try {
    return Promise.resolve(db.prepare(sql).all());
  } finally {
    db.close();
  }
}
