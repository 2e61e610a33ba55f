import type { Db } from "../platform/db.server";
import type { WebhookQueue } from "../platform/queues";
import { WEBHOOK_LEASE_MS } from "./sender.server";

/**
 * Handing webhook deliveries to the queue (docs/decisions/016-outgoing-webhooks.md). The queue
 * carries ids only; D1 holds the rest, and a message that is lost or sent twice costs nothing (the
 * sweep re-sends, the lease lets one worker at a time attempt a delivery).
 */
const SEND_BATCH = 100;
/** How long past its due time an enqueued delivery waits for its message before the sweep re-sends it. */
export const WEBHOOK_OVERDUE_AFTER_MS = 5 * 60_000;

async function send(queue: WebhookQueue, ids: string[]) {
  for (let start = 0; start < ids.length; start += SEND_BATCH) {
    await queue.sendBatch(ids.slice(start, start + SEND_BATCH).map((webhookDeliveryId) => ({ body: { webhookDeliveryId } })));
  }
}

/**
 * Puts due deliveries that have no message yet on the queue: right after the work that recorded
 * them (the Worker entry and the job runner call this), and from the cron for anything missed.
 * Marking and sending are not atomic: a send that fails un-marks what it could not send, and a
 * mark whose send was lost with its worker is caught as overdue.
 */
export async function enqueueWebhookDeliveries(db: Db, queue: WebhookQueue, options: { now?: number; limit?: number } = {}) {
  const now = options.now ?? Date.now();
  const marked = await db
    .updateTable("webhook_deliveries")
    .set({ enqueued_at: now })
    .where((eb) =>
      eb(
        "id",
        "in",
        eb
          .selectFrom("webhook_deliveries")
          .select("id")
          .where("status", "=", "pending")
          .where("enqueued_at", "is", null)
          .where("next_attempt_at", "<=", now)
          .orderBy("next_attempt_at")
          .limit(options.limit ?? 200),
      ),
    )
    .where("enqueued_at", "is", null)
    .returning("id")
    .execute();
  const ids = marked.map((row) => row.id);
  try {
    await send(queue, ids);
  } catch (error) {
    if (ids.length)
      await db.updateTable("webhook_deliveries").set({ enqueued_at: null }).where("id", "in", ids).where("enqueued_at", "=", now).execute();
    throw error;
  }
  return ids.length;
}

/**
 * The cron's safety net: deliveries never enqueued, and pending ones well past their due time
 * with no live lease (their message got lost, or their worker died), go (back) on the queue.
 */
export async function sweepWebhookDeliveries(db: Db, queue: WebhookQueue, options: { now?: number; limit?: number } = {}) {
  const now = options.now ?? Date.now();
  const fresh = await enqueueWebhookDeliveries(db, queue, options);
  const overdue = await db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now - WEBHOOK_OVERDUE_AFTER_MS)
    .where("enqueued_at", "is not", null)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now - WEBHOOK_LEASE_MS)]))
    .orderBy("next_attempt_at")
    .limit(options.limit ?? 200)
    .execute();
  await send(
    queue,
    overdue.map((row) => row.id),
  );
  return { enqueued: fresh, resent: overdue.length };
}
