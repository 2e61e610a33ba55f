/**
 * The events outgoing webhooks carry (docs/decisions/016-outgoing-webhooks.md). Every payload is
 * `{ type, timestamp, data }`; `data` holds ids, names, providers, statuses and reasons, never a
 * token or a secret.
 */
export const SUBSCRIBABLE_EVENTS = [
  "connection.status_changed",
  "connection.recovered",
  "connection.expiring",
  "connection.health_failed",
  "delivery.failed",
] as const;
export type SubscribableEvent = (typeof SUBSCRIBABLE_EVENTS)[number];

/** `webhook.test` goes only to the endpoint whose "Send test event" was pressed. */
export type WebhookEventType = SubscribableEvent | "webhook.test";

export const EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  "connection.status_changed": "A connection moved between active, expired, error and revoked.",
  "connection.recovered": "A connection in error, expired or revoked is active again.",
  "connection.expiring": "A connection's authorization will expire soon and cannot be refreshed.",
  "connection.health_failed": "A health check of a connection failed.",
  "delivery.failed": "A delivery of an insight failed for good (after its retries).",
  "webhook.test": "Sent by “Send test event”.",
};

/** A connection as events describe it. */
export interface EventConnection {
  id: string;
  name: string;
  provider: string;
}

export interface EventData {
  "connection.status_changed": {
    connection: EventConnection;
    from: string;
    to: string;
    reason: string | null;
    previous_reason: string | null;
  };
  "connection.recovered": { connection: EventConnection; from: string; to: "active"; previous_reason: string | null };
  "connection.expiring": { connection: EventConnection; expires_at: string; reason: string };
  "connection.health_failed": { connection: EventConnection; status: string; reason: string };
  "delivery.failed": {
    delivery: { id: string; insight_id: string; attempts: number };
    intent: { id: string | null; name: string };
    connection: { id: string | null; name: string; provider: string };
    error_class: string | null;
    reason: string;
  };
  "webhook.test": { endpoint: { id: string }; message: string };
}

export function isSubscribableEvent(value: string): value is SubscribableEvent {
  return (SUBSCRIBABLE_EVENTS as readonly string[]).includes(value);
}
