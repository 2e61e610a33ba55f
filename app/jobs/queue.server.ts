import { processDelivery } from "~/lib/delivery/outbox.server";
import { runConnectionCheck } from "~/lib/delivery/drift.server";
import { giveUpDelivery } from "~/lib/delivery/give-up.server";
import { getDatabase } from "~/lib/platform/db.server";
import type { DeliveryMessage, HealthCheckMessage, WebhookMessage } from "~/lib/platform/queues";
import { getSettings } from "~/lib/platform/settings.server";
import { giveUpWebhookDelivery } from "~/lib/webhooks/give-up.server";
import { processWebhookDelivery } from "~/lib/webhooks/sender.server";
import { runJob } from "./outboxes.server";

/** Queue messages may be brought back after at most 12 hours. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;
/** A consumer that failed unexpectedly tries the message again after this long. */
const CRASH_RETRY_SECONDS = 30;

function retryDelaySeconds(delayMs: number) {
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(delayMs / 1000)));
}

/**
 * The delivery queue's consumer: one attempt per message, side by side (one failure never cuts
 * off another), each from the D1 primary. The outbox says whether the message is done or should
 * come back, and when: after the provider's Retry-After, a jittered backoff, or a lease running out.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env) {
  const settings = getSettings(env);
  if (!settings.keyRing) {
    batch.retryAll({ delaySeconds: 300 });
    return;
  }
  const deps = { db: getDatabase(env.DB), settings, ring: await settings.keyRing };
  await Promise.allSettled(
    batch.messages.map(async (message) => {
      try {
        const disposition = await runJob(env, () => processDelivery(deps, message.body.deliveryId));
        if (disposition.kind === "done") message.ack();
        else message.retry({ delaySeconds: retryDelaySeconds(disposition.delayMs) });
      } catch (error) {
        console.error(`delivery ${message.body.deliveryId} failed unexpectedly:`, error instanceof Error ? error.message : "unknown error");
        message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
      }
    }),
  );
}

/**
 * The dead-letter queue: messages the consumer could not settle after every retry. Each delivery
 * still pending is recorded as failed, with its reason in the integration log, so nothing stays
 * "pending" forever; it can be redelivered from its insight's page.
 */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env) {
  const db = getDatabase(env.DB);
  for (const message of batch.messages) {
    await runJob(env, () => giveUpDelivery(db, message.body.deliveryId, message.attempts));
    message.ack();
  }
}

/**
 * The webhook queue's consumer (docs/decisions/016-outgoing-webhooks.md): one signed request per
 * message, side by side, each from the D1 primary; a failed one comes back after a jittered backoff.
 */
export async function consumeWebhooks(batch: MessageBatch<WebhookMessage>, env: Env) {
  const settings = getSettings(env);
  if (!settings.keyRing) {
    batch.retryAll({ delaySeconds: 300 });
    return;
  }
  const deps = { db: getDatabase(env.DB), ring: await settings.keyRing, webhookTargets: settings.webhookTargets };
  await Promise.allSettled(
    batch.messages.map(async (message) => {
      try {
        const disposition = await runJob(env, () => processWebhookDelivery(deps, message.body.webhookDeliveryId));
        if (disposition.kind === "done") message.ack();
        else message.retry({ delaySeconds: retryDelaySeconds(disposition.delayMs) });
      } catch (error) {
        const reason = error instanceof Error ? error.message : "unknown error";
        console.error(`webhook delivery ${message.body.webhookDeliveryId} failed unexpectedly:`, reason);
        message.retry({ delaySeconds: CRASH_RETRY_SECONDS });
      }
    }),
  );
}

/** The webhook dead-letter queue: a delivery still pending is recorded as failed, never retried forever. */
export async function consumeWebhookDeadLetters(batch: MessageBatch<WebhookMessage>, env: Env) {
  const db = getDatabase(env.DB);
  for (const message of batch.messages) {
    await runJob(env, () => giveUpWebhookDelivery(db, message.body.webhookDeliveryId, message.attempts));
    message.ack();
  }
}

/**
 * The health-check queue: one check per message, side by side. Each connection's next due time
 * lives in D1 (pushed ahead while its message is out), so a message that fails here is simply
 * acknowledged: the cron takes the connection again when its lease runs out.
 */
export async function consumeHealthChecks(batch: MessageBatch<HealthCheckMessage>, env: Env) {
  const settings = getSettings(env);
  if (!settings.keyRing) {
    batch.ackAll();
    return;
  }
  const deps = { db: getDatabase(env.DB), settings, ring: await settings.keyRing };
  await Promise.allSettled(
    batch.messages.map(async (message) => {
      try {
        await runJob(env, () => runConnectionCheck(deps, message.body));
      } catch (error) {
        console.error(
          `health check of ${message.body.connectionId} failed unexpectedly:`,
          error instanceof Error ? error.message : "unknown error",
        );
      }
      message.ack();
    }),
  );
}
