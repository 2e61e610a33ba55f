import type { Compilable } from "kysely";
import type { Db } from "../platform/db.server";
import type { ConnectionRow, ConnectionStatus } from "../platform/schema";
import { describeProviderError, type ProviderError } from "../providers/errors";

/**
 * The connection status rules of the product page, in one place: which provider answers move a
 * connection out of `active`, and the one UPDATE that records a move (applied on its own, or
 * inside a delivery's batch).
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

export function unreadableTokens(): StatusChange {
  return { status: "error", reason: UNREADABLE_TOKENS, error: { message: UNREADABLE_TOKENS } };
}

/** When a connection's next scheduled health check falls: the interval, give or take a tenth (jitter). */
export function nextCheckAt(intervalMs: number, now = Date.now(), random = Math.random()) {
  return now + Math.round(intervalMs * (0.9 + 0.2 * random));
}

/** A connection that goes into error is checked again this soon (its scheduled health check). */
export const RECHECK_ERROR_AFTER_MS = 5 * 60_000;

/**
 * The one UPDATE recording a status change. "Since when" moves only when the status really
 * changes; back to active clears the last error. A connection in error gets its next health
 * check soon (a success brings it back); a revoked or expired one is not checked until it is
 * re-authorized.
 */
export function statusChangeQuery(
  db: Db,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  change: StatusChange,
  now = Date.now(),
): Compilable {
  return db
    .updateTable("connections")
    .set((eb) => ({
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
    }))
    .where("workspace_id", "=", connection.workspace_id)
    .where("id", "=", connection.id);
}

export async function changeStatus(db: Db, connection: Pick<ConnectionRow, "id" | "workspace_id">, change: StatusChange) {
  await db.executeQuery(statusChangeQuery(db, connection, change).compile());
}
