import { expect, signUp, test, uniqueEmail } from "./fixtures";

test("an intent inherits its connection's defaults and overrides one field", async ({ page }) => {
  test.slow();
  await signUp(page, uniqueEmail("intents"), "Intents Co");
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: /^GitHub\b/ }).check();
  await page.getByLabel("Connection name").fill("github-main");
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.getByRole("button", { name: "Approve" }).click();
  await page.getByLabel("Default repository").fill("octocat/hello-world");
  await page.getByLabel("Default labels").fill("insight");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(/Settings saved(: .* confirmed what they point at)?\./)).toBeVisible();

  await page.getByRole("link", { name: "Intents" }).click();
  await page.getByRole("link", { name: "Create an intent" }).click();
  await page.getByLabel("Name").fill("triage-bugs");
  await page.getByLabel("Connection").selectOption({ label: "github-main (GitHub)" });
  await page.getByRole("button", { name: "Create intent" }).click();
  await expect(page.getByText("Created triage-bugs.")).toBeVisible();
  await expect(page.getByRole("row", { name: /Default repository/ })).toContainText("inherited from the connection");

  await page.getByLabel("Default repository").fill("octocat/spokedo-inbox");
  await page.getByRole("button", { name: "Save intent" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const repository = page.getByRole("row", { name: /Default repository/ });
  await expect(repository).toContainText("octocat/spokedo-inbox");
  await expect(repository).toContainText("overridden by this intent");
  await expect(page.getByRole("row", { name: /Default labels/ })).toContainText("inherited from the connection");

  await page.getByLabel("Default repository").fill("");
  await page.getByRole("button", { name: "Save intent" }).click();
  await expect(page.getByRole("row", { name: /Default repository/ })).toContainText("octocat/hello-world");

  await page.getByRole("link", { name: "github-main" }).first().click();
  await expect(page.getByText("1 intent depends on this connection.")).toBeVisible();
});
