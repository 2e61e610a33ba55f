import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { VaultDeps } from "~/lib/connections/vault.server";
import { processDueDeliveries } from "~/lib/delivery/outbox.server";
import { getSettings } from "~/lib/platform/settings.server";
import type { Emulator, Provider } from "../emulator";
import { connect } from "./connections-support";
import { type Browser, database, pageHtml, signedUpUser } from "./helpers";

export async function deliveryDeps(): Promise<VaultDeps> {
  const settings = getSettings(env);
  return { db: database(), settings, ring: await settings.keyRing! };
}

/** Runs due deliveries (as the Worker's background task and the cron do) until none is due at `now`. */
export async function settle(now = Date.now()) {
  const deps = await deliveryDeps();
  for (let round = 0; round < 20; round++) {
    await processDueDeliveries(deps, { now, limit: 100 });
    const due = await database()
      .selectFrom("deliveries")
      .select("id")
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .execute();
    if (due.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("deliveries did not settle");
}

export const DEFAULTS: Record<Provider, Record<string, string>> = {
  github: { "config.repository": "octocat/hello-world", "config.labels": "insight", "config.assignee": "octocat" },
  slack: { "config.channel": "C0ALERTS01", "config.username": "SpokeDo" },
  notion: {
    "config.databaseId": "d8000000-0000-4000-8000-000000000001",
    "config.propertyMappings[0].key": "Status",
    "config.propertyMappings[0].value": "Inbox",
    "config.propertyMappings[1].key": "Tags",
    "config.propertyMappings[1].value": "insight, automated",
  },
  linear: { "config.teamId": "7e000000-0000-4000-8000-000000000001" },
  trello: { "config.boardId": "5e1b00000000000000000001", "config.listId": "5e1c00000000000000000001" },
};

/** Connects `provider` in the browser's workspace, saves working settings and adds an intent on it. */
export async function addDeliveringIntent(
  browser: Browser,
  emulator: Emulator,
  provider: Provider,
  overrides: Record<string, string> = {},
) {
  const { id: connectionId } = await connect(browser, emulator, provider, `${provider}-main`);
  const saved = await browser.post(`/integration-connections/${connectionId}/settings`, {
    intent: "save",
    name: `${provider}-main`,
    ...DEFAULTS[provider],
  });
  expect(saved.status).toBe(303);
  const created = await browser.post("/intents/new", { name: `${provider}-intent`, connectionId: connectionId!, enabled: "on" });
  const intentId = created.headers.get("Location")!.split("/").pop()!;
  if (Object.keys(overrides).length) {
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: `${provider}-intent`,
      connectionId: connectionId!,
      enabled: "on",
      ...overrides,
    });
  }
  return { connectionId: connectionId!, intentId };
}

/** A signed-in user with one configured connection and one intent on it. */
export async function deliveringSetup(emulator: Emulator, provider: Provider, overrides: Record<string, string> = {}) {
  const user = await signedUpUser();
  return { ...user, ...(await addDeliveringIntent(user.browser, emulator, provider, overrides)) };
}

export async function sendInsight(browser: Browser, title = "Disk almost full", body = "db-1 is at 93% disk usage.") {
  const response = await browser.post("/insights/new", { title, body });
  expect(response.status).toBe(303);
  return response.headers.get("Location")!.split("/").pop()!;
}

export async function deliveriesOf(insightId: string) {
  return database().selectFrom("deliveries").selectAll().where("insight_id", "=", insightId).execute();
}

export async function attemptsOf(insightId: string) {
  return database()
    .selectFrom("delivery_attempts")
    .selectAll()
    .where("insight_id", "=", insightId)
    .orderBy("at")
    .orderBy("attempt")
    .execute();
}

/** Creates an API key on the workspace settings page and reads it from the page (shown once). */
export async function createApiKey(browser: Browser, name = "ci") {
  const response = await browser.post("/settings/workspace", { intent: "create-key", keyName: name });
  expect(response.status).toBe(200);
  const html = await pageHtml(response);
  const key = /<code class="secret">(spk_[\w-]+)<\/code>/.exec(html)?.[1];
  expect(key).toBeDefined();
  return key!;
}
