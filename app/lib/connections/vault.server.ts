import { runBatch, type Db } from "../platform/db.server";
import { decryptToken, encryptToken, TokenCryptoError, type KeyRing } from "../platform/encryption.server";
import type { ConnectionRow } from "../platform/schema";
import { providerContext, type Settings } from "../platform/settings.server";
import { refreshTokens } from "../oauth/protocols.server";
import { isAuthFailure, ProviderError } from "../providers/errors";
import { PROVIDER_TIMEOUT_MS } from "../providers/http.server";
import { getProvider } from "../providers/registry";
import type { StoredTokens, TokenSet } from "../providers/types";
import { getConnection } from "./repository.server";
import {
  changeStatus,
  statusAfterRefreshOutage,
  statusAfterRefusedRefresh,
  statusChangeWrites,
  unreadableTokens,
  type StatusChange,
} from "./status.server";

/**
 * The token vault: the only module that encrypts, decrypts and refreshes a connection's tokens.
 * Callers ask it once for usable tokens and get them, or a verdict saying why not.
 */
export interface VaultDeps {
  db: Db;
  settings: Settings;
  ring: KeyRing;
}

/** Access tokens expiring within this window are refreshed before use. */
const REFRESH_AHEAD_MS = 5 * 60 * 1000;
/**
 * See docs/decisions/004-refresh-lease.md: a lease on the connection row, longer than any
 * provider call (which times out first); a holder that stalls past it is fenced off by the
 * token_version check on write.
 */
const REFRESH_LEASE_MS = 3 * PROVIDER_TIMEOUT_MS;
const POLL_MS = 50;

export type TokenColumns = Pick<
  ConnectionRow,
  | "access_token_ct"
  | "refresh_token_ct"
  | "token_secret_ct"
  | "token_key_id"
  | "access_token_expires_at"
  | "refresh_token_expires_at"
  | "scopes"
>;

export type TokenAccess =
  | { ok: true; tokens: StoredTokens; connection: ConnectionRow }
  /** unreadable: the stored tokens cannot be decrypted (status change for the caller to record). */
  | { ok: false; problem: "unreadable"; change: StatusChange }
  /** refused: the provider refused the refresh; the connection's status is already updated. */
  | { ok: false; problem: "refused"; change: StatusChange; error: ProviderError }
  /** unavailable: the refresh could not be done now (outage, timeout, another holder too slow). */
  | { ok: false; problem: "unavailable"; error: ProviderError };

/** Encrypts a token set for one connection row; each field is bound to its row and column. */
export async function sealTokens(
  ring: KeyRing,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  tokens: TokenSet,
): Promise<TokenColumns> {
  const seal = (value: string, field: string) =>
    encryptToken(ring, value, { workspaceId: connection.workspace_id, recordId: connection.id, field });
  return {
    access_token_ct: await seal(tokens.accessToken, "access_token"),
    refresh_token_ct: tokens.refreshToken ? await seal(tokens.refreshToken, "refresh_token") : null,
    token_secret_ct: tokens.tokenSecret ? await seal(tokens.tokenSecret, "token_secret") : null,
    token_key_id: ring.primaryKeyId,
    access_token_expires_at: tokens.accessTokenExpiresAt,
    refresh_token_expires_at: tokens.refreshTokenExpiresAt,
    scopes: tokens.scopes.join(" "),
  };
}

/** The connection's tokens, or null when they cannot be decrypted (never a plaintext fallback). */
export async function openTokens(ring: KeyRing, row: ConnectionRow): Promise<StoredTokens | null> {
  const open = (value: string | null, field: string) =>
    value ? decryptToken(ring, value, { workspaceId: row.workspace_id, recordId: row.id, field }) : Promise.resolve(null);
  try {
    const [accessToken, refreshToken, tokenSecret] = await Promise.all([
      open(row.access_token_ct, "access_token"),
      open(row.refresh_token_ct, "refresh_token"),
      open(row.token_secret_ct, "token_secret"),
    ]);
    return { accessToken: accessToken!, refreshToken, tokenSecret };
  } catch (error) {
    if (error instanceof TokenCryptoError) return null;
    throw error;
  }
}

