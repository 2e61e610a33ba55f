import type { Compilable } from "kysely";
import {
  ACTIVE,
  statusAfterAuthFailure,
  statusAfterProviderFailure,
  statusChangeWrites,
  type StatusChange,
} from "../connections/status.server";
import { budgetWaitUntil, pacedMessage, pausedColumns, budgetColumns } from "../connections/rate-budget.server";
import { withTokens, type VaultDeps } from "../connections/vault.server";
import { precompiled, runBatch, type Db } from "../platform/db.server";
import type { ConnectionRow, DeliveryRow, ErrorClass } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { describeProviderError, isAuthFailure, isTransient, ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { DeliveredItem, DeliveryInput, ProviderModule, RateBudget } from "../providers/types";
import { deliveryFailedEvent } from "./failure-events.server";

/**
 * One attempt of one delivery (docs/decisions/013-deliveries-on-queues.md). D1 is the record: a
 * claimed delivery is leased, so a worker that dies mid-call loses nothing (the lease runs out
 * and the delivery is attempted again); the attempt's log row, the delivery's new state, and the
 * connection's and intent's updates are written in one batch. An attempt that may have reached
 * the provider without a known result (a timeout, a garbled answer, a worker that died) makes the
 * next attempt look the delivery up at the provider before sending anything: effectively once.
 */
export const DELIVERY_LEASE_MS = 60_000;
/**
 * A held delivery (its connection is disabled) is due at this far-off time until the connection is
 * enabled again: no sweep or due-query ever reaches it, however many are held.
 */
export const HELD_UNTIL_ENABLED = 8_640_000_000_000_000;
/** Attempts per round that may fail for a reason other than a rate limit; a redelivery starts a new round. */
const MAX_ATTEMPTS = 5;
/**
 * Rate-limited attempts a round waits out on top of those (flow control, not failure). With
 * MAX_ATTEMPTS this stays under the queue's max_retries (30), so the outbox, not the dead-letter
 * queue, decides when a delivery has failed.
 */
const MAX_RATE_LIMITED = 20;
/** The spread added to a Retry-After doubles with each rate limit of the round, up to this. */
const RATE_LIMIT_SPREAD_CAP_MS = 5 * 60_000;

/**
 * How long to wait after a rate limit: the provider's Retry-After (a minute without one), plus
 * a random spread that starts at a quarter of it (at least a second) and doubles with every rate
 * limit the delivery already met this round. Deliveries that met a limit together come back
 * spread ever wider, so a burst to a provider allowing three requests a second drains at that
 * pace instead of colliding again and again.
 */
export function rateLimitDelayMs(retryAfterSeconds: number | undefined, earlier = 0, random = Math.random()) {
  const wait = (retryAfterSeconds ?? 60) * 1000;
  const spread = Math.min(RATE_LIMIT_SPREAD_CAP_MS, Math.max(1000, wait / 4) * 2 ** earlier);
  return wait + Math.round(random * spread);
}

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 15 * 60_000;

/** After the n-th failure of a round: 15–30 s, 30–60 s, 1–2 min… up to 15 minutes. */
export function backoffMs(failures: number, random = Math.random()) {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  // Full jitter on the upper half, so retries of many deliveries do not arrive together.
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

/**
 * What the queue should do with a delivery's message: drop it, or bring it back later; and what
 * the attempt came to (none when the delivery was not due or someone else held it).
 */
export type Disposition =
  { kind: "done"; outcome?: "succeeded" | "failed" | "held" } | { kind: "later"; delayMs: number; outcome?: "retry" };

type Outcome = {
  /** Whether this attempt called the provider's create endpoint. */
  sent: boolean;
  /** When an attempt whose result is unknown started (null: nothing unconfirmed remains). */
  unconfirmedSince: number | null;
} & (
  | { kind: "succeeded"; item: DeliveredItem; note?: string }
  | {
      kind: "retry";
      errorClass: ErrorClass;
      message: string;
      status?: number;
      delayMs: number;
      /** A 429: every delivery through the connection waits this long (the provider's Retry-After). */
      pauseMs?: number;
    }
  | { kind: "failed"; errorClass: ErrorClass; message: string; status?: number; connectionChange?: StatusChange; intentAttention?: boolean }
);

interface Claimed {
  delivery: DeliveryRow;
  insight: { title: string; body: string };
  connection: ConnectionRow | undefined;
  /** The intent carries a failure of its own settings (cleared by this delivery's success). */
  intentNeedsAttention: boolean;
  startedAt: number;
  /** The budget the provider's last answer of this attempt reported. */
  budget: RateBudget | null;
}

type ClaimResult = { claimed: Claimed } | { claimed: null; disposition: Disposition };

/**
 * Claims a due delivery and reads what it needs (the insight, the connection, the intent's
 * state) in one round trip: a batch whose second statement only sees the row if the first one
 * leased it to us. A lease found still held but expired means its holder died mid-attempt: that
 * attempt is unconfirmed.
 */
// Every delivery runs these: built and compiled once per isolate, bound per attempt.
const CLAIM = precompiled(["owner", "leaseExpiresAt", "deliveryId", "now"], (db, p) =>
  db
    .updateTable("deliveries")
    .set((eb) => ({
      lease_owner: p.owner,
      lease_expires_at: p.leaseExpiresAt,
      unconfirmed_since: eb
        .case()
        .when("lease_owner", "is not", null)
        .then(eb.fn.coalesce("unconfirmed_since", eb("lease_expires_at", "-", DELIVERY_LEASE_MS)))
        .else(eb.ref("unconfirmed_since"))
        .end(),
    }))
    .where("id", "=", p.deliveryId)
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", p.now)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", p.now)]))
    .returningAll(),
);
const READ_CLAIMED = precompiled(["deliveryId", "owner"], (db, p) =>
  db
    .selectFrom("deliveries as d")
    .innerJoin("insights as n", "n.id", "d.insight_id")
    .leftJoin("connections as c", "c.id", "d.connection_id")
    .leftJoin("intents as i", "i.id", "d.intent_id")
    .selectAll("c")
    .select(["n.title as insight_title", "n.body as insight_body", "i.attention_reason as intent_attention"])
    .where("d.id", "=", p.deliveryId)
    .where("d.lease_owner", "=", p.owner),
);
const RECORD_ATTEMPT = precompiled(
  ["id", "deliveryId", "insightId", "attempt", "at", "outcome", "status", "errorClass", "message", "itemUrl", "sent"],
  (db, p) =>
    db.insertInto("delivery_attempts").values({
      id: p.id,
      delivery_id: p.deliveryId,
      insight_id: p.insightId,
      attempt: p.attempt,
      at: p.at,
      outcome: p.outcome,
      http_status: p.status,
      error_class: p.errorClass,
      message: p.message,
      item_url: p.itemUrl,
      sent: p.sent,
    }),
);
const RECORD_SUCCESS = precompiled(["attempts", "itemId", "itemUrl", "at", "deliveryId", "owner"], (db, p) =>
  db
    .updateTable("deliveries")
    .set({
      lease_owner: null,
      lease_expires_at: null,
      attempts: p.attempts,
      unconfirmed_since: null,
      status: "succeeded",
      item_id: p.itemId,
      item_url: p.itemUrl,
      completed_at: p.at,
    })
    .where("id", "=", p.deliveryId)
    .where("lease_owner", "=", p.owner),
);
// The budget the answer reported (all null when it reported none: the last report stays).
const RECORD_LAST_USE = precompiled(["at", "connectionId", "unit", "limit", "remaining", "resetAt", "observedAt", "refill"], (db, p) =>
  db
    .updateTable("connections")
    .set((eb) => ({
      last_used_at: p.at,
      budget_unit: eb.fn.coalesce(eb.val<string | null>(p.unit), eb.ref("budget_unit")),
      budget_limit: eb.fn.coalesce(eb.val<number | null>(p.limit), eb.ref("budget_limit")),
      budget_remaining: eb.fn.coalesce(eb.val<number | null>(p.remaining), eb.ref("budget_remaining")),
      budget_reset_at: eb.fn.coalesce(eb.val<number | null>(p.resetAt), eb.ref("budget_reset_at")),
      budget_observed_at: eb.fn.coalesce(eb.val<number | null>(p.observedAt), eb.ref("budget_observed_at")),
      budget_refill: eb.fn.coalesce(eb.val<"at-reset" | "continuous" | null>(p.refill), eb.ref("budget_refill")),
    }))
    .where("id", "=", p.connectionId),
);

