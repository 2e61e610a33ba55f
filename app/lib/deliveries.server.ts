import type { Compilable } from "kysely";
import type { AppConfig } from "./config.server";
import { providerContext, statusForProviderError, tryDecryptTokens, UNREADABLE_TOKENS } from "./connections.server";
import { openDatabase, runBatch, type ConnectionRow, type DbHandle, type DeliveryRow, type ErrorClass } from "./db.server";
import { getProvider } from "./providers/registry";
import { describeProviderError, ProviderError, type DeliveredItem } from "./providers/types";
import type { KeyRing } from "./token-crypto.server";
import { freshTokens, REFRESH_REFUSED } from "./token-refresh.server";

/**
 * Deliveries live in a durable outbox in D1 rather than on a Queue: the delivery row, its log
 * and the connection's status change are written in one batch, a claimed delivery is leased so
 * a worker that dies mid-call loses nothing (the lease expires and the delivery is due again),
 * and tests drive it directly inside workerd. The Worker starts due deliveries right after an
 * insight is created and the Cron Trigger sweeps up retries every minute.
 */
export const DELIVERY_LEASE_MS = 60_000;
export const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 15 * 60_000;

export function backoffMs(attempt: number, random = Math.random()) {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  // Full jitter on the upper half, so retries of many deliveries do not arrive together.
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

export interface DeliveryDeps {
  handle: DbHandle;
  config: AppConfig;
  ring: KeyRing;
}

type Outcome =
  | { kind: "succeeded"; item: DeliveredItem }
  | { kind: "retry"; errorClass: ErrorClass; message: string; status?: number; delayMs: number }
  | { kind: "failed"; errorClass: ErrorClass; message: string; status?: number; connectionStatus?: { status: ConnectionRow["status"]; reason: string } };

/** Claims and performs one delivery attempt. Returns null when another worker holds it or it is not due. */
export async function processDelivery(deps: DeliveryDeps, deliveryId: string, now = Date.now()) {
  const { db } = deps.handle;
  const owner = crypto.randomUUID();
  // Claim and read in one statement.
  const delivery = await db
    .updateTable("deliveries")
    .set({ lease_owner: owner, lease_expires_at: now + DELIVERY_LEASE_MS })
    .where("id", "=", deliveryId)
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]))
    .returningAll()
    .executeTakeFirst();
  if (!delivery) return null;

  // The insight and its connection (gone if it was deleted since) in one query.
  const joined = await db
    .selectFrom("insights as n")
    .leftJoin("connections as c", (join) => join.on("c.id", "=", delivery.connection_id ?? ""))
    .selectAll("c")
    .select(["n.title as insight_title", "n.body as insight_body"])
    .where("n.id", "=", delivery.insight_id)
    .executeTakeFirstOrThrow();
  const { insight_title: title, insight_body: body, ...connectionColumns } = joined;
  const connection = connectionColumns.id ? (connectionColumns as ConnectionRow) : undefined;
  const insight = { title, body };
  const attempt = delivery.attempts + 1;
  const outcome = await attemptDelivery(deps, delivery, connection, insight, attempt);
  await recordOutcome(deps.handle, delivery, connection, attempt, owner, outcome);
  return outcome;
}

