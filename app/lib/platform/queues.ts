import type { Settings } from "./settings.server";

/** The queues of wrangler.toml, by name: the Worker's queue handler dispatches on these. */
export const QUEUES = {
  deliveries: "spokedo-deliveries",
  deliveriesDeadLetters: "spokedo-deliveries-dlq",
  webhooks: "spokedo-webhooks",
  webhooksDeadLetters: "spokedo-webhooks-dlq",
  health: "spokedo-health",
} as const;

/** The queue's message: an id only; D1 holds the delivery itself. */
export interface DeliveryMessage {
  deliveryId: string;
}

export type DeliveryQueue = Queue<DeliveryMessage>;

/**
 * The delivery queue, or null when deliveries are dispatched by hand (DELIVERY_DISPATCH=manual:
 * the integration tests drive each attempt themselves).
 */
export function deliveryQueue(env: Env, settings: Settings): DeliveryQueue | null {
  return settings.dispatch === "queue" ? env.DELIVERY_QUEUE : null;
}

/** A scheduled connection health check: which connection (D1 holds the rest). */
export interface HealthCheckMessage {
  workspaceId: string;
  connectionId: string;
}

export type HealthQueue = Queue<HealthCheckMessage>;

/** The health-check queue, or null when the cron runs the checks itself (DELIVERY_DISPATCH=manual). */
export function healthQueue(env: Env, settings: Settings): HealthQueue | null {
  return settings.dispatch === "queue" ? env.HEALTH_QUEUE : null;
}

/** An outgoing webhook's message: the webhook delivery's id; D1 holds the event and the endpoint. */
export interface WebhookMessage {
  webhookDeliveryId: string;
}

export type WebhookQueue = Queue<WebhookMessage>;

/** The webhook queue, or null under DELIVERY_DISPATCH=manual (the tests and the cron drive attempts). */
export function webhookQueue(env: Env, settings: Settings): WebhookQueue | null {
  return settings.dispatch === "queue" ? env.WEBHOOK_QUEUE : null;
}
