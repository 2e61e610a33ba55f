import type { Page } from "@playwright/test";
import { expectAccessible } from "./axe";
import { editSettings, typeInstead, expect, signUp, test, uniqueEmail } from "./fixtures";

const PROVIDERS = [
  { id: "github", name: "GitHub", account: "octocat" },
  { id: "slack", name: "Slack", account: "Emu Corp" },
  { id: "notion", name: "Notion", account: "Emu Notes" },
  { id: "linear", name: "Linear", account: "Emu Inc" },
  { id: "trello", name: "Trello", account: "Emu Trello" },
] as const;

async function startConnect(page: Page, providerName: string, name: string) {
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: new RegExp(`^${providerName}\\b`) }).check();
  await page.getByLabel("Connection name").fill(name);
  await page.getByRole("button", { name: "Authorize" }).click();
  // The provider's (emulated) consent page: a plain form that works without JavaScript.
  await expect(page.getByRole("button", { name: "Approve" })).toBeVisible();
}

test("connect every provider, configure, test, re-authorize and delete", async ({ page }) => {
  test.slow();
  await signUp(page, uniqueEmail("connections"), "Connections Inc");
  await page.getByRole("link", { name: "Connect an account" }).click();
  await expectAccessible(page, "new connection");

  for (const provider of PROVIDERS) {
    await startConnect(page, provider.name, `${provider.id}-main`);
    await page.getByRole("button", { name: "Approve" }).click();
    await expect(page.getByRole("heading", { name: `${provider.id}-main`, level: 1 })).toBeVisible();
    await expect(page.getByText(`Connected ${provider.id}-main.`)).toBeVisible();
    await expect(page.locator(".lead")).toContainText(provider.account);
  }

  await page.getByRole("link", { name: "Connections", exact: true }).first().click();
  await expect(page.getByText("5 connections in")).toBeVisible();
  await expectAccessible(page, "connections, five active");
  for (const provider of PROVIDERS) {
    const row = page.getByRole("row", { name: new RegExp(`${provider.id}-main`) });
    await expect(row).toContainText(provider.account);
    await expect(row).toContainText("Active");
    await expect(row).toContainText("never");
  }

  await page.getByRole("link", { name: "github-main" }).click();
  await editSettings(page);
  // Typed by hand, validated like a choice.
  await typeInstead(page, "Repository");
  await page.getByLabel("Repository", { exact: true }).fill("not a repo");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.locator(".field-errors").getByText("Use owner/name, like octocat/hello-world.")).toBeVisible();
  await expect(page.locator(".error-summary")).toBeFocused();
  await expectAccessible(page, "connection settings, refused");
  await page
    .locator(".error-summary")
    .getByRole("link", { name: /Repository: Use owner\/name/ })
    .click();
  await expect(page.getByLabel("Repository", { exact: true })).toBeInViewport();
  await page.getByLabel("Repository", { exact: true }).fill("octocat/hello-world");
  await page.getByLabel("Labels", { exact: true }).fill("insight, triage");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(/Settings saved(: .* confirmed what they point at)?\./)).toBeVisible();
  await expect(page.locator("#connection-settings")).toContainText("octocat/hello-world");

  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByText("GitHub confirmed the connection works (octocat).")).toBeVisible();
  await expectAccessible(page, "connection, active, tested");

  await page.getByRole("button", { name: "Re-authorize" }).click();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByText("Re-authorized: fresh tokens are in place and the connection is active.")).toBeVisible();
  await expect(page.locator("#connection-settings")).toContainText("octocat/hello-world");

  await page.getByRole("link", { name: "Delete connection…" }).click();
  await expect(page.getByRole("heading", { name: "Delete github-main?" })).toBeVisible();
  await expectAccessible(page, "connection, deleting");
  await page.getByRole("button", { name: "Delete github-main" }).click();
  await expect(page.getByText("Deleted github-main. The token, refresh token included, was revoked at GitHub.")).toBeVisible();
  await expect(page.getByText("4 connections in")).toBeVisible();
});

test("denying at the provider returns to the form with the choices kept", async ({ page }) => {
  await signUp(page, uniqueEmail("deny"), "Deny Co");
  await startConnect(page, "Slack", "slack-eng");
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page.getByText("You cancelled the authorization at Slack. Nothing was changed.")).toBeVisible();
  await expect(page.getByLabel("Connection name")).toHaveValue("slack-eng");
  await expect(page.getByRole("radio", { name: /^Slack\b/ })).toBeChecked();
  await expectAccessible(page, "new connection, denied at the provider");
});

test("a duplicate name gets a field error", async ({ page }) => {
  await signUp(page, uniqueEmail("dup"), "Dup Co");
  await startConnect(page, "Notion", "notion-wiki");
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByText("Connected notion-wiki.")).toBeVisible();
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: /^Linear\b/ }).check();
  await page.getByLabel("Connection name").fill("notion-wiki");
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page.locator(".field-errors").getByText("This workspace already has a connection named notion-wiki.")).toBeVisible();
  await expectAccessible(page, "new connection, duplicate name");
});
