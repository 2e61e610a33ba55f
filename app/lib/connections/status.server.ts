import { sql, type Compilable } from "kysely";
import { runBatch, type Db } from "../platform/db.server";
import type { ConnectionRow, ConnectionStatus } from "../platform/schema";
import { describeProviderError, type ProviderError } from "../providers/errors";
import type { ProviderId, RevokedAccounts } from "../providers/types";
import { recordEventFrom } from "../webhooks/outbox.server";

/**
 * The connection status rules of the product page, in one place: which provider answers move a
 * connection out of `active`, and the writes that record a move (applied on its own, inside a
 * delivery's batch, or to every connection holding an account a provider says was revoked): the
 * webhook events it causes, then the one UPDATE.
 */
export interface StatusChange {
  status: ConnectionStatus;
  /** Why, in words the connection page shows; null when back to active. */
  reason: string | null;
  /** The failure to show as the connection's last error, and the insight it happened on. */
  error?: { message: string; insightId?: string | null };
}

const UNREADABLE_TOKENS =
  "The stored tokens could not be decrypted (their key is gone or they were altered). Re-authorize to store fresh ones.";

export const ACTIVE: StatusChange = { status: "active", reason: null };

/**
 * An auth failure the provider gave for a token we could not (or need not) refresh: expired
 * when the provider or the clock says so, revoked otherwise.
 */
export function statusAfterAuthFailure(
  error: ProviderError,
  connection: Pick<ConnectionRow, "access_token_expires_at">,
  providerName: string,
  now = Date.now(),
): StatusChange {
  const expiredByClock = connection.access_token_expires_at !== null && connection.access_token_expires_at <= now;
  if (error.kind === "token_expired" || expiredByClock) {
    const reason = `${providerName} says the token expired (${error.message}). Re-authorize to continue.`;
    return { status: "expired", reason, error: { message: reason } };
  }
  const reason = `${providerName} no longer accepts the token (${error.message}). Re-authorize to restore access.`;
  return { status: "revoked", reason, error: { message: reason } };
}

/** A refresh the provider refused: the refresh token itself is dead or expired. */
export function statusAfterRefusedRefresh(
  error: ProviderError,
  connection: Pick<ConnectionRow, "refresh_token_expires_at">,
  providerName: string,
  now = Date.now(),
): StatusChange {
  const expired = connection.refresh_token_expires_at !== null && connection.refresh_token_expires_at <= now;
  const reason = expired
    ? `The refresh token expired; ${providerName} needs you to re-authorize.`
    : `${providerName} refused to refresh the token (${error.message}). Re-authorize to restore access.`;
  return { status: expired || error.kind === "token_expired" ? "expired" : "revoked", reason, error: { message: reason } };
}

/** Refreshing has failed (outages, not refusals) for longer than SpokeDo waits: the token is treated as expired. */
export function statusAfterRefreshOutage(error: ProviderError, providerName: string, days: number): StatusChange {
  const reason = `SpokeDo could not refresh the token for ${days} day${days === 1 ? "" : "s"} (${providerName}: ${describeProviderError(error)}). Re-authorize to continue.`;
  return { status: "expired", reason, error: { message: reason } };
}

/** A provider error that is not about the token (an outage that outlived the retries). */
export function statusAfterProviderFailure(error: ProviderError, providerName: string): StatusChange {
  const reason = `${providerName} answered with an error: ${describeProviderError(error)}`;
  return { status: "error", reason, error: { message: reason } };
}

/** The provider told us (a signed webhook) that the user revoked access on its side. */
export function statusAfterPushedRevocation(providerName: string, event: string): StatusChange {
  const reason = `Access was revoked in ${providerName} (${event}). Re-authorize to restore access.`;
  return { status: "revoked", reason, error: { message: reason } };
}

export function unreadableTokens(): StatusChange {
  return { status: "error", reason: UNREADABLE_TOKENS, error: { message: UNREADABLE_TOKENS } };
}

/**
 * When the connection's authorization ends unless someone re-authorizes: its refresh token's
 * expiry when it holds one (SpokeDo refreshes ahead of it, but a provider may refuse to extend it),
 * else its access token's; null when nothing is known to expire.
 */
export function authorizationEndsAt(row: {
  has_refresh_token: boolean | number;
  access_token_expires_at: number | null;
  refresh_token_expires_at: number | null;
}): number | null {
  return row.has_refresh_token ? row.refresh_token_expires_at : row.access_token_expires_at;
}

/** Whether that end is close enough to warn about (EXPIRY_WARNING_DAYS). */
export function expiresSoon(endsAt: number | null, warningMs: number, now = Date.now()) {
  return endsAt !== null && endsAt - now <= warningMs;
}

/** When a connection's next scheduled health check falls: the interval, give or take a tenth (jitter). */
export function nextCheckAt(intervalMs: number, now = Date.now(), random = Math.random()) {
  return now + Math.round(intervalMs * (0.9 + 0.2 * random));
}

/** A connection that goes into error is checked again this soon (its scheduled health check). */
export const RECHECK_ERROR_AFTER_MS = 5 * 60_000;