async function attemptDelivery(
  deps: DeliveryDeps,
  delivery: DeliveryRow,
  connection: ConnectionRow | undefined,
  insight: { title: string; body: string },
  attempt: number,
): Promise<Outcome> {
  const provider = getProvider(delivery.provider);
  if (!connection) {
    return { kind: "failed", errorClass: "user", message: `The connection ${delivery.connection_name} was deleted. Point the intent at another connection.` };
  }
  // A connection that is not active fails the delivery without calling the provider.
  if (connection.status !== "active") {
    const fix = connection.status === "error" ? "Test the connection or re-authorize it" : "Re-authorize it";
    return {
      kind: "failed",
      errorClass: "user",
      message: `Not delivered: connection ${connection.name} is ${connection.status}${connection.status_reason ? ` (${connection.status_reason})` : ""}. ${fix} from its page.`,
    };
  }
  const config = JSON.parse(delivery.config_json) as Record<string, unknown>;
  const missing = provider.requiredForDelivery.filter((field) => config[field] === undefined || config[field] === "");
  if (missing.length) {
    const labels = missing.map((field) => provider.configFields.find((f) => f.name === field)?.label ?? field);
    return { kind: "failed", errorClass: "config", message: `Not delivered: no ${labels.join(", ").toLowerCase()} is set. Set it on the connection or override it on intent ${delivery.intent_name}.` };
  }
  const context = providerContext(deps.config, connection.provider);
  if (!context) return { kind: "failed", errorClass: "config", message: `${provider.name} is not configured on this server.` };

  try {
    const tokens = await tryDecryptTokens(deps.ring, connection);
    if (!tokens) return { kind: "failed", errorClass: "user", message: UNREADABLE_TOKENS, connectionStatus: { status: "error", reason: UNREADABLE_TOKENS } };
    const fresh = await freshTokens(deps.handle.db, deps.config, deps.ring, connection);
    const item = await provider.deliver(context, fresh.tokens, {
      title: insight.title,
      body: insight.body,
      config,
      idempotencyKey: delivery.idempotency_key,
      accountUrl: fresh.row.account_url,
    });
    return { kind: "succeeded", item };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return classify(error, connection, provider.name, attempt);
  }
}

function classify(error: ProviderError, connection: ConnectionRow, providerName: string, attempt: number): Outcome {
  const message = describeProviderError(error);
  const status = error.details.status;
  if (error.kind === "unauthorized" || error.kind === "token_expired") {
    // A refused refresh already decided between revoked and expired; keep its verdict.
    const change =
      error.details.code === REFRESH_REFUSED
        ? { status: error.kind === "token_expired" ? ("expired" as const) : ("revoked" as const), reason: error.message }
        : statusForProviderError(error, connection, providerName);
    return { kind: "failed", errorClass: "user", message, status, connectionStatus: change };
  }
  const retryable = error.kind === "rate_limited" || error.kind === "server_error" || error.kind === "timeout" || error.kind === "network" || error.kind === "malformed_response";
  if (retryable && attempt < MAX_ATTEMPTS) {
    const delayMs = error.kind === "rate_limited" ? (error.details.retryAfterSeconds ?? 60) * 1000 : backoffMs(attempt);
    return { kind: "retry", errorClass: error.kind === "rate_limited" ? "rate_limit" : "provider", message, status, delayMs };
  }
  const errorClass: ErrorClass = error.kind === "rate_limited" ? "rate_limit" : error.kind === "client_error" ? "config" : "provider";
  const reason = `${providerName} answered with an error: ${message}`;
  return { kind: "failed", errorClass, message, status, connectionStatus: { status: "error", reason } };
}

/** The log row, the delivery's new state, the connection's status and last use: one batch. */
async function recordOutcome(handle: DbHandle, delivery: DeliveryRow, connection: ConnectionRow | undefined, attempt: number, owner: string, outcome: Outcome) {
  const { db } = handle;
  const now = Date.now();
  const writes: Compilable[] = [
    db.insertInto("delivery_attempts").values({
      id: crypto.randomUUID(),
      delivery_id: delivery.id,
      insight_id: delivery.insight_id,
      attempt,
      at: now,
      outcome: outcome.kind === "succeeded" ? "succeeded" : outcome.kind === "retry" ? "retrying" : "failed",
      http_status: outcome.kind === "succeeded" ? null : (outcome.status ?? null),
      error_class: outcome.kind === "succeeded" ? null : outcome.errorClass,
      message: outcome.kind === "succeeded" ? null : outcome.message,
      item_url: outcome.kind === "succeeded" ? outcome.item.url : null,
    }),
  ];
  const delivered = db.updateTable("deliveries").where("id", "=", delivery.id).where("lease_owner", "=", owner);
  if (outcome.kind === "succeeded") {
    writes.push(
      delivered.set({ status: "succeeded", attempts: attempt, item_id: outcome.item.id, item_url: outcome.item.url, completed_at: now, lease_owner: null, lease_expires_at: null }),
    );
    if (connection) writes.push(db.updateTable("connections").set({ last_used_at: now }).where("id", "=", connection.id));
  } else if (outcome.kind === "retry") {
    writes.push(delivered.set({ attempts: attempt, next_attempt_at: now + outcome.delayMs, lease_owner: null, lease_expires_at: null }));
  } else {
    writes.push(delivered.set({ status: "failed", attempts: attempt, completed_at: now, lease_owner: null, lease_expires_at: null }));
    if (connection && outcome.connectionStatus) {
      const { status, reason } = outcome.connectionStatus;
      writes.push(
        db
          .updateTable("connections")
          .set((eb) => ({
            status_changed_at: eb.case().when("status", "=", status).then(eb.ref("status_changed_at")).else(now).end(),
            status,
            status_reason: reason,
            last_error: outcome.message,
            last_error_insight_id: delivery.insight_id,
            last_error_at: now,
            updated_at: now,
          }))
          .where("id", "=", connection.id),
      );
    }
  }
  await runBatch(handle, writes);
}