async function claim(db: Db, deliveryId: string, owner: string, now: number): Promise<ClaimResult> {
  const [claimed, read] = await runBatch(db, [
    CLAIM.bind({ owner, leaseExpiresAt: now + DELIVERY_LEASE_MS, deliveryId, now }),
    READ_CLAIMED.bind({ deliveryId, owner }),
  ]);
  const delivery = claimed?.results[0] as DeliveryRow | undefined;
  const row = read?.results[0] as
    (Partial<ConnectionRow> & { insight_title: string; insight_body: string; intent_attention: string | null }) | undefined;
  if (delivery && row) {
    const { insight_title: title, insight_body: body, intent_attention: intentAttention, ...connection } = row;
    const found = connection.id ? (connection as ConnectionRow) : undefined;
    return {
      claimed: {
        delivery,
        insight: { title, body },
        connection: found,
        intentNeedsAttention: typeof intentAttention === "string",
        startedAt: now,
        budget: null,
      },
    };
  }
  // Not claimed (rare: a duplicate message, or one that came early): say when to look again.
  const current = await db
    .selectFrom("deliveries")
    .select(["status", "next_attempt_at", "lease_expires_at"])
    .where("id", "=", deliveryId)
    .executeTakeFirst();
  if (!current || current.status !== "pending") return { claimed: null, disposition: { kind: "done" } };
  const wakeAt = Math.max(current.next_attempt_at, (current.lease_expires_at ?? 0) + 1000);
  return { claimed: null, disposition: { kind: "later", delayMs: Math.max(1000, wakeAt - now) } };
}

