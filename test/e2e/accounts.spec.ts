import { expectAccessible } from "./axe";
import { PASSWORD, expect, signIn, signOut, signUp, test, uniqueEmail } from "./fixtures";

test("sign up lands on the empty connections page", async ({ page }) => {
  const email = uniqueEmail("signup");
  await signUp(page, email, "Acme Engineering");
  await expect(page.getByText("No connections yet")).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  // One workspace: its name, and no switcher.
  await expect(page.locator(".topbar__workspace")).toHaveText("Acme Engineering");
  await expect(page.getByLabel("Active workspace")).toHaveCount(0);
  await expectAccessible(page, "connections, none yet");
});

test("sign-up errors appear next to their fields", async ({ page }) => {
  await page.goto("/signup");
  await expectAccessible(page, "sign up");
  await page.getByLabel("E-mail").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".field-errors").getByText("Enter a valid e-mail address, like ada@example.com.")).toBeVisible();
  await expect(page.locator(".field-errors").getByText("Use at least 10 characters.")).toBeVisible();
  // The error summary at the top links to each field and has the focus.
  await expect(page.locator(".error-summary")).toBeFocused();
  // E-mail, password, and the workspace name left empty.
  await expect(page.locator(".error-summary").getByRole("link")).toHaveCount(3);
  await expect(page.locator(".field-errors").getByText("Name the workspace.")).toBeVisible();
  await expect(page.getByLabel("E-mail")).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page, "sign up, refused");
});

test("sign out ends the session; protected pages send you to sign in", async ({ page }) => {
  await signUp(page, uniqueEmail("signout"), "Acme");
  await signOut(page);
  await page.goto("/integration-connections");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fintegration-connections$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("sign in returns to the page that asked for it", async ({ page }) => {
  const email = uniqueEmail("signin");
  await signUp(page, email, "Acme");
  await signOut(page);
  await page.goto("/settings/workspace");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/workspace$/);
  await expect(page.getByRole("heading", { name: "Workspace settings" })).toBeVisible();
});

test("a wrong password gets one generic message and keeps the e-mail", async ({ page }) => {
  const email = uniqueEmail("wrong");
  await signUp(page, email, "Acme");
  await signOut(page);
  await signIn(page, email, "definitely not it");
  await expect(page.getByText("Wrong e-mail or password.")).toBeVisible();
  await expect(page.getByLabel("E-mail")).toHaveValue(email);
  await expectAccessible(page, "sign in, wrong password");
  // The password is never sent back in the page.
  expect(await page.getByLabel("Password").getAttribute("value")).toBeNull();
  expect(await page.content()).not.toContain("definitely not it");
});

test("repeated failures are rate limited", async ({ page }) => {
  // Seven PBKDF2 sign-ins in a row: give it the slow-test budget on a 2-core machine.
  test.slow();
  const email = uniqueEmail("limited");
  await signUp(page, email, "Acme");
  await signOut(page);
  for (let i = 0; i < 5; i++) {
    await signIn(page, email, `wrong password ${i}`);
    await expect(page.getByText("Wrong e-mail or password.")).toBeVisible();
  }
  await signIn(page, email);
  await expect(page.getByText(/Too many failed sign-ins\. Please wait \d+ minutes? before trying again\./)).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});
