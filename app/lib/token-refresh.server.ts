import type { AppConfig } from "./config.server";
import { decryptTokens, encryptTokenColumns, getConnection, providerContext, setConnectionStatus, statusForProviderError } from "./connections.server";
import type { ConnectionRow, Db } from "./db.server";
import { refreshAccessToken } from "./oauth2-client.server";
import { PROVIDER_TIMEOUT_MS } from "./providers/http.server";
import { getProvider } from "./providers/registry";
import { ProviderError, type StoredTokens } from "./providers/types";
import type { KeyRing } from "./token-crypto.server";

/** Access tokens expiring within this window are refreshed before use. */
export const REFRESH_AHEAD_MS = 5 * 60 * 1000;
/**
 * Why a lease in D1 rather than a Durable Object per connection: the lease is one conditional
 * UPDATE on the row that holds the tokens, so the lock and the data it protects cannot drift
 * apart, it works across isolates and locations with no extra binding, and a crashed holder is
 * simply outlived. It is longer than any provider call (which times out first), so a holder can
 * finish; a holder that stalls past it is fenced off by the token_version check on write.
 */
export const REFRESH_LEASE_MS = 3 * PROVIDER_TIMEOUT_MS;
/** Marks a ProviderError whose connection status the refresh itself already decided. */
export const REFRESH_REFUSED = "refresh_refused";
const POLL_MS = 50;

export function needsRefresh(row: Pick<ConnectionRow, "access_token_expires_at" | "refresh_token_ct">, now = Date.now(), aheadMs = REFRESH_AHEAD_MS) {
  return row.refresh_token_ct !== null && row.access_token_expires_at !== null && row.access_token_expires_at - now <= aheadMs;
}

/**
 * Usable tokens for a connection: refreshed first when they expire soon. Concurrent callers for
 * one connection share a single refresh request: one takes the lease, the others wait for the
 * new token version. Throws ProviderError when the provider refuses (the connection's status is
 * then updated) or is unavailable (status unchanged; try again later).
 */
export async function freshTokens(
  db: Db,
  config: AppConfig,
  ring: KeyRing,
  connection: ConnectionRow,
  aheadMs = REFRESH_AHEAD_MS,
): Promise<{ tokens: StoredTokens; row: ConnectionRow }> {
  if (!needsRefresh(connection, Date.now(), aheadMs) || !getProvider(connection.provider).oauth || getProvider(connection.provider).oauth.protocol !== "oauth2") {
    return { tokens: await decryptTokens(ring, connection), row: connection };
  }
  const owner = crypto.randomUUID();
  const seenVersion = connection.token_version;
  const deadline = Date.now() + REFRESH_LEASE_MS + PROVIDER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = Date.now();
    const acquired = await db
      .updateTable("connections")
      .set({ refresh_lease_owner: owner, refresh_lease_expires_at: now + REFRESH_LEASE_MS })
      .where("id", "=", connection.id)
      .where((eb) => eb.or([eb("refresh_lease_expires_at", "is", null), eb("refresh_lease_expires_at", "<", now)]))
      .executeTakeFirst();
    // Re-read after acquiring (or failing to): another holder may already have rotated the tokens.
    const current = await getConnection(db, connection.workspace_id, connection.id);
    if (!current) throw new ProviderError("client_error", "The connection was deleted.");
    if (current.token_version !== seenVersion || !needsRefresh(current, Date.now(), aheadMs)) {
      if (Number(acquired.numUpdatedRows) === 1) await releaseLease(db, current.id, owner);
      return { tokens: await decryptTokens(ring, current), row: current };
    }
    if (Number(acquired.numUpdatedRows) === 1) return refreshHolding(db, config, ring, current, owner);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new ProviderError("timeout", "Another request is still refreshing this connection's token.");
}

async function releaseLease(db: Db, id: string, owner: string) {
  await db
    .updateTable("connections")
    .set({ refresh_lease_owner: null, refresh_lease_expires_at: null })
    .where("id", "=", id)
    .where("refresh_lease_owner", "=", owner)
    .execute();
}