type ConnectionKey = Pick<ConnectionRow, "id" | "workspace_id">;

const MOVED_BACK_FROM: ConnectionStatus[] = ["error", "revoked", "expired"];

/**
 * The webhook events of a status change (docs/decisions/016-outgoing-webhooks.md):
 * `connection.status_changed` when the status really changes, and `connection.recovered` when it
 * goes back to active from error, revoked or expired. They read the row inside the batch, so they
 * must come before the statement that moves the status; they record nothing when it does not move.
 */
export function statusChangeEvents(
  db: Db,
  connection: ConnectionKey,
  change: StatusChange,
  now = Date.now(),
  /** Only if the connection was authorized by then (a pushed revocation is about older tokens). */
  authorizedBy?: number,
): Compilable[] {
  const moving = () => {
    const query = db
      .selectFrom("connections")
      .where("workspace_id", "=", connection.workspace_id)
      .where("id", "=", connection.id)
      .where("status", "!=", change.status);
    return authorizedBy === undefined ? query : query.where("authorized_at", "<=", authorizedBy);
  };
  const about = sql`json_object('id', id, 'name', name, 'provider', provider)`;
  const events = recordEventFrom(
    db,
    { workspaceId: connection.workspace_id, type: "connection.status_changed", at: now },
    moving().select(
      sql<string>`json_object('connection', ${about}, 'from', status, 'to', ${change.status}, 'reason', ${change.reason}, 'previous_reason', status_reason)`.as(
        "data",
      ),
    ),
  );
  if (change.status === "active") {
    events.push(
      ...recordEventFrom(
        db,
        { workspaceId: connection.workspace_id, type: "connection.recovered", at: now },
        moving()
          .where("status", "in", MOVED_BACK_FROM)
          .select(
            sql<string>`json_object('connection', ${about}, 'from', status, 'to', 'active', 'previous_reason', status_reason)`.as("data"),
          ),
      ),
    );
  }
  return events;
}

/**
 * The one UPDATE recording a status change, before it is scoped. "Since when" moves only when the
 * status really changes; back to active clears the last error. A connection in error gets its
 * next health check soon (a success brings it back); a revoked or expired one is not checked
 * until it is re-authorized.
 */
function recordStatusChange(db: Db, change: StatusChange, now: number) {
  return db.updateTable("connections").set((eb) => ({
    status_changed_at: eb.case().when("status", "=", change.status).then(eb.ref("status_changed_at")).else(now).end(),
    status: change.status,
    status_reason: change.reason,
    updated_at: now,
    ...(change.status === "error"
      ? { health_due_at: now + RECHECK_ERROR_AFTER_MS }
      : change.status === "active"
        ? {}
        : { health_due_at: null }),
    ...(change.status === "active"
      ? { last_error: null, last_error_insight_id: null, last_error_at: null }
      : change.error
        ? { last_error: change.error.message, last_error_insight_id: change.error.insightId ?? null, last_error_at: now }
        : {}),
  }));
}

/** A status change of one connection of one workspace (callers use statusChangeWrites, which adds its events). */
function statusChangeQuery(
  db: Db,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  change: StatusChange,
  now = Date.now(),
): Compilable {
  return recordStatusChange(db, change, now).where("workspace_id", "=", connection.workspace_id).where("id", "=", connection.id);
}

/** D1 binds at most 100 parameters per statement. */
const ACCOUNT_IDS_PER_STATEMENT = 50;

/**
 * The same change for every connection, in any workspace, holding one of the accounts a provider
 * named (a revocation it pushed names accounts, never workspaces). Connections authorized after
 * `occurredAt` hold tokens the change is not about, and a connection already in the new status
 * keeps its reason and "since when". One statement per 50 account ids.
 */
export function accountStatusChangeQueries(
  db: Db,
  provider: ProviderId,
  accounts: RevokedAccounts,
  change: StatusChange,
  options: { occurredAt: number; now?: number },
): Compilable[] {
  const now = options.now ?? Date.now();
  const scoped = () =>
    recordStatusChange(db, change, now)
      .where("provider", "=", provider)
      .where("status", "!=", change.status)
      .where("authorized_at", "<=", options.occurredAt);
  if ("organizationId" in accounts) return [scoped().where("account_organization_id", "=", accounts.organizationId)];
  const ids = [...new Set(accounts.accountIds)];
  const statements: Compilable[] = [];
  for (let start = 0; start < ids.length; start += ACCOUNT_IDS_PER_STATEMENT) {
    statements.push(scoped().where("account_id", "in", ids.slice(start, start + ACCOUNT_IDS_PER_STATEMENT)));
  }
  return statements;
}

/** Every write of a status change, in order, to apply on its own or inside another batch. */
export function statusChangeWrites(db: Db, connection: ConnectionKey, change: StatusChange, now = Date.now()): Compilable[] {
  return [...statusChangeEvents(db, connection, change, now), statusChangeQuery(db, connection, change, now)];
}

export async function changeStatus(db: Db, connection: ConnectionKey, change: StatusChange) {
  await runBatch(db, statusChangeWrites(db, connection, change));
}
