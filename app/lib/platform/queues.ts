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