/** Claims and performs one attempt of a delivery; says what the queue should do next. */
export async function processDelivery(deps: VaultDeps, deliveryId: string, now = Date.now()): Promise<Disposition> {
  const owner = crypto.randomUUID();
  const result = await claim(deps.db, deliveryId, owner, now);
  if (!result.claimed) return result.disposition;
  const { claimed } = result;
  if (claimed.connection && claimed.connection.disabled_at !== null) return hold(deps.db, claimed.delivery.id, owner);
  const attempt = claimed.delivery.attempts + 1;
  const outcome = await attemptDelivery(deps, claimed, attempt);
  await recordOutcome(deps.db, claimed, attempt, owner, outcome);
  return outcome.kind === "retry" ? { kind: "later", delayMs: outcome.delayMs, outcome: "retry" } : { kind: "done", outcome: outcome.kind };
}

/**
 * The connection is disabled: the delivery waits, neither sent nor failed, until it is enabled
 * again (which sends what waits). If it was enabled meanwhile, the delivery goes ahead shortly.
 */
async function hold(db: Db, deliveryId: string, owner: string): Promise<Disposition> {
  const now = Date.now();
  const held = await db
    .updateTable("deliveries")
    .set({ lease_owner: null, lease_expires_at: null, held_at: now, next_attempt_at: HELD_UNTIL_ENABLED })
    .where("id", "=", deliveryId)
    .where("lease_owner", "=", owner)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("connections as c")
          .select("c.id")
          .whereRef("c.id", "=", "deliveries.connection_id")
          .where("c.disabled_at", "is not", null),
      ),
    )
    .executeTakeFirst();
  if (Number(held.numUpdatedRows) === 1) return { kind: "done", outcome: "held" };
  await db
    .updateTable("deliveries")
    .set({ lease_owner: null, lease_expires_at: null })
    .where("id", "=", deliveryId)
    .where("lease_owner", "=", owner)
    .execute();
  return { kind: "later", delayMs: 1000 };
}

