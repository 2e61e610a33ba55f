import type { Compilable } from "kysely";
import { statusAfterAuthFailure, statusAfterProviderFailure, statusChangeQuery, type StatusChange } from "../connections/status.server";
import { withTokens, type VaultDeps } from "../connections/vault.server";
import { runBatch, runOnPrimary, type Db } from "../platform/db.server";
import type { ConnectionRow, DeliveryRow, ErrorClass } from "../platform/schema";
import { providerContext, type Settings } from "../platform/settings.server";
import { describeProviderError, isAuthFailure, isTransient, type ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { DeliveredItem } from "../providers/types";

/**
 * Deliveries live in a durable outbox in D1 (see docs/decisions/005-delivery-outbox.md): a
 * claimed delivery is leased, so a worker that dies mid-call loses nothing (the lease expires and
 * the delivery is due again); its log row, its new state and the connection's status change are
 * written in one batch.
 */
const DELIVERY_LEASE_MS = 60_000;
const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 15 * 60_000;

function backoffMs(attempt: number, random = Math.random()) {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  // Full jitter on the upper half, so retries of many deliveries do not arrive together.
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

type Outcome =
  | { kind: "succeeded"; item: DeliveredItem }
  | { kind: "retry"; errorClass: ErrorClass; message: string; status?: number; delayMs: number }
  | { kind: "failed"; errorClass: ErrorClass; message: string; status?: number; connectionChange?: StatusChange };

interface Claimed {
  delivery: DeliveryRow;
  insight: { title: string; body: string };
  connection: ConnectionRow | undefined;
}

/**
 * Claims a due delivery and reads what it needs (the insight and the connection) in one round
 * trip: a batch whose second statement only sees the row if the first one leased it to us.
 */
async function claim(db: Db, deliveryId: string, owner: string, now: number): Promise<Claimed | null> {
  const [claimed, read] = await runBatch(db, [
    db
      .updateTable("deliveries")
      .set({ lease_owner: owner, lease_expires_at: now + DELIVERY_LEASE_MS })
      .where("id", "=", deliveryId)
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]))
      .returningAll(),
    db
      .selectFrom("deliveries as d")
      .innerJoin("insights as n", "n.id", "d.insight_id")
      .leftJoin("connections as c", "c.id", "d.connection_id")
      .selectAll("c")
      .select(["n.title as insight_title", "n.body as insight_body"])
      .where("d.id", "=", deliveryId)
      .where("d.lease_owner", "=", owner),
  ]);
  const delivery = claimed?.results[0] as DeliveryRow | undefined;
  const row = read?.results[0] as (Partial<ConnectionRow> & { insight_title: string; insight_body: string }) | undefined;
  if (!delivery || !row) return null;
  const { insight_title: title, insight_body: body, ...connection } = row;
  return { delivery, insight: { title, body }, connection: connection.id ? (connection as ConnectionRow) : undefined };
}

/** Claims and performs one delivery attempt. Returns null when another worker holds it or it is not due. */
export async function processDelivery(deps: VaultDeps, deliveryId: string, now = Date.now()) {
  const owner = crypto.randomUUID();
  const claimed = await claim(deps.db, deliveryId, owner, now);
  if (!claimed) return null;
  const attempt = claimed.delivery.attempts + 1;
  const outcome = await attemptDelivery(deps, claimed, attempt);
  await recordOutcome(deps.db, claimed, attempt, owner, outcome);
  return outcome;
}

async function attemptDelivery(deps: VaultDeps, { delivery, insight, connection }: Claimed, attempt: number): Promise<Outcome> {
  const provider = getProvider(delivery.provider);
  if (!connection) {
    return {
      kind: "failed",
      errorClass: "user",
      message: `The connection ${delivery.connection_name} was deleted. Point the intent at another connection.`,
    };
  }
  // A connection that is not active fails the delivery without calling the provider.
  if (connection.status !== "active") {
    const fix = connection.status === "error" ? "Test the connection or re-authorize it" : "Re-authorize it";
    return {
      kind: "failed",
      errorClass: "user",
      message: `Not delivered: connection ${connection.name} is ${connection.status === "error" ? "in error" : connection.status}${connection.status_reason ? ` (${connection.status_reason})` : ""}. ${fix} from its page.`,
    };
  }
  const config = JSON.parse(delivery.config_json) as Record<string, unknown>;
  const missing = provider.requiredForDelivery.filter((field) => config[field] === undefined || config[field] === "");
  if (missing.length) {
    const labels = missing.map((field) => provider.configFields.find((f) => f.name === field)?.label ?? field);
    return {
      kind: "failed",
      errorClass: "config",
      message: `Not delivered: no ${labels.join(", ").toLowerCase()} is set. Set it on the connection or override it on intent ${delivery.intent_name}.`,
    };
  }
  const context = providerContext(deps.settings, connection.provider);
  if (!context) return { kind: "failed", errorClass: "config", message: `${provider.name} is not configured on this server.` };

  const result = await withTokens(deps, connection, (tokens, current) =>
    provider.deliver(context, tokens, {
      title: insight.title,
      body: insight.body,
      config,
      idempotencyKey: delivery.idempotency_key,
      accountUrl: current.account_url,
    }),
  );
  if (result.ok) return { kind: "succeeded", item: result.value };
  switch (result.problem) {
    case "unreadable":
      return { kind: "failed", errorClass: "user", message: result.change.reason!, connectionChange: result.change };
    case "refused": {
      const refusal = describeProviderError(result.error);
      const message = result.rejection
        ? `${describeProviderError(result.rejection)}; refreshing the token was refused too (${refusal}).`
        : refusal;
      return { kind: "failed", errorClass: "user", message, status: result.rejection?.details.status, connectionChange: result.change };
    }
    case "unavailable":
      return classify(result.error, connection, provider.name, attempt);
    case "provider":
      return classify(result.error, result.connection, provider.name, attempt);
  }
}

