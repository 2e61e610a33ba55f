import { noteOutboxWrite, runBatch, type Db } from "../platform/db.server";
import type { DeliveryStatus, WebhookAttemptRow } from "../platform/schema";
import { recordTestEvent, WEBHOOK_OUTBOX } from "./outbox.server";

/**
 * An endpoint's delivery log (one row per attempt, newest first, a keyset page at a time), and
 * what a person can do from it: send a test event, resend a delivery. Old events, their
 * deliveries and their log go after LOG_RETENTION_MS.
 */
export const LOG_PAGE_SIZE = 25;
export const LOG_RETENTION_MS = 30 * 24 * 60 * 60_000;

export type LogCursor = { at: number; id: string };

export type LogEntry = Pick<
  WebhookAttemptRow,
  | "id"
  | "delivery_id"
  | "event_id"
  | "event_type"
  | "attempt"
  | "at"
  | "outcome"
  | "http_status"
  | "duration_ms"
  | "error"
  | "response_snippet"
> & { delivery_status: DeliveryStatus };

export async function listEndpointLog(
  db: Db,
  workspaceId: string,
  endpointId: string,
  before?: LogCursor,
): Promise<{ entries: LogEntry[]; next: LogCursor | null }> {
  let query = db
    .selectFrom("webhook_attempts as a")
    .innerJoin("webhook_deliveries as d", "d.id", "a.delivery_id")
    .select([
      "a.id",
      "a.delivery_id",
      "a.event_id",
      "a.event_type",
      "a.attempt",
      "a.at",
      "a.outcome",
      "a.http_status",
      "a.duration_ms",
      "a.error",
      "a.response_snippet",
      "d.status as delivery_status",
    ])
    .where("a.endpoint_id", "=", endpointId)
    .where("a.workspace_id", "=", workspaceId);
  if (before) query = query.where((eb) => eb(eb.refTuple("a.at", "a.id"), "<", eb.tuple(before.at, before.id)));
  const rows = await query
    .orderBy("a.at", "desc")
    .orderBy("a.id", "desc")
    .limit(LOG_PAGE_SIZE + 1)
    .execute();
  const entries = rows.slice(0, LOG_PAGE_SIZE);
  const last = entries[entries.length - 1];
  return { entries, next: rows.length > LOG_PAGE_SIZE && last ? { at: last.at, id: last.id } : null };
}

/** Records a `webhook.test` event for the endpoint; false when the workspace has no such endpoint. */
export async function sendTestEvent(db: Db, workspaceId: string, endpointId: string) {
  const [event] = await runBatch(db, recordTestEvent(db, workspaceId, endpointId));
  return (event?.meta.changes ?? 0) > 0;
}

export type ResendResult = { ok: true } | { ok: false; reason: "not_found" | "pending" | "disabled" };

/**
 * Sends a settled delivery again: the same event (same `webhook-id`, so a receiver that already
 * has it can tell), a new round of attempts. Not while the endpoint is disabled.
 */
export async function resendWebhookDelivery(db: Db, workspaceId: string, endpointId: string, deliveryId: string): Promise<ResendResult> {
  const row = await db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
    .select(["d.status", "e.enabled"])
    .where("d.id", "=", deliveryId)
    .where("d.endpoint_id", "=", endpointId)
    .where("d.workspace_id", "=", workspaceId)
    .executeTakeFirst();
  if (!row) return { ok: false, reason: "not_found" };
  if (row.enabled !== 1) return { ok: false, reason: "disabled" };
  const now = Date.now();
  noteOutboxWrite(db, WEBHOOK_OUTBOX);
  const result = await db
    .updateTable("webhook_deliveries")
    .set((eb) => ({
      status: "pending",
      retry_base: eb.ref("attempts"),
      next_attempt_at: now,
      enqueued_at: null,
      completed_at: null,
    }))
    .where("id", "=", deliveryId)
    .where("workspace_id", "=", workspaceId)
    .where("status", "!=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? { ok: true } : { ok: false, reason: "pending" };
}

const PRUNE_BATCH = 100;

/**
 * The cron's pruning: events older than LOG_RETENTION_MS, with their deliveries and log (by
 * cascade), a bounded number per run, oldest first; an event with a delivery still pending stays.
 */
export async function pruneWebhookLog(db: Db, now = Date.now()) {
  const deleted = await db
    .deleteFrom("webhook_events")
    .where((eb) =>
      eb(
        "id",
        "in",
        eb
          .selectFrom("webhook_events as ev")
          .select("ev.id")
          .where("ev.created_at", "<", now - LOG_RETENTION_MS)
          .where((inner) =>
            inner.not(
              inner.exists(
                inner
                  .selectFrom("webhook_deliveries as d")
                  .select("d.id")
                  .whereRef("d.event_id", "=", "ev.id")
                  .where("d.status", "=", "pending"),
              ),
            ),
          )
          .orderBy("ev.created_at")
          .limit(PRUNE_BATCH),
      ),
    )
    // Counted by their ids: D1's change count includes the rows the cascade removed.
    .returning("id")
    .execute();
  return deleted.length;
}
