import type { Page } from "@playwright/test";
import { expectAccessible } from "./axe";
import { executeOnLocalD1, expect, signUp, test, uniqueEmail } from "./fixtures";

// The pages and states the stories do not reach, each checked by axe-core (the stories check
// theirs as they go), with JavaScript off and on (the two projects).

/** Connects a Trello account (no browser test puts a fault on Trello) and returns the connection's id. */
async function connectTrello(page: Page, name: string, account = /^Emu Trello\b/) {
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: /^Trello\b/ }).check();
  await page.getByLabel("Connection name").fill(name);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.getByRole("radio", { name: account }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  return new URL(page.url()).pathname.split("/").at(-1)!;
}

test("pages no story reaches: signed out, not found, a failed callback, refused forms, webhooks", async ({ page }) => {
  await page.goto("/");
  await expectAccessible(page, "start page");
  await page.goto("/login");
  await expectAccessible(page, "sign in");

  // The focus is a solid outline, kept in forced-colours mode (axe-core does not check focus).
  await page.keyboard.press("Tab");
  const skipLink = page.getByRole("link", { name: "Skip to content" });
  await expect(skipLink).toBeFocused();
  await expect(skipLink).toHaveCSS("outline-style", "solid");
  await expect(skipLink).toHaveCSS("outline-width", "3px");
  await page.getByLabel("E-mail").focus();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.emulateMedia({ forcedColors: "active" });
  await expect(page.getByLabel("Password")).toHaveCSS("outline-style", "solid");
  await page.emulateMedia({ forcedColors: "none" });

  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expectAccessible(page, "404, signed out");

  await signUp(page, uniqueEmail("a11y-pages"), "Pages Co");
  await page.goto("/integration-connections/not-a-connection");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expectAccessible(page, "404, signed in");
  await page.goto("/integration-connections/callback/github?state=forged&code=forged");
  await expect(page.getByRole("heading", { name: "This authorization cannot be finished" })).toBeVisible();
  await expectAccessible(page, "callback failure");
  await page.goto("/integration-connections/new");
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page.locator(".error-summary")).toBeFocused();
  await expectAccessible(page, "new connection, refused");

  await page.goto("/settings/workspace/webhooks/new");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await expect(page.locator(".error-summary")).toBeFocused();
  await expectAccessible(page, "new webhook endpoint, refused");
  await page.getByLabel("URL").fill("https://hooks.example.com/spokedo");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await expect(page.getByRole("heading", { name: "Endpoint created" })).toBeVisible();
  await expectAccessible(page, "new webhook endpoint, created");
  await page.getByRole("link", { name: "Go to the endpoint" }).click();
  await expect(page.getByRole("heading", { name: "https://hooks.example.com/spokedo", level: 1 })).toBeVisible();
  await expectAccessible(page, "webhook endpoint");
  // Disabled by SpokeDo after failing for days: written to the database (days of failures take days).
  const endpointId = new URL(page.url()).pathname.split("/").at(-1)!;
  const disabled = await executeOnLocalD1(
    `UPDATE webhook_endpoints SET enabled = 0, disabled_at = ${Date.now()}, consecutive_failures = 40, ` +
      `disabled_reason = 'Every attempt failed for 3 days (last: HTTP 500).' WHERE id = '${endpointId}' RETURNING id`,
  );
  expect(disabled).toHaveLength(1);
  await page.reload();
  await expect(page.getByRole("heading", { name: "SpokeDo disabled this endpoint" })).toBeVisible();
  await expectAccessible(page, "webhook endpoint, disabled by SpokeDo");
  await page.goto("/settings/workspace");
  await expectAccessible(page, "workspace settings, with an endpoint");

  // The audit trail: what was just done, filtered, and a filter nothing matches.
  await page.getByRole("link", { name: "Open the audit trail" }).click();
  await expect(page.getByRole("heading", { name: "Audit trail", level: 1 })).toBeVisible();
  await expect(page.locator(".audit-table")).toContainText("Webhook https://hooks.example.com/…: Created");
  await expectAccessible(page, "audit trail");
  await page.getByLabel("What").selectOption("webhook");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByRole("link", { name: "Clear" })).toBeVisible();
  await expectAccessible(page, "audit trail, filtered");
  await page.getByLabel("What").selectOption("member.left");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No change matches these filters.")).toBeVisible();
  await expectAccessible(page, "audit trail, nothing matches");

  await page.goto("/workspaces/new");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.locator(".error-summary")).toBeFocused();
  await expectAccessible(page, "new workspace, refused");
});