async function attemptDelivery(deps: VaultDeps, claimed: Claimed, attempt: number): Promise<Outcome> {
  const { delivery, insight, connection } = claimed;
  const provider = getProvider(delivery.provider);
  const unconfirmedSince = delivery.unconfirmed_since;
  const notSent = { sent: false, unconfirmedSince };
  if (!connection) {
    const message = `The connection ${delivery.connection_name} was deleted. Point the intent at another connection.`;
    return { ...notSent, kind: "failed", errorClass: "user", message };
  }
  // A token known to be dead fails the delivery without calling the provider. A connection in
  // error still delivers: its next success brings it back to active.
  if (connection.status === "revoked" || connection.status === "expired") {
    const reason = connection.status_reason ? ` (${connection.status_reason})` : "";
    const message = `Not delivered: connection ${connection.name} is ${connection.status}${reason}. Re-authorize it from its page, then redeliver.`;
    return { ...notSent, kind: "failed", errorClass: "user", message };
  }
  const config = JSON.parse(delivery.config_json) as Record<string, unknown>;
  const missing = provider.requiredForDelivery.filter((field) => config[field] === undefined || config[field] === "");
  if (missing.length) {
    const labels = missing.map((field) => provider.configFields.find((f) => f.name === field)?.label ?? field);
    const message = `Not delivered: no ${labels.join(", ").toLowerCase()} is set. Set it on the connection or override it on intent ${delivery.intent_name}.`;
    return { ...notSent, kind: "failed", errorClass: "config", message, intentAttention: true };
  }
  const context = providerContext(deps.settings, connection.provider);
  if (!context) return { ...notSent, kind: "failed", errorClass: "config", message: `${provider.name} is not configured on this server.` };
  // The connection's budget is nearly spent (or a 429 paused it): wait for the reset, unsent.
  const waitUntil = budgetWaitUntil(connection, claimed.startedAt);
  if (waitUntil !== null) {
    const delayMs = rateLimitDelayMs((waitUntil - claimed.startedAt) / 1000, 0);
    return { ...notSent, kind: "retry", errorClass: "rate_limit", message: pacedMessage(provider.name, connection, waitUntil), delayMs };
  }

  const input: DeliveryInput = {
    title: insight.title,
    body: insight.body,
    config,
    idempotencyKey: delivery.idempotency_key,
    accountUrl: connection.account_url,
  };
  // Whether the request that creates the item went out decides whether the provider may have acted.
  let sent = false;
  const attemptContext = {
    ...context,
    onCreate: () => void (sent = true),
    onResponse: (headers: Headers) => {
      claimed.budget = provider.rateLimit.read(headers, Date.now()) ?? claimed.budget;
    },
  };
  let lookedUp = false;
  const result = await withTokens(deps, connection, async (tokens, current) => {
    const withAccount = { ...input, accountUrl: current.account_url };
    if (unconfirmedSince !== null && !lookedUp) {
      const found = await lookUp(provider, attemptContext, tokens, { ...withAccount, since: unconfirmedSince });
      lookedUp = true;
      if (found) return { item: found, found: true };
    }
    return { item: await provider.deliver(attemptContext, tokens, withAccount), found: false };
  });
  if (result.ok) {
    if (result.value.found) {
      const note = "Found at the provider: an earlier attempt had arrived although its answer was lost. Not sent again.";
      return { sent: false, unconfirmedSince: null, kind: "succeeded", item: result.value.item, note };
    }
    return { sent: true, unconfirmedSince: null, kind: "succeeded", item: result.value.item };
  }
  // Nothing was sent this time, and the earlier attempt was looked up and not found: settled.
  const remaining = lookedUp ? null : unconfirmedSince;
  switch (result.problem) {
    case "unreadable":
      return {
        sent: false,
        unconfirmedSince: remaining,
        kind: "failed",
        errorClass: "user",
        message: result.change.reason!,
        connectionChange: result.change,
      };
    case "refused": {
      const refusal = describeProviderError(result.error);
      const message = result.rejection
        ? `Revoked by ${provider.name} (${describeProviderError(result.rejection)}); refreshing the token was refused too (${refusal}). Re-authorize the connection, then redeliver.`
        : refusal;
      const status = result.rejection?.details.status;
      return {
        sent: false,
        unconfirmedSince: remaining,
        kind: "failed",
        errorClass: "user",
        message,
        status,
        connectionChange: result.change,
      };
    }
    case "unavailable":
      return classify(result.error, connection, provider.name, claimed, attempt, { sent: false, unconfirmedSince: remaining });
    case "provider": {
      // A send that timed out or got a garbled or 5xx answer may have created the item.
      const ambiguous = sent && isTransient(result.error) && result.error.kind !== "rate_limited";
      const since = ambiguous ? (remaining ?? claimed.startedAt) : remaining;
      return classify(result.error, result.connection, provider.name, claimed, attempt, { sent, unconfirmedSince: since });
    }
  }
}

