import type { Compilable } from "kysely";
import type { Db } from "../platform/db.server";
import { runBatch } from "../platform/db.server";
import type { HealthCheckMessage, HealthQueue } from "../platform/queues";
import type { ConnectionRow, ConnectionStatus, HealthOutcome } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { isAuthFailure } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { AccountIdentity, RateBudget } from "../providers/types";
import { getConnection } from "./repository.server";
import {
  ACTIVE,
  authorizationEndsAt,
  expiresSoon,
  nextCheckAt,
  statusAfterAuthFailure,
  statusAfterProviderFailure,
  statusChangeWrites,
  type StatusChange,
} from "./status.server";
import { budgetColumns } from "./rate-budget.server";
import { withTokens, type VaultDeps } from "./vault.server";
import { recordConnectionExpiring, recordConnectionHealthFailed } from "../webhooks/outbox.server";

/**
 * Connection health (docs/decisions/017-connection-health.md): the provider is asked who the
 * token belongs to, on demand ("Test connection") and on a schedule for every active or erroring
 * connection, tokens that never expire included. The result is kept on the connection.
 */

interface IdentityCheck {
  outcome: HealthOutcome;
  /** The connection as the vault left it (refreshed, or marked by a refused refresh). */
  connection: ConnectionRow;
  /** What the check says about the connection's status; null leaves it as it is. */
  change: StatusChange | null;
  message: string;
  latencyMs: number;
  /** The request budget the provider's answers reported, if any. */
  budget?: RateBudget | null;
}

/**
 * One identity call through the vault (refreshing first, or once after a rejected token, when a
 * refresh token is held). An outage is reported as `unreachable`; whether it changes the status
 * is the caller's choice.
 */
async function checkIdentity(deps: VaultDeps, connection: ConnectionRow, foundBy: string): Promise<IdentityCheck | null> {
  const provider = getProvider(connection.provider);
  const settings = providerContext(deps.settings, connection.provider);
  if (!settings) return null;
  let budget: RateBudget | null = null;
  const context = {
    ...settings,
    onResponse: (headers: Headers) => void (budget = provider.rateLimit.read(headers, Date.now()) ?? budget),
  };
  const started = Date.now();
  const result = await withTokens(deps, connection, (tokens) => provider.fetchIdentity(context, tokens));
  const latencyMs = Date.now() - started;
  return { ...identityVerdict(result, connection, provider.name, foundBy, latencyMs), budget };
}

/** What the identity call's result says about the connection. */
function identityVerdict(
  result: Awaited<ReturnType<typeof withTokens<AccountIdentity>>>,
  connection: ConnectionRow,
  providerName: string,
  foundBy: string,
  latencyMs: number,
): IdentityCheck {
  const provider = { name: providerName };
  const found = (change: StatusChange): StatusChange => {
    const reason = `${change.reason} (${foundBy})`;
    return { ...change, reason, error: { message: reason } };
  };
  if (result.ok) {
    const identity = result.value;
    const current = result.connection;
    if (identity.accountId !== connection.account_id) {
      const reason = `The token now belongs to ${identity.label}, not ${connection.account_label}. Re-authorize to choose.`;
      const change = { status: "error" as const, reason, error: { message: reason } };
      return { outcome: "other_account", connection: current, change, message: reason, latencyMs };
    }
    const message = `${provider.name} confirmed the connection works (${identity.label}).`;
    return { outcome: "ok", connection: current, change: ACTIVE, message, latencyMs };
  }
  if (result.problem === "unreadable") {
    return { outcome: "unreadable", connection, change: result.change, message: result.change.reason!, latencyMs };
  }
  if (result.problem === "refused") {
    // The vault already recorded the refusal (or the end of a long refresh outage).
    const outcome = result.change.status === "expired" ? "expired" : "revoked";
    return {
      outcome,
      connection: { ...connection, status: result.change.status },
      change: null,
      message: result.change.reason!,
      latencyMs,
    };
  }
  if (result.problem === "provider" && isAuthFailure(result.error)) {
    const change = found(statusAfterAuthFailure(result.error, result.connection, provider.name));
    const outcome = change.status === "expired" ? "expired" : "revoked";
    return { outcome, connection: result.connection, change, message: change.reason!, latencyMs };
  }
  const outage = statusAfterProviderFailure(result.error, provider.name);
  return {
    outcome: "unreachable",
    connection: result.problem === "provider" ? result.connection : connection,
    change: outage,
    message: outage.reason!,
    latencyMs,
  };
}

