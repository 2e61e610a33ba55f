import { expectAccessible } from "./axe";
import { expect, signUp, test, uniqueEmail } from "./fixtures";

test("an owner adds a member, who switches to the shared workspace", async ({ page, browser }) => {
  const owner = uniqueEmail("owner");
  const member = uniqueEmail("member");
  const suffix = Math.random().toString(36).slice(2, 6);

  const memberContext = await browser.newContext();
  const memberPage = await memberContext.newPage();
  await signUp(memberPage, member, `Member home ${suffix}`);

  await signUp(page, owner, `Shared ${suffix}`);
  await page.getByRole("link", { name: "Workspace settings" }).click();
  await page.getByLabel("E-mail").fill(member);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("cell", { name: member, exact: true })).toBeVisible();
  await expectAccessible(page, "workspace settings, a member added");

  await memberPage.reload();
  await memberPage.getByLabel("Active workspace").selectOption({ label: `Shared ${suffix}` });
  await memberPage.getByRole("button", { name: "Switch" }).click();
  await expect(memberPage.locator("#workspace-switcher option:checked")).toHaveText(`Shared ${suffix}`);
  await memberPage.getByRole("link", { name: "Workspace settings" }).click();
  await expect(memberPage.getByText("you are a member")).toBeVisible();
  await expect(memberPage.getByRole("cell", { name: new RegExp(owner) })).toBeVisible();
  await expectAccessible(memberPage, "workspace settings, as a member");
  // Members read the audit trail (the owner adding them is in it) but do not export it.
  await memberPage.getByRole("link", { name: "Open the audit trail" }).click();
  await expect(memberPage.locator(".audit-table")).toContainText(`Member ${member}: Added`);
  await expect(memberPage.getByRole("link", { name: "Export CSV" })).toHaveCount(0);
  await expectAccessible(memberPage, "audit trail, as a member");
  await memberContext.close();

  // Removing asks first (decision 024): checked here, then cancelled.
  await page.getByRole("button", { name: `Remove… ${member}` }).click();
  await expect(page.getByRole("heading", { name: `Remove ${member} from Shared ${suffix}?` })).toBeVisible();
  await expectAccessible(page, "workspace settings, removing a member");
  await page.getByRole("link", { name: "Cancel" }).click();
  await expect(page.getByRole("cell", { name: member, exact: true })).toBeVisible();
});

test("adding an unknown e-mail explains what to do", async ({ page }) => {
  await signUp(page, uniqueEmail("owner"), "Solo");
  await page.goto("/settings/workspace");
  await page.getByLabel("E-mail").fill(uniqueEmail("ghost"));
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText("No SpokeDo account uses this e-mail address. Ask them to sign up first.")).toBeVisible();
  await expectAccessible(page, "workspace settings, unknown e-mail");
});

test("creating a second workspace makes it active", async ({ page }) => {
  await signUp(page, uniqueEmail("multi"), "First");
  await page.goto("/settings/workspace");
  await page.getByRole("link", { name: "Create a workspace" }).click();
  await expectAccessible(page, "new workspace");
  await page.getByLabel("Workspace name").fill("Second");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(/\/integration-connections$/);
  await expect(page.locator("#workspace-switcher option:checked")).toHaveText("Second");
  await expectAccessible(page, "connections, with a workspace switcher");
  await page.getByLabel("Active workspace").selectOption({ label: "First" });
  await page.getByRole("button", { name: "Switch" }).click();
  await expect(page.locator("#workspace-switcher option:checked")).toHaveText("First");
});
