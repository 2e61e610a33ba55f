import { getDatabase, openScope, runInScope, runOnPrimary, type DatabaseScope } from "~/lib/platform/db.server";
import { webhookQueue } from "~/lib/platform/queues";
import { getSettings } from "~/lib/platform/settings.server";
import { enqueueWebhookDeliveries } from "~/lib/webhooks/dispatch.server";
import { WEBHOOK_OUTBOX } from "~/lib/webhooks/outbox.server";

/**
 * After a request or a job wrote to an outbox (webhook events recorded with the change they
 * describe), its new rows go on their queue. Failing here loses nothing: the cron's sweep sends
 * whatever is still unsent, a minute later at most.
 */
export async function dispatchOutboxes(env: Env, scope: DatabaseScope) {
  if (!scope.outboxes.has(WEBHOOK_OUTBOX)) return;
  const queue = webhookQueue(env, getSettings(env));
  if (!queue) return;
  try {
    await runOnPrimary(env.DB, () => enqueueWebhookDeliveries(getDatabase(env.DB), queue));
  } catch (error) {
    console.error("webhooks: new deliveries were not enqueued (the cron will):", error instanceof Error ? error.message : "unknown error");
  }
}

/** Background work (a queue message, a cron step) on the D1 primary, then its outboxes dispatched. */
export async function runJob<T>(env: Env, work: () => Promise<T>): Promise<T> {
  const scope = openScope(env.DB, "first-primary");
  try {
    return await runInScope(scope, work);
  } finally {
    await dispatchOutboxes(env, scope);
  }
}
