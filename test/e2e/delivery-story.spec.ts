import type { Page } from "@playwright/test";
import { expectAccessible } from "./axe";
import { choose, editSettings, typeInstead, expect, signUp, test, uniqueEmail } from "./fixtures";

const APP = `http://localhost:${Number(process.env.E2E_PORT ?? 8790)}`;
const EMULATOR = `http://localhost:${Number(process.env.E2E_PORT ?? 8790) + 1}`;

/** Deliveries run in the background of the request: reload until the log shows the outcome. */
async function waitForLog(page: Page, text: string | RegExp) {
  await expect(async () => {
    await page.reload();
    await expect(page.locator(".integration-log")).toContainText(text, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
}

async function sendInsight(page: Page, title: string) {
  await page.goto("/insights/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Body").fill("db-1 is at 93% disk usage.");
  await page.getByRole("button", { name: "Send insight" }).click();
  await expect(page.getByRole("heading", { name: title, level: 1 })).toBeVisible();
}

/**
 * Each project revokes its own provider account, one no other spec uses, because the emulator
 * is shared by every browser test running at the same time.
 */
const STORIES = {
  "javascript-disabled": {
    provider: "GitHub",
    slug: "github",
    account: /^hubot\b/,
    accountId: 1002,
    defaultField: ["Repository", "hubot/ops"],
    // Typed by hand: a label the repository does not have yet (GitHub creates it).
    overrideField: ["Labels", "from-spokedo"],
    authError: "Bad credentials",
  },
  "javascript-enabled": {
    provider: "Linear",
    slug: "linear",
    account: /^Emu Labs\b/,
    accountId: "1e000000-0000-4000-8000-000000000002",
    defaultField: ["Team", "7e000000-0000-4000-8000-000000000003"],
    overrideField: ["Team", "7e000000-0000-4000-8000-000000000003"],
    authError: "Authentication required",
  },
} as const;

test("connect, override, deliver, get revoked, re-authorize, redeliver what failed, deliver again", async ({ page, request }, testInfo) => {
  test.slow();
  const story = STORIES[testInfo.project.name as keyof typeof STORIES];
  await signUp(page, uniqueEmail("story"), "Story Co");

  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: new RegExp(`^${story.provider}\\b`) }).check();
  await page.getByLabel("Connection name").fill(`${story.slug}-main`);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.getByRole("radio", { name: story.account }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  const connectionUrl = page.url();
  await editSettings(page);
  await choose(page, story.defaultField[0], { value: story.defaultField[1] });
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(/Settings saved(: .* confirmed what they point at)?\./)).toBeVisible();
  // Saving brings the scheduled check round within a minute: fire the Cron Trigger now and wait for
  // that check, so it cannot find the revocation below before the story's own delivery does.
  expect((await request.get(`${APP}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`)).ok()).toBe(true);
  await expect(async () => {
    await page.reload();
    await expect(page.locator(".status-card")).toContainText("Last checked", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });

  await page.goto("/intents/new");
  await page.getByLabel("Name").fill("triage");
  await page.getByLabel("Connection").selectOption({ label: `${story.slug}-main (${story.provider})` });
  await page.getByRole("button", { name: "Create intent" }).click();
  if (story.slug === "github") {
    await typeInstead(page, story.overrideField[0]);
    await page.getByLabel(story.overrideField[0], { exact: true }).fill(story.overrideField[1]);
  } else await choose(page, story.overrideField[0], { value: story.overrideField[1] });
  await page.getByRole("button", { name: "Save intent" }).click();
  await expect(page.getByRole("row", { name: new RegExp(story.overrideField[0]) })).toContainText("overridden by this intent");
  await expectAccessible(page, "intent, overridden");

  await sendInsight(page, "Disk almost full");
  await waitForLog(page, "Delivered");
  const itemLink = page.getByRole("link", { name: "Created item" });
  await expect(itemLink).toHaveAttribute("href", new RegExp(`/${story.slug}/`));
  await expectAccessible(page, "insight, delivered");

  // The user revokes SpokeDo on the provider's side.
  const revoked = await request.post(`${EMULATOR}/__emulator/revoke`, { data: { provider: story.slug, accountId: story.accountId } });
  expect(revoked.ok()).toBe(true);

  await sendInsight(page, "Second alert");
  const failedInsight = page.url();
  await waitForLog(page, "Failed");
  // The provider's refusal, either as its answer to the delivery or, when SpokeDo's scheduled
  // check or refresh got there first (the cron fires every minute), as the revoked status it left.
  await expect(page.locator(".integration-log")).toContainText(
    new RegExp(`${story.authError}|Not delivered: connection ${story.slug}-main is revoked \\(`),
  );
  await expectAccessible(page, "insight, failed");

  const refusedTheDelivery = ((await page.locator(".integration-log").textContent()) ?? "").includes(story.authError);

  await page.goto(connectionUrl);
  await expect(page.locator(".status-card")).toContainText("Revoked");
  // Revoked by the delivery's refusal: the status box links to that insight. Revoked first by the
  // scheduled check: it says what the provider refused instead.
  if (refusedTheDelivery) {
    await expect(page.getByRole("link", { name: "see the insight" })).toHaveAttribute("href", new URL(failedInsight).pathname);
  } else {
    await expect(page.locator(".status-card")).toContainText(/refused to refresh the token|no longer accepts the token/);
  }
  await expectAccessible(page, "connection, revoked by the provider");

  // The status box carries the one next action.
  await page
    .locator(".status-card")
    .getByRole("button", { name: /^Re-authorize with / })
    .click();
  await page.getByRole("radio", { name: story.account }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByText("Re-authorized: fresh tokens are in place and the connection is active.")).toBeVisible();

  // What failed while the connection was revoked goes out again, as the same delivery.
  await page.getByRole("button", { name: "Redeliver 1 failed delivery" }).click();
  await expect(page.getByText(/^Redelivering 1 failed delivery/)).toBeVisible();
  await expectAccessible(page, "connection, redelivering");
  await page.goto(failedInsight);
  await waitForLog(page, "Delivered");
  await expect(page.getByRole("link", { name: "Created item" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Retry \d+ failed/ })).toHaveCount(0);

  await sendInsight(page, "Third alert");
  await waitForLog(page, "Delivered");
});