function healthColumns(check: IdentityCheck, at: number) {
  return {
    health_checked_at: at,
    health_outcome: check.outcome,
    health_latency_ms: check.latencyMs,
    health_message: check.message,
    ...(check.budget ? budgetColumns(check.budget, at) : {}),
  };
}

/** `warning`: the token works, but something else needs the person's eye (its settings, say). */
export type ConnectionTestOutcome = { status: ConnectionStatus; message: string; warning?: boolean };

/**
 * "Test connection": success makes the connection active; a refused token marks it revoked or
 * expired; anything else (the person asked, and the provider failed) marks it error.
 */
export async function testConnection(deps: VaultDeps, connection: ConnectionRow): Promise<ConnectionTestOutcome> {
  const provider = getProvider(connection.provider);
  const check = await checkIdentity(deps, connection, "found by Test connection");
  if (!check) return { status: connection.status, message: `${provider.name} is not configured on this server, so it cannot be tested.` };
  const now = Date.now();
  const writes: Compilable[] = [
    deps.db
      .updateTable("connections")
      .set(healthColumns(check, now))
      .where("workspace_id", "=", connection.workspace_id)
      .where("id", "=", connection.id),
  ];
  if (check.change) writes.push(...statusChangeWrites(deps.db, connection, check.change, now));
  await runBatch(deps.db, writes);
  return { status: check.change?.status ?? check.connection.status, message: check.message };
}

/** The earliest checks the cron takes per run: bounded work however many connections there are. */
export const HEALTH_CHECKS_PER_RUN = 100;
/** While a check is on the queue its connection is pushed this far ahead, so no other run takes it. */
const CHECK_LEASE_MS = 15 * 60_000;
/** After an outage, check again this soon (the status is left alone). */
const UNREACHABLE_RECHECK_MS = 30 * 60_000;

/**
 * The cron's part: takes the connections whose check is due (earliest first, at most `limit`),
 * pushes them ahead by a lease in the same statement, and puts their checks on the queue. One
 * indexed statement and one queue send per run, whatever the number of connections. Without a
 * queue (tests, DELIVERY_DISPATCH=manual) the checks run here, fewer of them.
 */
export async function scheduleHealthChecks(
  deps: VaultDeps,
  queue: HealthQueue | null,
  options: {
    now?: number;
    limit?: number;
    /** Runs one check where there is no queue: the queue consumer's own check (token and settings). */
    run?: (message: HealthCheckMessage) => Promise<unknown>;
  } = {},
): Promise<{ due: number }> {
  const now = options.now ?? Date.now();
  const limit = options.limit ?? (queue ? HEALTH_CHECKS_PER_RUN : 10);
  const taken = await takeDueChecks(deps.db, now, limit);
  if (queue) {
    if (taken.length) await queue.sendBatch(taken.map((body) => ({ body })));
  } else {
    const run = options.run ?? ((message: HealthCheckMessage) => runHealthCheck(deps, message, now));
    for (const message of taken) await run(message);
  }
  return { due: taken.length };
}

/** One statement: the due connections, pushed ahead by the lease, returned. */
export function takeDueChecks(db: Db, now: number, limit: number): Promise<HealthCheckMessage[]> {
  return dueChecksQuery(db, now, limit).execute();
}

