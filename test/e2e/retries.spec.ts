import { expectAccessible } from "./axe";
import { choose, editSettings, expect, signUp, test, uniqueEmail } from "./fixtures";

const EMULATOR = `http://localhost:${Number(process.env.E2E_PORT ?? 8790) + 1}`;

/**
 * Each project rate-limits a provider no other browser test delivers through: the emulator's
 * faults are per provider and shared by every test running at the same time.
 */
const SETUPS = {
  "javascript-disabled": {
    provider: "Slack",
    slug: "slack",
    account: /^Emu Corp\b/,
    field: { label: "Channel", value: "C0ALERTS01", search: undefined },
  },
  "javascript-enabled": {
    provider: "Notion",
    slug: "notion",
    account: /^Emu Notes\b/,
    // 151 shared databases: the inbox is found by searching.
    field: { label: "Database", value: "d8000000-0000-4000-8000-000000000001", search: "Inbox" },
  },
} as const;

test("a 429 with Retry-After: 2 is retried by the queue seconds later and delivered, on a page that refreshes itself", async ({
  page,
  request,
}, testInfo) => {
  test.slow();
  const setup = SETUPS[testInfo.project.name as keyof typeof SETUPS];
  await signUp(page, uniqueEmail("retries"), "Retry Co");

  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: new RegExp(`^${setup.provider}\\b`) }).check();
  await page.getByLabel("Connection name").fill(`${setup.slug}-alerts`);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.getByRole("radio", { name: setup.account }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  await editSettings(page);
  await choose(page, setup.field.label, { value: setup.field.value }, setup.field.search);
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(/Settings saved(: .* confirmed what they point at)?\./)).toBeVisible();

  await page.goto("/intents/new");
  await page.getByLabel("Name").fill("alerts");
  await page.getByLabel("Connection").selectOption({ label: `${setup.slug}-alerts (${setup.provider})` });
  await page.getByRole("button", { name: "Create intent" }).click();
  await expect(page.getByRole("button", { name: "Save intent" })).toBeVisible();

  const fault = await request.post(`${EMULATOR}/__emulator/faults`, {
    data: { provider: setup.slug, endpoint: "deliver", fault: { kind: "rate_limited", retryAfterSeconds: 2, status: 429 }, times: 1 },
  });
  expect(fault.ok()).toBe(true);

  await page.goto("/insights/new");
  await page.getByLabel("Title").fill("Queue depth rising");
  await page.getByLabel("Body").fill("orders-worker is 4,000 messages behind.");
  await page.getByRole("button", { name: "Send insight" }).click();
  await expect(page.getByRole("heading", { name: "Queue depth rising", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Refresh now" })).toBeVisible();
  await expectAccessible(page, "insight, delivery pending");

  // No reload here: while a delivery is pending the page refreshes itself (<meta http-equiv>).
  const log = page.locator(".integration-log");
  await expect(log.locator("tr.log-row--succeeded")).toHaveCount(1, { timeout: 45_000 });
  await expect(log.locator("tr.log-row--retrying")).toHaveCount(1);
  await expect(log.locator("tr.log-row--retrying")).toContainText("Rate limit: SpokeDo retries after the wait the provider asked for");
  await expect(page.getByRole("link", { name: "Refresh now" })).toHaveCount(0);
  await expectAccessible(page, "insight, retried and delivered");

  // The retry waited for what the provider asked (2 s), and not for the once-a-minute cron.
  const rateLimitedAt = Date.parse((await log.locator("tr.log-row--retrying time").getAttribute("datetime")) ?? "");
  const deliveredAt = Date.parse((await log.locator("tr.log-row--succeeded time").getAttribute("datetime")) ?? "");
  const gapSeconds = (deliveredAt - rateLimitedAt) / 1000;
  testInfo.annotations.push({ type: "retry gap", description: `${gapSeconds.toFixed(1)} s after the 429` });
  console.log(`[${testInfo.project.name}] 429 with Retry-After: 2 → delivered ${gapSeconds.toFixed(1)} s later`);
  expect(gapSeconds).toBeGreaterThanOrEqual(2);
  expect(gapSeconds).toBeLessThan(30);
});