function canRefresh(row: ConnectionRow) {
  return row.refresh_token_ct !== null && getProvider(row.provider).oauth.protocol === "oauth2";
}

function needsRefresh(row: ConnectionRow, now = Date.now(), aheadMs = REFRESH_AHEAD_MS) {
  return canRefresh(row) && row.access_token_expires_at !== null && row.access_token_expires_at - now <= aheadMs;
}

/**
 * Usable tokens for a connection: refreshed first when they expire within `refreshWithinMs`.
 * Concurrent callers for one connection share a single refresh request.
 */
export async function usableTokens(deps: VaultDeps, row: ConnectionRow, options: { refreshWithinMs?: number } = {}): Promise<TokenAccess> {
  const aheadMs = options.refreshWithinMs ?? REFRESH_AHEAD_MS;
  if (!needsRefresh(row, Date.now(), aheadMs)) return opened(deps, row);
  return refreshUnderLease(deps, row, (current) => needsRefresh(current, Date.now(), aheadMs));
}

/**
 * The provider rejected the access token early (401 / token_expired) although we hold a refresh
 * token: refresh once, unless another caller already replaced the tokens since `row` was read.
 */
async function refreshAfterRejection(deps: VaultDeps, row: ConnectionRow): Promise<TokenAccess | null> {
  if (!canRefresh(row)) return null;
  return refreshUnderLease(deps, row, (current) => current.token_version === row.token_version);
}

async function opened(deps: VaultDeps, row: ConnectionRow): Promise<TokenAccess> {
  const tokens = await openTokens(deps.ring, row);
  return tokens ? { ok: true, tokens, connection: row } : { ok: false, problem: "unreadable", change: unreadableTokens() };
}

/**
 * One refresh per connection at a time, across requests and isolates: one caller takes the lease
 * (a conditional UPDATE on the row), the others wait for the new token version. Every caller
 * re-reads the row after trying, so a refresh someone else finished is simply used.
 */
async function refreshUnderLease(
  deps: VaultDeps,
  row: ConnectionRow,
  stillNeeded: (current: ConnectionRow) => boolean,
): Promise<TokenAccess> {
  const { db } = deps;
  const owner = crypto.randomUUID();
  const deadline = Date.now() + REFRESH_LEASE_MS + PROVIDER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = Date.now();
    const acquired = await db
      .updateTable("connections")
      .set({ refresh_lease_owner: owner, refresh_lease_expires_at: now + REFRESH_LEASE_MS })
      .where("id", "=", row.id)
      .where((eb) => eb.or([eb("refresh_lease_expires_at", "is", null), eb("refresh_lease_expires_at", "<", now)]))
      .executeTakeFirst();
    const holding = Number(acquired.numUpdatedRows) === 1;
    const current = await getConnection(db, row.workspace_id, row.id);
    if (!current) {
      return { ok: false, problem: "unavailable", error: new ProviderError("client_error", "The connection was deleted.") };
    }
    if (!stillNeeded(current)) {
      if (holding) await releaseLease(db, current.id, owner);
      return opened(deps, current);
    }
    // A refusal (ours or a concurrent caller's) already showed the refresh token is dead.
    if (current.status === "revoked" || current.status === "expired") {
      if (holding) await releaseLease(db, current.id, owner);
      const reason = current.status_reason ?? "The provider refused to refresh the token.";
      return {
        ok: false,
        problem: "refused",
        change: { status: current.status, reason },
        error: new ProviderError("unauthorized", reason),
      };
    }
    if (holding) return refreshHolding(deps, current, owner);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return {
    ok: false,
    problem: "unavailable",
    error: new ProviderError("timeout", "Another request is still refreshing this connection's token."),
  };
}