async function refreshHolding(db: Db, config: AppConfig, ring: KeyRing, row: ConnectionRow, owner: string) {
  const provider = getProvider(row.provider);
  const context = providerContext(config, row.provider);
  const oauth = provider.oauth;
  if (!context || oauth.protocol !== "oauth2") {
    await releaseLease(db, row.id, owner);
    throw new ProviderError("client_error", `${provider.name} is not configured on this server.`);
  }
  const current = await decryptTokens(ring, row);
  let data: Record<string, unknown>;
  try {
    data = await refreshAccessToken({
      clientId: context.credentials.clientId,
      clientSecret: oauth.clientAuthentication === "basic" ? context.credentials.clientSecret : null,
      redirectUri: "",
      tokenUrl: oauth.tokenUrl(context.endpoints),
      refreshToken: current.refreshToken!,
    });
    const tokens = oauth.parseTokenResponse(data, Date.now());
    // A response without a new refresh token keeps the previous one.
    const next = { ...tokens, refreshToken: tokens.refreshToken ?? current.refreshToken, tokenSecret: current.tokenSecret };
    const written = await db
      .updateTable("connections")
      .set((eb) => ({
        token_version: eb("token_version", "+", 1),
        last_refreshed_at: Date.now(),
        refresh_token_expires_at: next.refreshTokenExpiresAt ?? row.refresh_token_expires_at,
        refresh_lease_owner: null,
        refresh_lease_expires_at: null,
      }))
      .set(await encryptTokenColumns(ring, row.workspace_id, row.id, next))
      .set({ scopes: next.scopes.length ? next.scopes.join(" ") : row.scopes })
      // Fencing: a holder that stalled past its lease finds the version moved and writes nothing.
      .where("id", "=", row.id)
      .where("token_version", "=", row.token_version)
      .where("refresh_lease_owner", "=", owner)
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) !== 1) {
      const latest = await getConnection(db, row.workspace_id, row.id);
      if (!latest) throw new ProviderError("client_error", "The connection was deleted.");
      return { tokens: await decryptTokens(ring, latest), row: latest };
    }
    const latest = (await getConnection(db, row.workspace_id, row.id))!;
    return { tokens: { accessToken: next.accessToken, refreshToken: next.refreshToken, tokenSecret: next.tokenSecret }, row: latest };
  } catch (error) {
    await releaseLease(db, row.id, owner);
    if (!(error instanceof ProviderError)) throw error;
    if (error.kind === "unauthorized" || error.kind === "token_expired") {
      // invalid_grant after someone else already rotated the token is not a revocation.
      const latest = await getConnection(db, row.workspace_id, row.id);
      if (latest && latest.token_version !== row.token_version) return { tokens: await decryptTokens(ring, latest), row: latest };
      const expired = row.refresh_token_expires_at !== null && row.refresh_token_expires_at <= Date.now();
      const status = expired ? "expired" : statusForProviderError(error, { access_token_expires_at: null }, provider.name).status;
      const reason = expired
        ? `The refresh token expired; ${provider.name} needs you to re-authorize.`
        : `${provider.name} refused to refresh the token (${error.message}). Re-authorize to restore access.`;
      await setConnectionStatus(db, row.workspace_id, row.id, status, { reason, error: reason });
      throw new ProviderError(status === "expired" ? "token_expired" : "unauthorized", reason, { ...error.details, code: REFRESH_REFUSED });
    }
    // 5xx, 429, timeouts, malformed answers: the token may still be fine; retry later.
    throw error;
  }
}

/** The cron refreshes access tokens this close to expiry, before any delivery needs them. */
export const CRON_REFRESH_AHEAD_MS = 15 * 60 * 1000;
/** ...and refresh tokens this close to their own expiry, so idle connections stay alive. */
export const KEEP_ALIVE_AHEAD_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Cron upkeep, in bounded batches and under the same lease as request-time refresh: access
 * tokens about to expire, and refresh tokens about to expire on an idle connection.
 */
export async function refreshExpiringConnections(db: Db, config: AppConfig, ring: KeyRing, options: { limit?: number; now?: number } = {}) {
  const now = options.now ?? Date.now();
  const rows = await db
    .selectFrom("connections")
    .selectAll()
    .where("status", "=", "active")
    .where("refresh_token_ct", "is not", null)
    .where((eb) =>
      eb.or([
        eb("access_token_expires_at", "<=", now + CRON_REFRESH_AHEAD_MS),
        eb("refresh_token_expires_at", "<=", now + KEEP_ALIVE_AHEAD_MS),
      ]),
    )
    .orderBy("access_token_expires_at")
    .limit(options.limit ?? 25)
    .execute();
  let refreshed = 0;
  for (const row of rows) {
    const keepAlive = row.refresh_token_expires_at !== null && row.refresh_token_expires_at <= now + KEEP_ALIVE_AHEAD_MS;
    try {
      const result = await freshTokens(db, config, ring, row, keepAlive ? Number.POSITIVE_INFINITY : CRON_REFRESH_AHEAD_MS);
      if (result.row.token_version !== row.token_version) refreshed += 1;
    } catch (error) {
      // Refusals already updated the connection's status; outages are retried on the next run.
      if (!(error instanceof ProviderError)) throw error;
    }
  }
  return { checked: rows.length, refreshed };
}
