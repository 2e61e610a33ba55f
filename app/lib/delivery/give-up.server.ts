import { runBatch, type Db } from "../platform/db.server";
import { pendingDeliveryFailedEvent } from "./failure-events.server";

/**
 * A delivery whose queue message ran out of retries (the consumer itself kept failing): recorded
 * as failed with its reason in the integration log (and a `delivery.failed` webhook event), and
 * any unconfirmed attempt kept as such, so a redelivery looks it up at the provider first. Every
 * write applies only while it is pending.
 */
export async function giveUpDelivery(db: Db, deliveryId: string, tries: number) {
  const now = Date.now();
  const message = `SpokeDo could not finish this delivery after ${tries} tries. Retry it from this page.`;
  const pending = await db
    .selectFrom("deliveries")
    .select("workspace_id")
    .where("id", "=", deliveryId)
    .where("status", "=", "pending")
    .executeTakeFirst();
  if (!pending) return false;
  const [logged] = await runBatch(db, [
    db
      .insertInto("delivery_attempts")
      .columns(["id", "delivery_id", "insight_id", "attempt", "at", "outcome", "http_status", "error_class", "message", "item_url", "sent"])
      .expression(
        db
          .selectFrom("deliveries")
          .select((eb) => [
            eb.val(crypto.randomUUID()).as("id"),
            "id as delivery_id",
            "insight_id",
            eb("attempts", "+", 1).as("attempt"),
            eb.val(now).as("at"),
            eb.val("failed").as("outcome"),
            eb.val(null).as("http_status"),
            eb.val("provider").as("error_class"),
            eb.val(message).as("message"),
            eb.val(null).as("item_url"),
            eb.val(0).as("sent"),
          ])
          .where("id", "=", deliveryId)
          .where("status", "=", "pending"),
      ),
    ...pendingDeliveryFailedEvent(db, pending.workspace_id, deliveryId, { message, errorClass: "provider" }, now),
    db
      .updateTable("deliveries")
      .set((eb) => ({ status: "failed", completed_at: now, lease_owner: null, lease_expires_at: null, attempts: eb("attempts", "+", 1) }))
      .where("id", "=", deliveryId)
      .where("status", "=", "pending"),
  ]);
  return (logged?.meta.changes ?? 0) > 0;
}