async function releaseLease(db: Db, id: string, owner: string) {
  await db
    .updateTable("connections")
    .set({ refresh_lease_owner: null, refresh_lease_expires_at: null })
    .where("id", "=", id)
    .where("refresh_lease_owner", "=", owner)
    .execute();
}

async function refreshHolding(deps: VaultDeps, row: ConnectionRow, owner: string): Promise<TokenAccess> {
  const { db, ring } = deps;
  const provider = getProvider(row.provider);
  const context = providerContext(deps.settings, row.provider);
  const current = await openTokens(ring, row);
  if (!current) {
    await releaseLease(db, row.id, owner);
    return { ok: false, problem: "unreadable", change: unreadableTokens() };
  }
  if (!context || provider.oauth.protocol !== "oauth2") {
    await releaseLease(db, row.id, owner);
    return {
      ok: false,
      problem: "unavailable",
      error: new ProviderError("client_error", `${provider.name} is not configured on this server.`),
    };
  }
  let next: TokenSet;
  try {
    const tokens = await refreshTokens(context, provider.oauth, current.refreshToken!);
    // A response without a new refresh token keeps the previous one.
    next = { ...tokens, refreshToken: tokens.refreshToken ?? current.refreshToken, tokenSecret: current.tokenSecret };
  } catch (error) {
    if (!(error instanceof ProviderError)) {
      await releaseLease(db, row.id, owner);
      throw error;
    }
    if (!isAuthFailure(error)) return recordRefreshOutage(deps, row, owner, error);
    await releaseLease(db, row.id, owner);
    // invalid_grant after someone else already rotated the token is not a revocation.
    const latest = await getConnection(db, row.workspace_id, row.id);
    if (latest && latest.token_version !== row.token_version) return opened(deps, latest);
    const change = statusAfterRefusedRefresh(error, row, provider.name);
    await changeStatus(db, row, change);
    return { ok: false, problem: "refused", change, error };
  }
  const columns = await sealTokens(ring, row, next);
  const written = await db
    .updateTable("connections")
    .set((eb) => ({
      ...columns,
      scopes: next.scopes.length ? columns.scopes : row.scopes,
      refresh_token_expires_at: next.refreshTokenExpiresAt ?? row.refresh_token_expires_at,
      token_version: eb("token_version", "+", 1),
      last_refreshed_at: Date.now(),
      refresh_lease_owner: null,
      refresh_lease_expires_at: null,
      refresh_failures: 0,
      refresh_failing_since: null,
      refresh_retry_at: null,
    }))
    // Fencing: a holder that stalled past its lease finds the version moved and writes nothing.
    .where("id", "=", row.id)
    .where("token_version", "=", row.token_version)
    .where("refresh_lease_owner", "=", owner)
    .returningAll()
    .executeTakeFirst();
  if (written)
    return {
      ok: true,
      tokens: { accessToken: next.accessToken, refreshToken: next.refreshToken, tokenSecret: next.tokenSecret },
      connection: written,
    };
  const latest = await getConnection(db, row.workspace_id, row.id);
  if (!latest) return { ok: false, problem: "unavailable", error: new ProviderError("client_error", "The connection was deleted.") };
  return opened(deps, latest);
}

/** After a refresh outage, the cron waits this long before trying again, doubling up to a cap. */
const REFRESH_BACKOFF_BASE_MS = 5 * 60_000;
const REFRESH_BACKOFF_CAP_MS = 6 * 60 * 60_000;