function classify(error: ProviderError, connection: ConnectionRow, providerName: string, attempt: number): Outcome {
  const message = describeProviderError(error);
  const status = error.details.status;
  if (isAuthFailure(error)) {
    return {
      kind: "failed",
      errorClass: "user",
      message,
      status,
      connectionChange: statusAfterAuthFailure(error, connection, providerName),
    };
  }
  if (isTransient(error) && attempt < MAX_ATTEMPTS) {
    const delayMs = error.kind === "rate_limited" ? (error.details.retryAfterSeconds ?? 60) * 1000 : backoffMs(attempt);
    return { kind: "retry", errorClass: error.kind === "rate_limited" ? "rate_limit" : "provider", message, status, delayMs };
  }
  const errorClass: ErrorClass = error.kind === "rate_limited" ? "rate_limit" : error.kind === "client_error" ? "config" : "provider";
  return { kind: "failed", errorClass, message, status, connectionChange: statusAfterProviderFailure(error, providerName) };
}

/** The log row, the delivery's new state, the connection's status and last use: one batch. */
async function recordOutcome(db: Db, { delivery, connection }: Claimed, attempt: number, owner: string, outcome: Outcome) {
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
  const leased = db.updateTable("deliveries").where("id", "=", delivery.id).where("lease_owner", "=", owner);
  const release = { lease_owner: null, lease_expires_at: null };
  if (outcome.kind === "succeeded") {
    writes.push(
      leased.set({
        status: "succeeded",
        attempts: attempt,
        item_id: outcome.item.id,
        item_url: outcome.item.url,
        completed_at: now,
        ...release,
      }),
    );
    if (connection) writes.push(db.updateTable("connections").set({ last_used_at: now }).where("id", "=", connection.id));
  } else if (outcome.kind === "retry") {
    writes.push(leased.set({ attempts: attempt, next_attempt_at: now + outcome.delayMs, ...release }));
  } else {
    writes.push(leased.set({ status: "failed", attempts: attempt, completed_at: now, ...release }));
    if (connection && outcome.connectionChange) {
      // The connection page links the insight whose delivery failed, in the provider's words.
      const change = { ...outcome.connectionChange, error: { message: outcome.message, insightId: delivery.insight_id } };
      writes.push(statusChangeQuery(db, connection, change, now));
    }
  }
  await runBatch(db, writes);
}

/** Deliveries that are due: pending and not leased (or whose holder's lease ran out). */
export async function processDueDeliveries(deps: VaultDeps, options: { limit?: number; insightId?: string; now?: number } = {}) {
  const now = options.now ?? Date.now();
  let query = deps.db
    .selectFrom("deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]));
  if (options.insightId) query = query.where("insight_id", "=", options.insightId);
  const due = await query
    .orderBy("next_attempt_at")
    .limit(options.limit ?? 50)
    .execute();
  // One delivery's failure never cuts off another's.
  const settled = await Promise.allSettled(due.map((row) => processDelivery(deps, row.id, now)));
  const failures = settled.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failures.length) {
    throw new AggregateError(
      failures.map((failure): unknown => failure.reason),
      `${failures.length} deliveries failed unexpectedly`,
    );
  }
  return settled.filter((result) => result.status === "fulfilled" && result.value !== null).length;
}

/** Runs an insight's deliveries in the background of the request that created it. */
export function startDeliveries(env: Env, settings: Settings, db: Db, insightId: string, waitUntil: (promise: Promise<unknown>) => void) {
  if (!settings.keyRing || !settings.deliveriesInBackground) return;
  const ring = settings.keyRing;
  waitUntil(
    // Background work reads from the primary: token rows must never come from a stale replica.
    runOnPrimary(env.DB, async () => {
      await processDueDeliveries({ db, settings, ring: await ring }, { insightId });
    }).catch((error: unknown) => console.error("deliveries failed to start", error instanceof Error ? error.message : "unknown error")),
  );
}