/** Looks the delivery up; a provider without look-ups cannot confirm, so nothing is resent blindly. */
async function lookUp(provider: ProviderModule, ...args: Parameters<NonNullable<ProviderModule["findDelivered"]>>) {
  if (!provider.findDelivered) {
    throw new ProviderError(
      "client_error",
      `${provider.name} offers no way to check whether the earlier attempt arrived; not sent again to avoid a duplicate.`,
    );
  }
  return provider.findDelivered(...args);
}

function classify(
  error: ProviderError,
  connection: ConnectionRow,
  providerName: string,
  claimed: Claimed,
  attempt: number,
  facts: { sent: boolean; unconfirmedSince: number | null },
): Outcome {
  const message = describeProviderError(error);
  const status = error.details.status;
  if (isAuthFailure(error)) {
    const change = statusAfterAuthFailure(error, connection, providerName);
    // Said as what happened to the token, not as the HTTP status it came with (Slack's is 200).
    const said =
      change.status === "expired"
        ? `Expired: ${providerName} says the token expired (${error.message}).`
        : `Revoked by ${providerName} (${error.message}).`;
    return {
      ...facts,
      kind: "failed",
      errorClass: "user",
      message: `${said} Re-authorize the connection, then redeliver.`,
      status,
      connectionChange: change,
    };
  }
  const { retry_base: base, rate_limited_in_round: rateLimited } = claimed.delivery;
  if (error.kind === "rate_limited" && rateLimited < MAX_RATE_LIMITED) {
    const delayMs = rateLimitDelayMs(error.details.retryAfterSeconds, rateLimited);
    const pauseMs = (error.details.retryAfterSeconds ?? 60) * 1000;
    return { ...facts, kind: "retry", errorClass: "rate_limit", message, status, delayMs, pauseMs };
  }
  // The failures of this round that were not rate limits.
  const failures = attempt - base - rateLimited;
  if (isTransient(error) && error.kind !== "rate_limited" && failures < MAX_ATTEMPTS) {
    return { ...facts, kind: "retry", errorClass: "provider", message, status, delayMs: backoffMs(failures) };
  }
  if (isTransient(error)) {
    const errorClass = error.kind === "rate_limited" ? "rate_limit" : "provider";
    return { ...facts, kind: "failed", errorClass, message, status, connectionChange: statusAfterProviderFailure(error, providerName) };
  }
  // The provider refused what this intent asked for (a repository it cannot see, a deleted list,
  // a value it rejects): the intent needs attention, the connection itself is fine.
  return { ...facts, kind: "failed", errorClass: "config", message, status, intentAttention: true };
}