test("connections expired, in error, disabled, revoked and re-authorized as another account; a failed delivery", async ({ page }) => {
  test.slow();
  await signUp(page, uniqueEmail("a11y-statuses"), "Statuses Co");
  const expired = await connectTrello(page, "trello-expired");
  const error = await connectTrello(page, "trello-error");
  const revoked = await connectTrello(page, "trello-revoked");

  // These take a provider's refusal or an outage: written to the database here.
  const rows = await executeOnLocalD1(
    `UPDATE connections SET status = CASE id WHEN '${expired}' THEN 'expired' WHEN '${error}' THEN 'error' ELSE 'revoked' END, ` +
      `status_reason = 'Set by the accessibility test.', status_changed_at = ${Date.now()} ` +
      `WHERE id IN ('${expired}', '${error}', '${revoked}') RETURNING id`,
  );
  expect(rows).toHaveLength(3);

  for (const [id, status] of [
    [expired, "Expired"],
    [error, "Error"],
    [revoked, "Revoked"],
  ] as const) {
    await page.goto(`/integration-connections/${id}`);
    await expect(page.locator(".status-card")).toContainText(status);
    await expectAccessible(page, `connection, ${status.toLowerCase()}`);
  }

  // An authorization that ends within the warning window: the page says when, and how to keep it.
  const expiring = await connectTrello(page, "trello-expiring");
  const ends = await executeOnLocalD1(
    `UPDATE connections SET access_token_expires_at = ${Date.now() + 3 * 86_400_000} WHERE id = '${expiring}' RETURNING id`,
  );
  expect(ends).toHaveLength(1);
  await page.reload();
  await expect(page.locator(".expiring-note")).toContainText("The authorization ends");
  await expectAccessible(page, "connection, authorization ending soon");
  await page.goto(`/integration-connections/${revoked}`);

  // Re-authorized as another Trello account: the connection asks which one to keep.
  await page.getByRole("button", { name: "Re-authorize with Trello" }).click();
  await page.getByRole("radio", { name: /^Trello Mate\b/ }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("heading", { name: "You authorized a different Trello account" })).toBeVisible();
  await expectAccessible(page, "connection, re-authorization waiting for a choice of account");

  await page.goto(`/integration-connections/${error}`);
  await page.getByRole("button", { name: "Disable deliveries" }).click();
  await expect(page.locator(".status-card")).toContainText("Disabled");
  await expectAccessible(page, "connection, in error and disabled");

  await page.goto("/integration-connections");
  await expect(page.getByText("4 connections in")).toBeVisible();
  await expectAccessible(page, "connections, three needing attention and one ending soon");

  // An intent on the expired connection: an insight fails there.
  await page.goto("/intents/new");
  await page.getByLabel("Name").fill("to-expired");
  await page.getByLabel("Connection").selectOption({ label: "trello-expired (Trello, expired)" });
  await page.getByRole("button", { name: "Create intent" }).click();
  await expect(page.getByText("Created to-expired.")).toBeVisible();
  await expectAccessible(page, "intent, connection expired");
  await page.goto("/intents");
  await expectAccessible(page, "intents, connection expired");
  await page.goto("/insights/new");
  await page.getByLabel("Title").fill("Nowhere to go");
  await page.getByLabel("Body").fill("The **only** intent's connection has `expired`.");
  await page.getByRole("button", { name: "Send insight" }).click();
  await expect(page.getByRole("heading", { name: "Nowhere to go", level: 1 })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.locator(".integration-log")).toContainText("Failed", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expectAccessible(page, "insight, failed delivery");
  await page.goto("/insights");
  await expectAccessible(page, "insights");
});
