import type { Db } from "../platform/db.server";
import type { DeliveryQueue } from "../platform/queues";
import { DELIVERY_LEASE_MS } from "./outbox.server";

/**
 * Handing deliveries to the queue (docs/decisions/013-deliveries-on-queues.md). The queue carries
 * only ids: D1 holds everything else, and a message that is lost or duplicated costs nothing (the
 * sweep re-sends overdue ones; the claim lets one worker at a time attempt a delivery).
 */
const SEND_BATCH = 100;

/** Queues deliveries to be attempted now (or after `delaySeconds`). */
export async function enqueueDeliveries(queue: DeliveryQueue, deliveryIds: string[], delaySeconds = 0) {
  for (let start = 0; start < deliveryIds.length; start += SEND_BATCH) {
    const chunk = deliveryIds.slice(start, start + SEND_BATCH);
    await queue.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId }, ...(delaySeconds ? { delaySeconds } : {}) })));
  }
}

/** How long past its due time a pending delivery waits for its message before the sweep re-sends it. */
export const OVERDUE_AFTER_MS = 5 * 60_000;

/**
 * The cron's safety net: pending deliveries well past their due time with no live lease (their
 * message was never sent, or got lost, or their worker died) go back on the queue. Bounded per run.
 */
export async function sweepOverdueDeliveries(db: Db, queue: DeliveryQueue, options: { now?: number; limit?: number } = {}) {
  const now = options.now ?? Date.now();
  const overdue = await db
    .selectFrom("deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now - OVERDUE_AFTER_MS)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now - DELIVERY_LEASE_MS)]))
    .orderBy("next_attempt_at")
    .limit(options.limit ?? 200)
    .execute();
  await enqueueDeliveries(
    queue,
    overdue.map((row) => row.id),
  );
  return overdue.length;
}