/** The log row, the delivery's new state, the connection's and the intent's updates: one batch. */
async function recordOutcome(
  db: Db,
  { delivery, connection, intentNeedsAttention, budget }: Claimed,
  attempt: number,
  owner: string,
  outcome: Outcome,
) {
  const now = Date.now();
  const failure = outcome.kind === "succeeded" ? null : outcome;
  const writes: Compilable[] = [
    RECORD_ATTEMPT.bind({
      id: crypto.randomUUID(),
      deliveryId: delivery.id,
      insightId: delivery.insight_id,
      attempt,
      at: now,
      outcome: outcome.kind === "succeeded" ? "succeeded" : outcome.kind === "retry" ? "retrying" : "failed",
      status: failure?.status ?? null,
      errorClass: failure?.errorClass ?? null,
      message: failure?.message ?? (outcome.kind === "succeeded" ? (outcome.note ?? null) : null),
      itemUrl: outcome.kind === "succeeded" ? outcome.item.url : null,
      sent: outcome.sent ? 1 : 0,
    }),
  ];
  const leased = () => db.updateTable("deliveries").where("id", "=", delivery.id).where("lease_owner", "=", owner);
  const release = { lease_owner: null, lease_expires_at: null, attempts: attempt, unconfirmed_since: outcome.unconfirmedSince };
  const intentId = delivery.intent_id;
  const intent = () => db.updateTable("intents").where("id", "=", intentId);
  if (outcome.kind === "succeeded") {
    const { id: itemId, url: itemUrl } = outcome.item;
    writes.push(RECORD_SUCCESS.bind({ attempts: attempt, itemId, itemUrl, at: now, deliveryId: delivery.id, owner }));
    if (connection) {
      writes.push(
        RECORD_LAST_USE.bind({
          at: now,
          connectionId: connection.id,
          unit: budget?.unit ?? null,
          limit: budget?.limit ?? null,
          remaining: budget?.remaining ?? null,
          resetAt: budget?.resetAt ?? null,
          observedAt: budget ? now : null,
          refill: budget?.refill ?? null,
        }),
      );
      // A connection in error heals itself with a success.
      if (connection.status === "error") writes.push(...statusChangeWrites(db, connection, ACTIVE, now));
    }
    if (intentId && intentNeedsAttention)
      writes.push(intent().set({ attention_reason: null, attention_insight_id: null, attention_at: null }));
  } else if (outcome.kind === "retry") {
    const rateLimited = outcome.errorClass === "rate_limit" ? delivery.rate_limited_in_round + 1 : delivery.rate_limited_in_round;
    writes.push(leased().set({ ...release, next_attempt_at: now + outcome.delayMs, rate_limited_in_round: rateLimited }));
    // A 429 pauses every delivery through the connection, not only this one.
    if (connection && outcome.pauseMs !== undefined) {
      writes.push(connectionUpdate(db, connection).set(pausedColumns(connection, budget, outcome.pauseMs, now)));
    } else if (connection && budget) writes.push(connectionUpdate(db, connection).set(budgetColumns(budget, now)));
  } else {
    if (connection && budget) writes.push(connectionUpdate(db, connection).set(budgetColumns(budget, now)));
    writes.push(leased().set({ ...release, status: "failed", completed_at: now }));
    writes.push(...deliveryFailedEvent(db, delivery, { attempts: attempt, message: outcome.message, errorClass: outcome.errorClass }, now));
    if (connection && outcome.connectionChange) {
      // The connection page links the insight whose delivery failed, in the provider's words.
      const change = { ...outcome.connectionChange, error: { message: outcome.message, insightId: delivery.insight_id } };
      writes.push(...statusChangeWrites(db, connection, change, now));
    }
    if (intentId && outcome.intentAttention) {
      writes.push(intent().set({ attention_reason: outcome.message, attention_insight_id: delivery.insight_id, attention_at: now }));
    }
  }
  await runBatch(db, writes);
}

function connectionUpdate(db: Db, connection: ConnectionRow) {
  return db.updateTable("connections").where("workspace_id", "=", connection.workspace_id).where("id", "=", connection.id);
}

/**
 * Due deliveries, attempted here (no queue): what the tests drive step by step and what the cron
 * does when the app runs without a queue. One delivery's failure never cuts off another's.
 */
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
  const settled = await Promise.allSettled(due.map((row) => processDelivery(deps, row.id, now)));
  const failures = settled.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failures.length) {
    throw new AggregateError(
      failures.map((failure): unknown => failure.reason),
      `${failures.length} deliveries failed unexpectedly`,
    );
  }
  return due.length;
}
