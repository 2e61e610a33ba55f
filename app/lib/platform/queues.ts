import type { Settings } from "./settings.server";

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

/** Queue names, as wrangler.toml declares them (the Worker's queue handler routes on them). */
export const HEALTH_QUEUE_NAME = "spokedo-health";
