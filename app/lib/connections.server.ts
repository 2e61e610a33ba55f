import { sql, type Compilable } from "kysely";
import type { AppConfig } from "./config.server";
import { type ConnectionRow, type ConnectionStatus, type Db, type DbHandle } from "./db.server";
import { getProvider } from "./providers/registry";
import { ProviderError, describeProviderError, type AccountIdentity, type ProviderContext, type ProviderId, type StoredTokens, type TokenSet } from "./providers/types";
import { TokenCryptoError, decryptToken, encryptToken, type KeyRing } from "./token-crypto.server";

export const PAGE_SIZE = 25;
export const UNUSED_AFTER_MS = 90 * 24 * 60 * 60 * 1000;

export type ConnectionSort = "name" | "last_used" | "status";

export interface ConnectionFilters {
  provider?: ProviderId;
  status?: ConnectionStatus;
  search?: string;
  unused?: boolean;
  sort: ConnectionSort;
  page: number;
}

export interface ConnectionSummary {
  id: string;
  name: string;
  provider: ProviderId;
  status: ConnectionStatus;
  statusReason: string | null;
  accountLabel: string;
  lastUsedAt: number | null;
  createdAt: number;
  intentCount: number;
}

function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * One query per page: the rows, their dependent-intent counts and the total (a window
 * function), so the index never runs a query per row however many connections exist.
 */
export async function listConnections(db: Db, workspaceId: string, filters: ConnectionFilters, now = Date.now()) {
  let filtered = db.selectFrom("connections as c").where("c.workspace_id", "=", workspaceId);
  if (filters.provider) filtered = filtered.where("c.provider", "=", filters.provider);
  if (filters.status) filtered = filtered.where("c.status", "=", filters.status);
  if (filters.search) filtered = filtered.where(sql<boolean>`c.name like ${`%${escapeLike(filters.search)}%`} escape '\\'`);
  if (filters.unused) filtered = filtered.where(sql<boolean>`coalesce(c.last_used_at, c.created_at) < ${now - UNUSED_AFTER_MS}`);
  let query = filtered
    .select([
      "c.id",
      "c.name",
      "c.provider",
      "c.status",
      "c.status_reason",
      "c.account_label",
      "c.last_used_at",
      "c.created_at",
      (eb) =>
        eb
          .selectFrom("intents as i")
          .whereRef("i.connection_id", "=", "c.id")
          .select((i) => i.fn.countAll<number>().as("n"))
          .as("intent_count"),
      sql<number>`count(*) over ()`.as("total"),
    ]);
  if (filters.sort === "last_used") query = query.orderBy(sql`c.last_used_at is null`).orderBy("c.last_used_at", "desc");
  if (filters.sort === "status") {
    query = query.orderBy(sql`case c.status when 'error' then 0 when 'revoked' then 1 when 'expired' then 2 else 3 end`);
  }
  const rows = await query
    .orderBy("c.name")
    .limit(PAGE_SIZE)
    .offset((filters.page - 1) * PAGE_SIZE)
    .execute();
  const connections: ConnectionSummary[] = rows.map((row) => ({
    id: row.id,
    name: row.name,
    provider: row.provider,
    status: row.status,
    statusReason: row.status_reason,
    accountLabel: row.account_label,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    intentCount: Number(row.intent_count ?? 0),
  }));
  if (rows.length === 0 && filters.page > 1) {
    // Past the last page the window count has no row to ride on: count on its own.
    const count = await filtered.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return { connections, total: Number(count.n) };
  }
  return { connections, total: Number(rows[0]?.total ?? 0) };
}

