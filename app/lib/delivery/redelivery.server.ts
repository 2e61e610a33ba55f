import { REDELIVERY_WINDOW_MS } from "../connections/activity.server";
import { runBatch, type Db } from "../platform/db.server";
import type { DeliveryQueue } from "../platform/queues";
import { enableConnectionQuery } from "../connections/repository.server";
import { enqueueDeliveries } from "./dispatch.server";

/**
 * Sending failed deliveries again: the same delivery rows (same ids, same idempotency keys, so
 * the provider-side look-up still protects against duplicates), a new round of retries, and no
 * new insight.
 */

/** At most this many deliveries per click; the page offers the rest again. */
const REDELIVERY_LIMIT = 500;

function reopen(db: Db, workspaceId: string, now: number) {
  return db
    .updateTable("deliveries")
    .set((eb) => ({
      status: "pending",
      next_attempt_at: now,
      completed_at: null,
      retry_base: eb.ref("attempts"),
      rate_limited_in_round: 0,
    }))
    .where("workspace_id", "=", workspaceId)
    .where("status", "=", "failed");
}

async function redeliver(queue: DeliveryQueue | null, ids: string[]) {
  if (queue) await enqueueDeliveries(queue, ids);
  return ids.length;
}

/** "Retry failed deliveries" on an insight's page. */
export async function redeliverInsight(db: Db, queue: DeliveryQueue | null, workspaceId: string, insightId: string) {
  const now = Date.now();
  const rows = await reopen(db, workspaceId, now).where("insight_id", "=", insightId).returning("id").execute();
  return redeliver(
    queue,
    rows.map((row) => row.id),
  );
}

function failedThrough(db: Db, workspaceId: string, connectionId: string, now: number) {
  return db
    .selectFrom("deliveries")
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .where("status", "=", "failed")
    .where("completed_at", ">", now - REDELIVERY_WINDOW_MS);
}

/** "Redeliver N failed deliveries" on a connection's page, once it works again. */
export async function redeliverConnection(db: Db, queue: DeliveryQueue | null, workspaceId: string, connectionId: string) {
  const now = Date.now();
  const rows = await reopen(db, workspaceId, now)
    .where(
      "id",
      "in",
      failedThrough(db, workspaceId, connectionId, now).select("id").orderBy("completed_at", "desc").limit(REDELIVERY_LIMIT),
    )
    .returning("id")
    .execute();
  return redeliver(
    queue,
    rows.map((row) => row.id),
  );
}

/**
 * "Enable" on a disabled connection: it delivers again, and the deliveries held while it was
 * disabled are sent now (one batch: the connection and its held deliveries change together).
 * Returns how many were released, or null when the workspace has no such connection.
 */
export async function enableConnection(db: Db, queue: DeliveryQueue | null, workspaceId: string, connectionId: string) {
  const now = Date.now();
  const [enabled, released] = await runBatch(db, [
    enableConnectionQuery(db, workspaceId, connectionId, now),
    db
      .updateTable("deliveries")
      .set({ held_at: null, next_attempt_at: now })
      .where("workspace_id", "=", workspaceId)
      .where("connection_id", "=", connectionId)
      .where("held_at", "is not", null)
      .where("status", "=", "pending")
      .returning("id"),
  ]);
  if (!enabled?.meta.changes) return null;
  const ids = (released?.results ?? []).map((row) => (row as { id: string }).id);
  return redeliver(queue, ids);
}
