import { sql, type Compilable, type Expression, type SelectQueryBuilder, type SqlBool } from "kysely";
import { noteOutboxWrite, runBatch, type Db } from "../platform/db.server";
import type { ConnectionRow, Database } from "../platform/schema";
import type { EventData, SubscribableEvent, WebhookEventType } from "./catalog";

/**
 * The webhook event outbox (docs/decisions/016-outgoing-webhooks.md). Other domains record an
 * event with the statements returned here, inside the same D1 batch as the change it describes:
 * the event and one delivery per subscribed endpoint commit with the change or not at all, so an
 * event is never lost and never sent for a change that did not happen. After the work, the
 * Worker entry (or the job runner) puts the new deliveries on the webhook queue; the cron catches
 * any it missed.
 *
 * Arrows point down: connections and delivery import this module; it imports only platform.
 */
export const WEBHOOK_OUTBOX = "webhooks";

export interface EventMeta<T extends WebhookEventType = WebhookEventType> {
  workspaceId: string;
  type: T;
  /** When it happened (epoch ms); the payload's `timestamp`. Default: now. */
  at?: number;
  /** Recorded again with the same key (per workspace), the event is kept once. */
  dedupeKey?: string;
  /** The `webhook-id` (default: a new `msg_…`). */
  id?: string;
}

/** A select that yields one row with a `data` column (the payload's `data` as JSON text) when the event happened, none otherwise. */
export type EventSource = SelectQueryBuilder<Database, keyof Database, { data: string }>;

export function newEventId() {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Whether the endpoint row `e` subscribes to `type` (its `events` column is a JSON array). */
function subscribesTo(type: string): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from json_each(${sql.ref("e.events")}) where json_each.value = ${type})`;
}

/**
 * The statements that record an event: to put in the batch of the change it describes. `source`
 * decides whether it happened (a row, or none) and what its data is; it runs inside the batch, so
 * it sees the rows as they are before any later statement of the batch changes them. Nothing is
 * written when no enabled endpoint of the workspace subscribes to the event's type.
 */
export function recordEventFrom(db: Db, event: EventMeta, source: EventSource, target?: { endpointId: string }): Compilable[] {
  const id = event.id ?? newEventId();
  const at = event.at ?? Date.now();
  noteOutboxWrite(db, WEBHOOK_OUTBOX);
  const endpoints = () => {
    const inWorkspace = db.selectFrom("webhook_endpoints as e").where("e.workspace_id", "=", event.workspaceId);
    // A test event goes to the endpoint it was asked for, whatever it subscribes to.
    return target
      ? inWorkspace.where("e.id", "=", target.endpointId)
      : inWorkspace.where("e.enabled", "=", 1).where(() => subscribesTo(event.type));
  };
  const insertEvent = db
    .insertInto("webhook_events")
    .orIgnore()
    .columns(["id", "workspace_id", "type", "data", "dedupe_key", "created_at"])
    .expression(
      db
        .selectFrom(source.limit(1).as("s"))
        .select((eb) => [
          eb.val(id).as("id"),
          eb.val(event.workspaceId).as("workspace_id"),
          eb.val(event.type).as("type"),
          "s.data",
          eb.val(event.dedupeKey ?? null).as("dedupe_key"),
          eb.val(at).as("created_at"),
        ])
        .where((eb) => eb.exists(endpoints().select("e.id"))),
    );
  const fanOut = db
    .insertInto("webhook_deliveries")
    .columns(["id", "workspace_id", "endpoint_id", "event_id", "event_type", "status", "next_attempt_at", "enqueued_at", "created_at"])
    .expression(
      endpoints()
        .innerJoin("webhook_events as ev", (join) => join.on("ev.id", "=", id))
        .select((eb) => [
          sql<string>`lower(hex(randomblob(16)))`.as("id"),
          "e.workspace_id",
          "e.id as endpoint_id",
          "ev.id as event_id",
          "ev.type as event_type",
          eb.val("pending").as("status"),
          eb.val(at).as("next_attempt_at"),
          eb.val(null).as("enqueued_at"),
          eb.val(at).as("created_at"),
        ]),
    );
  return [insertEvent, fanOut];
}

/** The statements that record an event whose data is known now. */
export function recordEvent<T extends SubscribableEvent>(db: Db, event: EventMeta<T>, data: EventData[T]): Compilable[] {
  return recordEventFrom(db, event, literalData(db, data));
}

/** Records an event on its own (when there is no batch to join). */
export async function emitEvent<T extends SubscribableEvent>(db: Db, event: EventMeta<T>, data: EventData[T]) {
  await runBatch(db, recordEvent(db, event, data));
}

function literalData(db: Db, data: unknown): EventSource {
  return db.selectNoFrom((eb) => eb.val(JSON.stringify(data)).as("data"));
}

/** `webhook.test` for one endpoint of the workspace (nothing when it is not the workspace's). */
export function recordTestEvent(db: Db, workspaceId: string, endpointId: string, at = Date.now()): Compilable[] {
  const data: EventData["webhook.test"] = {
    endpoint: { id: endpointId },
    message: "A test event from SpokeDo. If you can read this, the endpoint works.",
  };
  return recordEventFrom(db, { workspaceId, type: "webhook.test", at }, literalData(db, data), { endpointId });
}

type EventConnectionRow = Pick<ConnectionRow, "id" | "workspace_id" | "name" | "provider">;

const eventConnection = (connection: EventConnectionRow) => ({ id: connection.id, name: connection.name, provider: connection.provider });

/**
 * `connection.expiring`: for the health checks (docs/decisions/016-outgoing-webhooks.md). Recorded
 * once per connection and expiry, however often the check runs.
 */
export function recordConnectionExpiring(db: Db, connection: EventConnectionRow, expiry: { expiresAt: number; reason: string }) {
  return recordEvent(
    db,
    {
      workspaceId: connection.workspace_id,
      type: "connection.expiring",
      dedupeKey: `connection.expiring:${connection.id}:${expiry.expiresAt}`,
    },
    { connection: eventConnection(connection), expires_at: new Date(expiry.expiresAt).toISOString(), reason: expiry.reason },
  );
}

/**
 * `connection.health_failed`: a health check of the connection failed. `dedupeKey` (e.g. the
 * check's run id) keeps a check that is retried from sending it twice.
 */
export function recordConnectionHealthFailed(
  db: Db,
  connection: EventConnectionRow & Pick<ConnectionRow, "status">,
  failure: { reason: string; at?: number; dedupeKey?: string },
) {
  return recordEvent(
    db,
    {
      workspaceId: connection.workspace_id,
      type: "connection.health_failed",
      ...(failure.at !== undefined ? { at: failure.at } : {}),
      ...(failure.dedupeKey !== undefined ? { dedupeKey: `connection.health_failed:${connection.id}:${failure.dedupeKey}` } : {}),
    },
    { connection: eventConnection(connection), status: connection.status, reason: failure.reason },
  );
}
