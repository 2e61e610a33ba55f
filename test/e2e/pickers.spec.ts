import type { Page } from "@playwright/test";
import { expectAccessible } from "./axe";
import { choose, editSettings, expect, showDependents, signUp, test, uniqueEmail } from "./fixtures";

async function connect(page: Page, providerName: string, name: string, account?: RegExp) {
  await page.goto("/integration-connections/new");
  await page.getByRole("radio", { name: new RegExp(`^${providerName}\\b`) }).check();
  await page.getByLabel("Connection name").fill(name);
  await page.getByRole("button", { name: "Authorize" }).click();
  if (account) await page.getByRole("radio", { name: account }).check();
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await editSettings(page);
}

async function save(page: Page, providerName: string) {
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(`Settings saved: ${providerName} confirmed what they point at.`)).toBeVisible();
}

// The story: every default of the five providers set by choosing from what the provider
// listed, dependent lists shown after their parent, a 300-item list searched. Run with JavaScript
// off and on (the two projects).
test("each provider's defaults are chosen from its own lists, dependent choices after their parent", async ({ page }) => {
  test.slow();
  await signUp(page, uniqueEmail("pickers"), "Pickers Co");

  // GitHub, as hubot: 300+ repositories, found by searching.
  await connect(page, "GitHub", "github-main", /^hubot\b/);
  await expect(page.getByText("The first 100 are shown: search to find the others.")).toBeVisible();
  await expectAccessible(page, "connection settings, a long list");
  await choose(page, "Repository", { value: "hubot/svc-291" }, "svc-29");
  await showDependents(page, "Repository");
  await expect(page.getByLabel("Repository", { exact: true })).toHaveValue("hubot/svc-291");
  await choose(page, "Assignee", { value: "hubot" });
  await save(page, "GitHub");
  await expect(page.locator("#connection-settings")).toContainText("hubot/svc-291");

  // Slack: its channels, private ones the app is in marked as such.
  await connect(page, "Slack", "slack-main");
  await expect(page.getByLabel("Channel", { exact: true }).locator("option", { hasText: "#leads — private" })).toHaveCount(1);
  await choose(page, "Channel", { value: "C0ALERTS01" });
  await save(page, "Slack");

  // Notion: a database found among 151, then its properties with their types.
  await connect(page, "Notion", "notion-main");
  await choose(page, "Database", { value: "d8000000-0000-4000-8000-000000000001" }, "Inbox");
  await showDependents(page, "Database");
  await page.getByLabel("Property 1").selectOption("Status");
  await page.getByLabel("Value 1").fill("Inbox");
  await expectAccessible(page, "connection settings, property mappings");
  await save(page, "Notion");
  await expect(page.locator("#connection-settings")).toContainText("Status → Inbox");

  // Linear: a team, then that team's workflow states.
  await connect(page, "Linear", "linear-main");
  await choose(page, "Team", { label: "Engineering — ENG" });
  await showDependents(page, "Team");
  await choose(page, "Workflow state", { label: "Todo — unstarted" });
  await save(page, "Linear");

  // Trello: a board, then its open lists.
  await connect(page, "Trello", "trello-main");
  await choose(page, "Board", { label: "SpokeDo Inbox" });
  await showDependents(page, "Board");
  await expect(page.getByLabel("List", { exact: true }).locator("option")).toHaveText(["No default", "To Do", "Doing"]);
  await choose(page, "List", { label: "Doing" });
  await save(page, "Trello");
  await expect(page.locator("#connection-settings")).toContainText("5e1c00000000000000000002");
});
