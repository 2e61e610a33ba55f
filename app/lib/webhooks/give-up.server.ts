import { runBatch, type Db } from "../platform/db.server";

/**
 * A webhook delivery whose queue message ran out of retries (the consumer itself kept failing):
 * recorded as failed with its reason in the endpoint's log, so nothing stays pending or is
 * retried forever. It can be resent from the log. Both writes apply only while it is pending.
 */
export async function giveUpWebhookDelivery(db: Db, deliveryId: string, tries: number) {
  const now = Date.now();
  const error = `SpokeDo could not finish this delivery after ${tries} tries. Resend it from this log.`;
  const [logged] = await runBatch(db, [
    db
      .insertInto("webhook_attempts")
      .columns(["id", "workspace_id", "endpoint_id", "delivery_id", "event_id", "event_type", "attempt", "at", "outcome", "error"])
      .expression(
        db
          .selectFrom("webhook_deliveries")
          .select((eb) => [
            eb.val(crypto.randomUUID()).as("id"),
            "workspace_id",
            "endpoint_id",
            "id as delivery_id",
            "event_id",
            "event_type",
            eb("attempts", "+", 1).as("attempt"),
            eb.val(now).as("at"),
            eb.val("failed").as("outcome"),
            eb.val(error).as("error"),
          ])
          .where("id", "=", deliveryId)
          .where("status", "=", "pending"),
      ),
    db
      .updateTable("webhook_deliveries")
      .set((eb) => ({
        status: "failed",
        completed_at: now,
        lease_owner: null,
        lease_expires_at: null,
        last_error: error,
        attempts: eb("attempts", "+", 1),
      }))
      .where("id", "=", deliveryId)
      .where("status", "=", "pending"),
  ]);
  return (logged?.meta.changes ?? 0) > 0;
}