export function refreshBackoffMs(failures: number, random = Math.random()) {
  const wait = Math.min(REFRESH_BACKOFF_CAP_MS, REFRESH_BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(wait * (0.8 + 0.4 * random));
}

/**
 * A refresh that failed for a reason other than a refusal (an outage, a timeout) is counted, and
 * the cron backs off before trying again. Only when refreshes have failed for longer than the
 * configured window (REFRESH_GIVE_UP_DAYS) does the connection become expired: an outage alone
 * never marks it revoked.
 */
async function recordRefreshOutage(deps: VaultDeps, row: ConnectionRow, owner: string, error: ProviderError): Promise<TokenAccess> {
  const now = Date.now();
  const since = row.refresh_failing_since ?? now;
  const failures = row.refresh_failures + 1;
  const giveUpMs = deps.settings.health.refreshGiveUpMs;
  const counting = deps.db
    .updateTable("connections")
    .set({
      refresh_failures: failures,
      refresh_failing_since: since,
      refresh_retry_at: now + refreshBackoffMs(failures),
      refresh_lease_owner: null,
      refresh_lease_expires_at: null,
    })
    .where("id", "=", row.id)
    .where("workspace_id", "=", row.workspace_id)
    .where("refresh_lease_owner", "=", owner);
  if (now - since < giveUpMs) {
    await counting.execute();
    return { ok: false, problem: "unavailable", error };
  }
  const change = statusAfterRefreshOutage(error, getProvider(row.provider).name, Math.round(giveUpMs / 86_400_000));
  await runBatch(deps.db, [counting, ...statusChangeWrites(deps.db, row, change, now)]);
  return { ok: false, problem: "refused", change, error };
}

export type TokenCall<T> =
  | { ok: true; value: T; connection: ConnectionRow }
  | Exclude<TokenAccess, { ok: true } | { problem: "refused" }>
  /** The refresh was refused; `rejection` is the provider's refusal of the access token that led to it. */
  | (Extract<TokenAccess, { problem: "refused" }> & { rejection?: ProviderError })
  /** The provider answered the call with an error (after one refresh-and-retry on an auth failure). */
  | { ok: false; problem: "provider"; error: ProviderError; connection: ConnectionRow };

/**
 * Calls the provider with usable tokens. When the provider rejects an access token that should
 * still be good (401, token_expired) and we hold a refresh token, refreshes once and retries
 * once: only a refused refresh condemns the connection.
 */
export async function withTokens<T>(
  deps: VaultDeps,
  row: ConnectionRow,
  call: (tokens: StoredTokens, connection: ConnectionRow) => Promise<T>,
): Promise<TokenCall<T>> {
  const access = await usableTokens(deps, row);
  if (!access.ok) return access;
  const attempt = async (tokens: StoredTokens, connection: ConnectionRow): Promise<TokenCall<T> | ProviderError> => {
    try {
      return { ok: true, value: await call(tokens, connection), connection };
    } catch (error) {
      if (error instanceof ProviderError) return error;
      throw error;
    }
  };
  const first = await attempt(access.tokens, access.connection);
  if (!(first instanceof ProviderError)) return first;
  if (!isAuthFailure(first)) return { ok: false, problem: "provider", error: first, connection: access.connection };
  const refreshed = await refreshAfterRejection(deps, access.connection);
  if (!refreshed) return { ok: false, problem: "provider", error: first, connection: access.connection };
  if (!refreshed.ok) return refreshed.problem === "refused" ? { ...refreshed, rejection: first } : refreshed;
  const second = await attempt(refreshed.tokens, refreshed.connection);
  return second instanceof ProviderError ? { ok: false, problem: "provider", error: second, connection: refreshed.connection } : second;
}

/** The cron refreshes access tokens this close to expiry, before any delivery needs them. */
const CRON_REFRESH_AHEAD_MS = 15 * 60 * 1000;
/** ...and refresh tokens this close to their own expiry, so idle connections stay alive. */
const KEEP_ALIVE_AHEAD_MS = 7 * 24 * 60 * 60 * 1000;
const KEEP_ALIVE_EVERY_MS = 24 * 60 * 60 * 1000;

/**
 * Cron upkeep, in bounded batches and under the same lease as request-time refresh: access
 * tokens about to expire, and refresh tokens about to expire on an idle connection.
 */
export async function refreshExpiringConnections(deps: VaultDeps, options: { limit?: number; now?: number } = {}) {
  const now = options.now ?? Date.now();
  const rows = await deps.db
    .selectFrom("connections")
    .selectAll()
    .where("status", "=", "active")
    .where("refresh_token_ct", "is not", null)
    .where((eb) =>
      eb.or([
        eb("access_token_expires_at", "<=", now + CRON_REFRESH_AHEAD_MS),
        // Keep-alive at most once a day: a provider that does not extend the refresh token's
        // expiry would otherwise be asked every minute.
        eb.and([
          eb("refresh_token_expires_at", "<=", now + KEEP_ALIVE_AHEAD_MS),
          eb.or([eb("last_refreshed_at", "is", null), eb("last_refreshed_at", "<=", now - KEEP_ALIVE_EVERY_MS)]),
        ]),
      ]),
    )
    // After an outage, wait out the backoff instead of asking again every minute.
    .where((eb) => eb.or([eb("refresh_retry_at", "is", null), eb("refresh_retry_at", "<=", now)]))
    .orderBy("access_token_expires_at")
    .limit(options.limit ?? 25)
    .execute();
  let refreshed = 0;
  for (const row of rows) {
    const keepAlive = row.refresh_token_expires_at !== null && row.refresh_token_expires_at <= now + KEEP_ALIVE_AHEAD_MS;
    const access = keepAlive
      ? await refreshUnderLease(deps, row, (current) => current.token_version === row.token_version)
      : await usableTokens(deps, row, { refreshWithinMs: CRON_REFRESH_AHEAD_MS });
    // Refusals already updated the connection's status; outages are retried on the next run.
    if (access.ok && access.connection.token_version !== row.token_version) refreshed += 1;
    if (!access.ok && access.problem === "unreadable") await changeStatus(deps.db, row, access.change);
  }
  return { checked: rows.length, refreshed };
}

/**
 * Key rotation: moves up to `limit` connections whose tokens are not yet under the primary key
 * onto it. Bounded per run and resumable (each run picks up what is left); idempotent (rows
 * already on the primary key are skipped). Rows that cannot be decrypted are marked and left for
 * the user to re-authorize, so they never hold up the readable ones behind them. A row whose
 * tokens changed meanwhile (token_version) is left for the next run rather than overwritten.
 */
export async function reencryptConnections(
  db: Db,
  ring: KeyRing,
  limit = 100,
): Promise<{ moved: number; unreadable: number; remaining: boolean }> {
  const rows = await db
    .selectFrom("connections")
    .selectAll()
    .where("tokens_unreadable_at", "is", null)
    .where("token_key_id", "!=", ring.primaryKeyId)
    .orderBy("token_key_id")
    .orderBy("id")
    .limit(limit + 1)
    .execute();
  let moved = 0;
  let unreadable = 0;
  for (const row of rows.slice(0, limit)) {
    const tokens = await openTokens(ring, row);
    if (!tokens) {
      unreadable += 1;
      await markUnreadable(db, row);
      continue;
    }
    const columns = await sealTokens(ring, row, {
      ...tokens,
      accessTokenExpiresAt: row.access_token_expires_at,
      refreshTokenExpiresAt: row.refresh_token_expires_at,
      scopes: row.scopes ? row.scopes.split(" ") : [],
    });
    const result = await db
      .updateTable("connections")
      .set({
        access_token_ct: columns.access_token_ct,
        refresh_token_ct: columns.refresh_token_ct,
        token_secret_ct: columns.token_secret_ct,
        token_key_id: columns.token_key_id,
      })
      .where("id", "=", row.id)
      .where("token_version", "=", row.token_version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) moved += 1;
  }
  return { moved, unreadable, remaining: rows.length > limit };
}

/** Unreadable tokens: recorded once, so rotation skips them and the page can say so. */
async function markUnreadable(db: Db, row: ConnectionRow) {
  await db
    .updateTable("connections")
    .set({ tokens_unreadable_at: Date.now() })
    .where("id", "=", row.id)
    .where("token_version", "=", row.token_version)
    .execute();
}
