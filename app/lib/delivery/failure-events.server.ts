import { sql, type Compilable } from "kysely";
import type { Db } from "../platform/db.server";
import type { DeliveryRow, ErrorClass } from "../platform/schema";
import { recordEvent, recordEventFrom } from "../webhooks/outbox.server";

/**
 * `delivery.failed` (docs/decisions/016-outgoing-webhooks.md): written in the batch that records a
 * delivery as finally failed, so the event exists exactly when the failure does.
 */
export function deliveryFailedEvent(
  db: Db,
  delivery: DeliveryRow,
  failure: { attempts: number; message: string; errorClass: ErrorClass | null },
  now = Date.now(),
): Compilable[] {
  return recordEvent(
    db,
    { workspaceId: delivery.workspace_id, type: "delivery.failed", at: now },
    {
      delivery: { id: delivery.id, insight_id: delivery.insight_id, attempts: failure.attempts },
      intent: { id: delivery.intent_id, name: delivery.intent_name },
      connection: { id: delivery.connection_id, name: delivery.connection_name, provider: delivery.provider },
      error_class: failure.errorClass,
      reason: failure.message,
    },
  );
}

/**
 * The same event for a delivery given up while still pending (the dead-letter queue): it reads
 * the row inside the batch, so it must come before the statement that marks it failed.
 */
export function pendingDeliveryFailedEvent(
  db: Db,
  workspaceId: string,
  deliveryId: string,
  failure: { message: string; errorClass: ErrorClass },
  now = Date.now(),
): Compilable[] {
  return recordEventFrom(
    db,
    { workspaceId, type: "delivery.failed", at: now },
    db
      .selectFrom("deliveries")
      .where("id", "=", deliveryId)
      .where("workspace_id", "=", workspaceId)
      .where("status", "=", "pending")
      .select(
        sql<string>`json_object(
          'delivery', json_object('id', id, 'insight_id', insight_id, 'attempts', attempts + 1),
          'intent', json_object('id', intent_id, 'name', intent_name),
          'connection', json_object('id', connection_id, 'name', connection_name, 'provider', provider),
          'error_class', ${failure.errorClass},
          'reason', ${failure.message})`.as("data"),
      ),
  );
}