/** Deliveries that are due: pending and not leased (or whose holder's lease ran out). */
export async function processDueDeliveries(deps: DeliveryDeps, options: { limit?: number; insightId?: string; now?: number } = {}) {
  const now = options.now ?? Date.now();
  let query = deps.handle.db
    .selectFrom("deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]));
  if (options.insightId) query = query.where("insight_id", "=", options.insightId);
  const due = await query.orderBy("next_attempt_at").limit(options.limit ?? 50).execute();
  const outcomes = await Promise.all(due.map((row) => processDelivery(deps, row.id, now)));
  return outcomes.filter((outcome) => outcome !== null).length;
}

/** Runs an insight's deliveries in the background of the request that created it. */
export function startDeliveries(env: Env, config: AppConfig, insightId: string, waitUntil: (promise: Promise<unknown>) => void) {
  if (!config.keyRing || !config.deliveriesInBackground) return;
  const ring = config.keyRing;
  waitUntil(
    (async () => {
      // Background work reads from the primary: token rows must never come from a stale replica.
      const handle = openDatabase(env.DB, "first-primary");
      await processDueDeliveries({ handle, config, ring: await ring }, { insightId });
    })().catch((error: unknown) => console.error("deliveries failed to start", error instanceof Error ? error.message : "unknown error")),
  );
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DailyDeliveries {
  day: number;
  succeeded: number;
  failed: number;
}

/** Finished deliveries per UTC day for the last `days` days, oldest first (one query). */
export async function deliveryHistory(db: DbHandle["db"], workspaceId: string, connectionId: string, days = 30, now = Date.now()): Promise<DailyDeliveries[]> {
  const today = Math.floor(now / DAY_MS);
  const first = today - days + 1;
  const rows = await db
    .selectFrom("deliveries")
    .select((eb) => [
      eb.fn<number>("floor", [eb("completed_at", "/", DAY_MS)]).as("day"),
      "status",
      eb.fn.countAll<number>().as("count"),
    ])
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .where("status", "in", ["succeeded", "failed"])
    .where("completed_at", ">=", first * DAY_MS)
    .groupBy(["day", "status"])
    .execute();
  const series = Array.from({ length: days }, (_, index) => ({ day: first + index, succeeded: 0, failed: 0 }));
  for (const row of rows) {
    const bucket = series[Number(row.day) - first];
    if (bucket && (row.status === "succeeded" || row.status === "failed")) bucket[row.status] += Number(row.count);
  }
  return series;
}

export function latestDeliveries(db: DbHandle["db"], workspaceId: string, connectionId: string, limit = 10) {
  return db
    .selectFrom("deliveries as d")
    .innerJoin("insights as n", "n.id", "d.insight_id")
    .select(["d.id", "d.status", "d.attempts", "d.created_at", "d.item_url", "d.intent_name", "n.id as insight_id", "n.title"])
    .where("d.workspace_id", "=", workspaceId)
    .where("d.connection_id", "=", connectionId)
    .orderBy("d.created_at", "desc")
    .limit(limit)
    .execute();
}