export function dueChecksQuery(db: Db, now: number, limit: number) {
  return db
    .updateTable("connections")
    .set({ health_due_at: now + CHECK_LEASE_MS })
    .where(
      "id",
      "in",
      db
        .selectFrom("connections")
        .select("id")
        // Served by the partial index connections_health_due (migrations/0007): only connections
        // that are to be checked have a due time.
        .where("health_due_at", "<=", now)
        .orderBy("health_due_at")
        .limit(limit),
    )
    .returning(["workspace_id as workspaceId", "id as connectionId"]);
}

/**
 * One scheduled check. A revoked or expired token found this way moves the connection at once;
 * success brings a connection in error back to active; an outage is recorded without touching
 * the status (never a false "revoked"), and checked again sooner.
 */
export async function runHealthCheck(deps: VaultDeps, message: HealthCheckMessage, now = Date.now()): Promise<HealthOutcome | null> {
  const row = await getConnection(deps.db, message.workspaceId, message.connectionId);
  if (!row) return null;
  if (row.disabled_at !== null || (row.status !== "active" && row.status !== "error")) {
    // Nothing to check until it is enabled or re-authorized (which schedule it again).
    await schedule(deps.db, row, null);
    return null;
  }
  const interval = deps.settings.health.intervalMs;
  // A refresh in backoff after an outage: do not ask again before its time.
  const accessExpired = row.access_token_expires_at !== null && row.access_token_expires_at <= now;
  if (accessExpired && row.refresh_retry_at !== null && row.refresh_retry_at > now) {
    await schedule(deps.db, row, row.refresh_retry_at);
    return null;
  }
  const check = await checkIdentity(deps, row, "found by SpokeDo's scheduled check");
  if (!check) {
    await schedule(deps.db, row, nextCheckAt(interval, now));
    return null;
  }
  const done = Date.now();
  const dueAt =
    check.outcome === "ok"
      ? nextCheckAt(interval, done)
      : check.outcome === "unreachable"
        ? nextCheckAt(Math.min(interval, UNREACHABLE_RECHECK_MS), done)
        : null;
  const writes: Compilable[] = [
    deps.db
      .updateTable("connections")
      .set({ ...healthColumns(check, done), health_due_at: dueAt })
      .where("workspace_id", "=", row.workspace_id)
      .where("id", "=", row.id),
  ];
  // Outages leave the status alone; everything else is the check's verdict.
  if (check.change && check.outcome !== "unreachable") writes.push(...statusChangeWrites(deps.db, row, check.change, done));
  // A check that could not confirm the connection (and did not change its status) is an event of
  // its own, once per check; revocations and expiries are told by the status change.
  if (check.outcome === "unreachable" || check.outcome === "other_account" || check.outcome === "unreadable") {
    writes.push(...recordConnectionHealthFailed(deps.db, row, { reason: check.message, at: done, dedupeKey: String(done) }));
  }
  // An authorization that ends soon (and was not extended by the refresh this check may have
  // made): warn the workspace once per expiry.
  if (check.outcome === "ok") {
    const latest = check.connection;
    const endsAt = authorizationEndsAt({ ...latest, has_refresh_token: latest.refresh_token_ct !== null });
    if (expiresSoon(endsAt, deps.settings.health.expiryWarningMs, done)) {
      const reason = `The authorization ends ${new Date(endsAt!).toISOString()}; re-authorize before then to keep deliveries going.`;
      writes.push(...recordConnectionExpiring(deps.db, latest, { expiresAt: endsAt!, reason }));
    }
  }
  await runBatch(deps.db, writes);
  return check.outcome;
}

async function schedule(db: Db, row: Pick<ConnectionRow, "id" | "workspace_id">, at: number | null) {
  await db
    .updateTable("connections")
    .set({ health_due_at: at })
    .where("workspace_id", "=", row.workspace_id)
    .where("id", "=", row.id)
    .execute();
}