export async function countConnections(db: Db, workspaceId: string) {
  const row = await db
    .selectFrom("connections")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("workspace_id", "=", workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function getConnection(db: Db, workspaceId: string, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom("connections").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}

export function listDependentIntents(db: Db, workspaceId: string, connectionId: string) {
  return db
    .selectFrom("intents")
    .select(["id", "name", "enabled"])
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .orderBy("name")
    .execute();
}

export async function isConnectionNameTaken(db: Db, workspaceId: string, name: string, exceptId?: string) {
  let query = db.selectFrom("connections").select("id").where("workspace_id", "=", workspaceId).where("name", "=", name);
  if (exceptId) query = query.where("id", "!=", exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

function isUniqueNameViolation(error: unknown) {
  return String(error).includes("UNIQUE constraint failed: connections.workspace_id, connections.name");
}

type TokenColumns = Pick<
  ConnectionRow,
  "access_token_ct" | "refresh_token_ct" | "token_secret_ct" | "access_token_expires_at" | "refresh_token_expires_at" | "scopes"
>;

/** Encrypts a token set for one connection row; each field is bound to its row and column. */
export async function encryptTokenColumns(ring: KeyRing, workspaceId: string, connectionId: string, tokens: TokenSet): Promise<TokenColumns> {
  const seal = (value: string, field: string) => encryptToken(ring, value, { workspaceId, recordId: connectionId, field });
  return {
    access_token_ct: await seal(tokens.accessToken, "access_token"),
    refresh_token_ct: tokens.refreshToken ? await seal(tokens.refreshToken, "refresh_token") : null,
    token_secret_ct: tokens.tokenSecret ? await seal(tokens.tokenSecret, "token_secret") : null,
    access_token_expires_at: tokens.accessTokenExpiresAt,
    refresh_token_expires_at: tokens.refreshTokenExpiresAt,
    scopes: tokens.scopes.join(" "),
  };
}

export async function decryptTokens(ring: KeyRing, row: ConnectionRow): Promise<StoredTokens> {
  const open = (value: string | null, field: string) =>
    value ? decryptToken(ring, value, { workspaceId: row.workspace_id, recordId: row.id, field }) : Promise.resolve(null);
  return {
    accessToken: (await open(row.access_token_ct, "access_token"))!,
    refreshToken: await open(row.refresh_token_ct, "refresh_token"),
    tokenSecret: await open(row.token_secret_ct, "token_secret"),
  };
}

function identityColumns(identity: AccountIdentity) {
  return {
    account_id: identity.accountId,
    account_label: identity.label,
    account_url: identity.url,
    identity_json: JSON.stringify(identity.details),
  };
}

export type CreateConnectionResult = { ok: true; id: string } | { ok: false; reason: "name_taken" };

export async function createConnection(
  handle: DbHandle,
  ring: KeyRing,
  input: { workspaceId: string; provider: ProviderId; name: string; tokens: TokenSet; identity: AccountIdentity },
): Promise<CreateConnectionResult> {
  const id = crypto.randomUUID();
  const now = Date.now();
  try {
    await handle.db
      .insertInto("connections")
      .values({
        id,
        workspace_id: input.workspaceId,
        provider: input.provider,
        name: input.name,
        status: "active",
        status_reason: null,
        status_changed_at: now,
        ...identityColumns(input.identity),
        ...(await encryptTokenColumns(ring, input.workspaceId, id, input.tokens)),
        token_version: 1,
        authorized_at: now,
        config_json: "{}",
        created_at: now,
        updated_at: now,
      })
      .execute();
  } catch (error) {
    if (isUniqueNameViolation(error)) return { ok: false, reason: "name_taken" };
    throw error;
  }
  return { ok: true, id };
}

/**
 * Re-authorization: new tokens in place. Id, name and config stay; the status returns to
 * active and the failure fields are cleared. Returns the update to batch with other writes.
 */
export async function prepareTokenReplacement(
  db: Db,
  ring: KeyRing,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  tokens: TokenSet,
  identity: AccountIdentity,
): Promise<Compilable> {
  const now = Date.now();
  return db
    .updateTable("connections")
    .set((eb) => ({
      ...identityColumns(identity),
      status: "active",
      status_reason: null,
      status_changed_at: now,
      last_error: null,
      last_error_insight_id: null,
      last_error_at: null,
      authorized_at: now,
      updated_at: now,
      token_version: eb("token_version", "+", 1),
    }))
    .set(await encryptTokenColumns(ring, connection.workspace_id, connection.id, tokens))
    .where("workspace_id", "=", connection.workspace_id)
    .where("id", "=", connection.id);
}

export type UpdateSettingsResult = { ok: true } | { ok: false; reason: "name_taken" | "not_found" };

export async function updateConnectionSettings(
  db: Db,
  workspaceId: string,
  id: string,
  input: { name: string; config: Record<string, unknown> },
): Promise<UpdateSettingsResult> {
  try {
    const result = await db
      .updateTable("connections")
      .set({ name: input.name, config_json: JSON.stringify(input.config), updated_at: Date.now() })
      .where("workspace_id", "=", workspaceId)
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0 ? { ok: true } : { ok: false, reason: "not_found" };
  } catch (error) {
    if (isUniqueNameViolation(error)) return { ok: false, reason: "name_taken" };
    throw error;
  }
}

export async function setConnectionStatus(
  db: Db,
  workspaceId: string,
  id: string,
  status: ConnectionStatus,
  details: { reason: string | null; error?: string | null; insightId?: string | null } = { reason: null },
) {
  const now = Date.now();
  await db
    .updateTable("connections")
    .set((eb) => ({
      // Only a real change of status moves "since when".
      status_changed_at: eb.case().when("status", "=", status).then(eb.ref("status_changed_at")).else(now).end(),
      status,
      status_reason: details.reason,
      updated_at: now,
      ...(status === "active"
        ? { last_error: null, last_error_insight_id: null, last_error_at: null }
        : details.error !== undefined
          ? { last_error: details.error, last_error_insight_id: details.insightId ?? null, last_error_at: now }
          : {}),
    }))
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .execute();
}

export type DeleteConnectionResult = { ok: true } | { ok: false; reason: "not_found" } | { ok: false; reason: "in_use"; intentCount: number };

/** Deletes a connection unless intents depend on it; the check and the delete are one statement. */
export async function deleteConnection(db: Db, workspaceId: string, id: string): Promise<DeleteConnectionResult> {
  const result = await db
    .deleteFrom("connections")
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .where((eb) => eb.not(eb.exists(eb.selectFrom("intents").select("id").whereRef("intents.connection_id", "=", "connections.id"))))
    .executeTakeFirst();
  if (Number(result.numDeletedRows) > 0) return { ok: true };
  const remaining = await listDependentIntents(db, workspaceId, id);
  if (remaining.length > 0) return { ok: false, reason: "in_use", intentCount: remaining.length };
  return { ok: false, reason: "not_found" };
}

export function providerContext(config: AppConfig, provider: ProviderId): ProviderContext | null {
  const settings = config.providers[provider];
  if (!settings.credentials) return null;
  // Looked up at call time, not captured: tests and the emulator may replace the global fetch.
  return { endpoints: settings.endpoints, credentials: settings.credentials, fetch: (input, init) => fetch(input, init) };
}

export const UNREADABLE_TOKENS =
  "The stored tokens could not be decrypted (their key is gone or they were altered). Re-authorize to store fresh ones.";

/** The connection's tokens, or null when they cannot be decrypted (never a plaintext fallback). */
export async function tryDecryptTokens(ring: KeyRing, row: ConnectionRow): Promise<StoredTokens | null> {
  try {
    return await decryptTokens(ring, row);
  } catch (error) {
    if (error instanceof TokenCryptoError) return null;
    throw error;
  }
}

export type ConnectionTestOutcome = { status: ConnectionStatus; message: string };

/**
 * "Test connection": asks the provider who the token belongs to. Success makes the connection
 * active; an auth failure marks it revoked (or expired); anything else marks it error.
 */
export async function testConnection(
  handle: DbHandle,
  config: AppConfig,
  ring: KeyRing,
  connection: ConnectionRow,
): Promise<ConnectionTestOutcome> {
  const provider = getProvider(connection.provider);
  const context = providerContext(config, connection.provider);
  if (!context) {
    return { status: connection.status, message: `${provider.name} is not configured on this server, so it cannot be tested.` };
  }
  let tokens: StoredTokens;
  try {
    tokens = await decryptTokens(ring, connection);
  } catch (error) {
    if (!(error instanceof TokenCryptoError)) throw error;
    const reason = UNREADABLE_TOKENS;
    await setConnectionStatus(handle.db, connection.workspace_id, connection.id, "error", { reason, error: reason });
    return { status: "error", message: reason };
  }
  try {
    const identity = await provider.fetchIdentity(context, tokens);
    if (identity.accountId !== connection.account_id) {
      const reason = `The token now belongs to ${identity.label}, not ${connection.account_label}. Re-authorize to choose.`;
      await setConnectionStatus(handle.db, connection.workspace_id, connection.id, "error", { reason, error: reason });
      return { status: "error", message: reason };
    }
    await setConnectionStatus(handle.db, connection.workspace_id, connection.id, "active", { reason: null });
    return { status: "active", message: `${provider.name} confirmed the connection works (${identity.label}).` };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const { status, reason } = statusForProviderError(error, connection, provider.name);
    await setConnectionStatus(handle.db, connection.workspace_id, connection.id, status, { reason, error: reason });
    return { status, message: reason };
  }
}

export function statusForProviderError(
  error: ProviderError,
  connection: Pick<ConnectionRow, "access_token_expires_at">,
  providerName: string,
): { status: ConnectionStatus; reason: string } {
  const expiredByClock = connection.access_token_expires_at !== null && connection.access_token_expires_at <= Date.now();
  if (error.kind === "token_expired" || (error.kind === "unauthorized" && expiredByClock)) {
    return { status: "expired", reason: `${providerName} says the token expired (${error.message}). Re-authorize to continue.` };
  }
  if (error.kind === "unauthorized") {
    return { status: "revoked", reason: `${providerName} no longer accepts the token (${error.message}). Re-authorize to restore access.` };
  }
  return { status: "error", reason: `${providerName} answered with an error: ${describeProviderError(error)}` };
}

/** Revokes the token at the provider, best effort: the outcome is reported, never blocking. */
export async function revokeAtProvider(
  config: AppConfig,
  connection: Pick<ConnectionRow, "provider">,
  tokens: StoredTokens | null,
): Promise<{ revoked: boolean; message: string }> {
  const provider = getProvider(connection.provider);
  if (!tokens) return { revoked: false, message: `The stored token was unreadable, so it could not be revoked at ${provider.name}.` };
  const context = providerContext(config, connection.provider);
  if (!provider.revoke) return { revoked: false, message: `${provider.name} offers no token revocation; remove the app from your ${provider.name} settings.` };
  if (!context) return { revoked: false, message: `${provider.name} is not configured, so the token could not be revoked there.` };
  try {
    await provider.revoke(context, tokens);
    return { revoked: true, message: `The token was revoked at ${provider.name}.` };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return {
      revoked: false,
      message: `${provider.name} did not confirm the revocation (${describeProviderError(error)}); you may want to remove the app from your ${provider.name} settings.`,
    };
  }
}


/**
 * Key rotation: moves up to `limit` connections whose tokens are not yet under the primary key
 * onto it. Bounded per run and resumable (each run picks up what is left); idempotent (rows
 * already on the primary key are skipped). A row whose tokens changed meanwhile (token_version)
 * is left for the next run rather than overwritten.
 */
export async function reencryptConnections(db: Db, ring: KeyRing, limit = 100): Promise<{ moved: number; remaining: boolean }> {
  const prefix = `v1.${ring.primaryKeyId}.`;
  const rows = await db
    .selectFrom("connections")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("access_token_ct", "not like", `${prefix}%`),
        eb.and([eb("refresh_token_ct", "is not", null), eb("refresh_token_ct", "not like", `${prefix}%`)]),
        eb.and([eb("token_secret_ct", "is not", null), eb("token_secret_ct", "not like", `${prefix}%`)]),
      ]),
    )
    .orderBy("id")
    .limit(limit + 1)
    .execute();
  let moved = 0;
  for (const row of rows.slice(0, limit)) {
    const tokens = await tryDecryptTokens(ring, row);
    if (!tokens) continue; // unreadable: left for the user to re-authorize
    const columns = await encryptTokenColumns(ring, row.workspace_id, row.id, {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      tokenSecret: tokens.tokenSecret,
      accessTokenExpiresAt: row.access_token_expires_at,
      refreshTokenExpiresAt: row.refresh_token_expires_at,
      scopes: row.scopes ? row.scopes.split(" ") : [],
    });
    const result = await db
      .updateTable("connections")
      .set({ access_token_ct: columns.access_token_ct, refresh_token_ct: columns.refresh_token_ct, token_secret_ct: columns.token_secret_ct })
      .where("id", "=", row.id)
      .where("token_version", "=", row.token_version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) moved += 1;
  }
  return { moved, remaining: rows.length > limit };
}
