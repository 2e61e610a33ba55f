import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { getSettings } from "~/lib/platform/settings.server";
import { processDueWebhookDeliveries, type WebhookDeps } from "~/lib/webhooks/sender.server";
import { type Browser, database, pageHtml } from "./helpers";
import { RECEIVER_URL } from "./webhook-receiver";

export async function webhookDeps(overrides: Partial<WebhookDeps> = {}): Promise<WebhookDeps> {
  const settings = getSettings(env);
  return { db: database(), ring: await settings.keyRing!, webhookTargets: settings.webhookTargets, ...overrides };
}

export const DEFAULT_EVENTS = ["connection.status_changed", "connection.recovered", "connection.health_failed", "delivery.failed"];

/** Creates an endpoint through the real form, as a browser with JavaScript off; returns what the page showed once. */
export async function createEndpointThroughForm(
  browser: Browser,
  options: { url?: string; events?: string[]; description?: string; enabled?: boolean } = {},
) {
  const pairs: [string, string][] = [
    ["url", options.url ?? RECEIVER_URL],
    ["description", options.description ?? "Ops alerts"],
    ...(options.events ?? DEFAULT_EVENTS).map((event): [string, string] => ["events", event]),
    ...(options.enabled === false ? [] : [["enabled", "on"] as [string, string]]),
  ];
  const response = await browser.post("/settings/workspace/webhooks/new", pairs);
  const html = await pageHtml(response);
  const secret = /whsec_[A-Za-z0-9+/=]+/.exec(html)?.[0];
  const id = /href="\/settings\/workspace\/webhooks\/([0-9a-f-]{36})"/.exec(html)?.[1];
  return { response, html, secret, id };
}

/** Creates an endpoint and fails the test unless it worked. */
export async function endpointFor(browser: Browser, options: Parameters<typeof createEndpointThroughForm>[1] = {}) {
  const created = await createEndpointThroughForm(browser, options);
  expect(created.response.status, created.html.slice(0, 2000)).toBe(200);
  return { id: created.id!, secret: created.secret! };
}

/** Attempts every due webhook delivery (at `now`) until none is left due. */
export async function settleWebhooks(now = Date.now(), overrides: Partial<WebhookDeps> = {}) {
  const deps = await webhookDeps(overrides);
  for (let round = 0; round < 10; round++) {
    if ((await processDueWebhookDeliveries(deps, { now, limit: 100 })) === 0) return;
  }
  throw new Error("webhook deliveries did not settle");
}

export function webhookDeliveriesOf(endpointId: string) {
  return database().selectFrom("webhook_deliveries").selectAll().where("endpoint_id", "=", endpointId).orderBy("created_at").execute();
}

export function webhookAttemptsOf(endpointId: string) {
  return database()
    .selectFrom("webhook_attempts")
    .selectAll()
    .where("endpoint_id", "=", endpointId)
    .orderBy("at")
    .orderBy("attempt")
    .execute();
}

export function webhookEvents(workspaceId: string) {
  return database().selectFrom("webhook_events").selectAll().where("workspace_id", "=", workspaceId).orderBy("created_at").execute();
}
