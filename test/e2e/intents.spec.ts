import { expectAccessible } from "./axe";
import { choose, editSettings, expect, showDependents, signUp, test, uniqueEmail } from "./fixtures";

test("an intent inherits its connection's defaults and overrides one field", async ({ page }) => {
  test.slow();
  await signUp(page, uniqueEmail("intents"), "Intents Co");
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: /^GitHub\b/ }).check();
  await page.getByLabel("Connection name").fill("github-main");
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.getByRole("button", { name: "Approve" }).click();
  await editSettings(page);
  await choose(page, "Repository", { value: "octocat/hello-world" });
  await showDependents(page, "Repository");
  await page.getByLabel("Labels", { exact: true }).selectOption(["area/001"]);
  await expectAccessible(page, "connection settings, pickers with dependents");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(/Settings saved(: .* confirmed what they point at)?\./)).toBeVisible();

  await expectAccessible(page, "connection, settings saved");
  await page.getByRole("link", { name: "Intents" }).click();
  await page.getByRole("link", { name: "Create an intent" }).click();
  await expectAccessible(page, "new intent");
  await page.getByLabel("Name").fill("triage-bugs");
  await page.getByLabel("Connection").selectOption({ label: "github-main (GitHub)" });
  await page.getByRole("button", { name: "Create intent" }).click();
  await expect(page.getByText("Created triage-bugs.")).toBeVisible();
  await expectAccessible(page, "intent, inheriting");
  await expect(page.getByRole("row", { name: /Repository/ })).toContainText("inherited from the connection");

  await choose(page, "Repository", { value: "octocat/spokedo-inbox" });
  await page.getByRole("button", { name: "Save intent" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const repository = page.getByRole("row", { name: /Repository/ });
  await expect(repository).toContainText("octocat/spokedo-inbox");
  await expect(repository).toContainText("overridden by this intent");
  await expect(page.getByRole("row", { name: /Labels/ })).toContainText("inherited from the connection");
  await expectAccessible(page, "intent, one field overridden");

  await choose(page, "Repository", { label: "Inherit the connection's default" });
  await page.getByRole("button", { name: "Save intent" }).click();
  await expect(page.getByRole("row", { name: /Repository/ })).toContainText("octocat/hello-world");

  await page.getByRole("link", { name: "github-main" }).first().click();
  await expect(page.getByText("1 intent depends on this connection.")).toBeVisible();
  await expectAccessible(page, "connection, with an intent");

  // Deleting asks first; Cancel keeps it, the confirmed button deletes it.
  await page.getByRole("link", { name: "triage-bugs" }).first().click();
  await page.getByRole("link", { name: "Delete intent…" }).click();
  await expect(page.getByRole("heading", { name: "Delete triage-bugs?" })).toBeVisible();
  await expectAccessible(page, "intent, deleting");
  await page.getByRole("link", { name: "Cancel" }).click();
  await expect(page.getByRole("heading", { name: "triage-bugs", level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "Delete intent…" }).click();
  await page.getByRole("button", { name: "Delete triage-bugs" }).click();
  await expect(page.getByText("Deleted triage-bugs.")).toBeVisible();
  await expectAccessible(page, "intents, after deleting one");
});

test("revoking an API key asks first", async ({ page }) => {
  await signUp(page, uniqueEmail("keys"), "Keys Co");
  await page.goto("/settings/workspace");
  await page.getByLabel("New key name").fill("ci");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByText("New key (copy it now")).toBeVisible();
  await expectAccessible(page, "workspace settings, a new key");
  await page.getByRole("button", { name: "Revoke… ci" }).click();
  await expect(page.getByRole("heading", { name: "Revoke the API key ci?" })).toBeVisible();
  await expectAccessible(page, "workspace settings, revoking a key");
  await page.getByRole("button", { name: "Revoke ci" }).click();
  await expect(page.getByRole("row", { name: /ci/ })).toContainText("revoked");
  await expectAccessible(page, "workspace settings, a revoked key");
});
