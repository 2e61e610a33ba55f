import { sql, type Compilable, type ExpressionBuilder } from "kysely";
import { precompiled, runBatch, uniqueViolation, type Db } from "../platform/db.server";
import type { ConnectionRow, ConnectionStatus, Database } from "../platform/schema";
import type { AccountIdentity, ProviderId, TargetProblem } from "../providers/types";
import { ACTIVE, statusChangeEvents } from "./status.server";
import type { TokenColumns } from "./vault.server";

/** SQL for connections, always scoped to one workspace. Rows are turned into views in views.server.ts. */

export const PAGE_SIZE = 25;
const UNUSED_AFTER_MS = 90 * 24 * 60 * 60 * 1000;

export type ConnectionSort = "name" | "last_used" | "status";

export interface ConnectionFilters {
  provider?: ProviderId;
  status?: ConnectionStatus;
  /** Only connections that deliver (enabled) or only disabled ones. */
  state?: "enabled" | "disabled";
  search?: string;
  unused?: boolean;
  sort: ConnectionSort;
  page: number;
}

function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** What narrows the index, as values (or placeholders when the statement is precompiled). */
interface ConnectionNarrowing {
  provider?: string;
  status?: string;
  state?: "enabled" | "disabled";
  /** A LIKE pattern for the name or account. */
  pattern?: string;
  /** Unused since before this time. */
  unusedBefore?: number;
}

function filteredConnections(db: Db, workspaceId: string, narrowing: ConnectionNarrowing) {
  let query = db.selectFrom("connections as c").where("c.workspace_id", "=", workspaceId);
  if (narrowing.provider !== undefined) query = query.where("c.provider", "=", narrowing.provider);
  if (narrowing.status !== undefined) query = query.where("c.status", "=", narrowing.status as ConnectionStatus);
  if (narrowing.state) query = query.where("c.disabled_at", narrowing.state === "disabled" ? "is not" : "is", null);
  if (narrowing.pattern !== undefined) {
    query = query.where(
      sql<boolean>`(c.name like ${narrowing.pattern} escape '\\' or c.account_label like ${narrowing.pattern} escape '\\')`,
    );
  }
  if (narrowing.unusedBefore !== undefined) {
    query = query.where(sql<boolean>`coalesce(c.last_used_at, c.created_at) < ${narrowing.unusedBefore}`);
  }
  return query;
}

const INDEX_VALUES = ["workspaceId", "provider", "status", "pattern", "unusedBefore", "offset"] as const;
type IndexValue = (typeof INDEX_VALUES)[number];

/**
 * The index's two statements for one combination of filters and sort, built and compiled once
 * per isolate (every index view runs them; building them again each time cost more than the
 * rest of our code on the page). Values are bound per request. At most 144 combinations.
 */
function indexStatements(filters: ConnectionFilters) {
  const shape = [!!filters.provider, !!filters.status, filters.state ?? "", !!filters.search, !!filters.unused, filters.sort].join("|");
  let statements = INDEX_STATEMENTS.get(shape);
  if (!statements) {
    statements = buildIndexStatements(filters);
    INDEX_STATEMENTS.set(shape, statements);
  }
  return statements;
}

function buildIndexStatements(filters: ConnectionFilters) {
  const narrowing = (p: Record<IndexValue, never>): ConnectionNarrowing => ({
    provider: filters.provider ? p.provider : undefined,
    status: filters.status ? p.status : undefined,
    state: filters.state,
    pattern: filters.search ? p.pattern : undefined,
    unusedBefore: filters.unused ? p.unusedBefore : undefined,
  });
  const page = precompiled(INDEX_VALUES, (db, p) => {
    let rows = filteredConnections(db, p.workspaceId, narrowing(p)).select([
      "c.id",
      "c.name",
      "c.provider",
      "c.status",
      "c.disabled_at",
      "c.account_label",
      "c.last_used_at",
      "c.access_token_expires_at",
      "c.refresh_token_expires_at",
      sql<number>`c.refresh_token_ct is not null`.as("has_refresh_token"),
    ]);
    if (filters.sort === "last_used") rows = rows.orderBy("c.last_used_at", "desc");
    if (filters.sort === "status") rows = rows.orderBy("c.status_rank");
    rows = rows.orderBy("c.name").limit(PAGE_SIZE).offset(p.offset);
    return db
      .with("page", () => rows)
      .selectFrom("page")
      .selectAll("page")
      .select((eb) =>
        eb
          .selectFrom("intents as i")
          .whereRef("i.connection_id", "=", "page.id")
          .select((i) => i.fn.countAll<number>().as("n"))
          .as("intent_count"),
      );
  });
  const count = precompiled(INDEX_VALUES, (db, p) =>
    filteredConnections(db, p.workspaceId, narrowing(p)).select((eb) => eb.fn.countAll<number>().as("n")),
  );
  return { page, count };
}

const INDEX_STATEMENTS = new Map<string, ReturnType<typeof buildIndexStatements>>();

/**
 * One page of the index and the total, as two independent statements that run together. Each
 * sort is served by an index, and dependent intents are counted for the page's rows only.
 */
export async function listConnections(db: Db, workspaceId: string, filters: ConnectionFilters, now = Date.now()) {
  const { page, count } = indexStatements(filters);
  const values: Record<IndexValue, unknown> = {
    workspaceId,
    provider: filters.provider ?? null,
    status: filters.status ?? null,
    pattern: filters.search ? `%${escapeLike(filters.search)}%` : null,
    unusedBefore: now - UNUSED_AFTER_MS,
    offset: (filters.page - 1) * PAGE_SIZE,
  };
  const [rows, total] = await Promise.all([db.executeQuery(page.bind(values)), db.executeQuery(count.bind(values))]);
  return { rows: rows.rows, total: Number(total.rows[0]?.n ?? 0) };
}

/** Connections that need someone: not active (the navigation's count; by the status_rank index). */
const NEEDING_ATTENTION = precompiled(["workspaceId"], (db, p) =>
  db
    .selectFrom("connections")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("workspace_id", "=", p.workspaceId)
    .where("status_rank", "<", 3),
);

export async function countNeedingAttention(db: Db, workspaceId: string) {
  const { rows } = await db.executeQuery(NEEDING_ATTENTION.bind({ workspaceId }));
  return Number(rows[0]?.n ?? 0);
}

export type ConnectionListRow = Awaited<ReturnType<typeof listConnections>>["rows"][number];

export function getConnection(db: Db, workspaceId: string, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom("connections").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}

/** The intents that deliver through a connection: the first `limit` by name, and how many in all. */
export async function listDependentIntents(db: Db, workspaceId: string, connectionId: string, limit = 50) {
  const dependents = db.selectFrom("intents").where("workspace_id", "=", workspaceId).where("connection_id", "=", connectionId);
  const [intents, count] = await Promise.all([
    dependents.select(["id", "name", "enabled", "drift_json", "drift_checked_at"]).orderBy("name").limit(limit).execute(),
    dependents
      .select((eb) => [
        eb.fn.countAll<number>().as("n"),
        // How many point at something the last check found missing or unusable.
        eb.fn.sum<number>(sql`case when drift_json is not null and drift_json != '[]' then 1 else 0 end`).as("drifted"),
      ])
      .executeTakeFirstOrThrow(),
  ]);
  return { intents, total: Number(count.n), drifted: Number(count.drifted ?? 0) };
}

/**
 * Connections to choose from (an intent's target, a repoint target): at most `limit`, by name,
 * narrowed by a search; `more` says the list was cut.
 */
export async function listConnectionChoices(
  db: Db,
  workspaceId: string,
  options: { provider?: ProviderId; search?: string; excludeId?: string; limit?: number } = {},
) {
  const limit = options.limit ?? 100;
  let query = db.selectFrom("connections").select(["id", "name", "provider", "status"]).where("workspace_id", "=", workspaceId);
  if (options.provider) query = query.where("provider", "=", options.provider);
  if (options.excludeId) query = query.where("id", "!=", options.excludeId);
  if (options.search) query = query.where(sql<boolean>`name like ${`%${escapeLike(options.search)}%`} escape '\\'`);
  const rows = await query
    .orderBy("name")
    .limit(limit + 1)
    .execute();
  return { choices: rows.slice(0, limit), more: rows.length > limit };
}

/** A connection chosen from a list (by id) or, past the list's length, typed by name. */
export type ConnectionPick = { id: string } | { name: string };

export function findPickedConnection(db: Db, workspaceId: string, pick: ConnectionPick) {
  const query = db.selectFrom("connections").selectAll().where("workspace_id", "=", workspaceId);
  return ("id" in pick ? query.where("id", "=", pick.id) : query.where("name", "=", pick.name)).executeTakeFirst();
}

export async function isConnectionNameTaken(db: Db, workspaceId: string, name: string) {
  return (await findPickedConnection(db, workspaceId, { name })) !== undefined;
}

const NAME_TAKEN = "connections.workspace_id, connections.name";

function identityColumns(identity: AccountIdentity) {
  return {
    account_id: identity.accountId,
    account_organization_id: identity.organizationId ?? null,
    account_label: identity.label,
    account_url: identity.url,
    identity_json: JSON.stringify(identity.details),
  };
}

export type CreateConnectionResult = { ok: true; id: string } | { ok: false; reason: "name_taken" };

/** A new connection whose id was chosen (and its tokens sealed for it) by the caller. */
export async function createConnection(
  db: Db,
  input: {
    id: string;
    workspaceId: string;
    provider: ProviderId;
    name: string;
    tokens: TokenColumns;
    identity: AccountIdentity;
    /** When its first scheduled health check is due. */
    healthDueAt: number;
  },
): Promise<CreateConnectionResult> {
  const now = Date.now();
  try {
    await db
      .insertInto("connections")
      .values({
        id: input.id,
        workspace_id: input.workspaceId,
        provider: input.provider,
        name: input.name,
        status: "active",
        status_reason: null,
        status_changed_at: now,
        ...identityColumns(input.identity),
        ...input.tokens,
        token_version: 1,
        authorized_at: now,
        config_json: "{}",
        created_at: now,
        updated_at: now,
        health_due_at: input.healthDueAt,
      })
      .execute();
  } catch (error) {
    if (uniqueViolation(error) === NAME_TAKEN) return { ok: false, reason: "name_taken" };
    throw error;
  }
  return { ok: true, id: input.id };
}

/**
 * Re-authorization: new tokens in place. Id, name and config stay; the status returns to
 * active (with the status rule's webhook events) and the failure fields are cleared. Returns the
 * writes to batch with other writes.
 */
export function replaceTokensWrites(
  db: Db,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  tokens: TokenColumns,
  identity: AccountIdentity,
  healthDueAt: number,
): Compilable[] {
  const now = Date.now();
  return [...statusChangeEvents(db, connection, ACTIVE, now), replaceTokensQuery(db, connection, tokens, identity, healthDueAt, now)];
}

function replaceTokensQuery(
  db: Db,
  connection: Pick<ConnectionRow, "id" | "workspace_id">,
  tokens: TokenColumns,
  identity: AccountIdentity,
  healthDueAt: number,
  now: number,
): Compilable {
  return db
    .updateTable("connections")
    .set((eb) => ({
      ...identityColumns(identity),
      ...tokens,
      tokens_unreadable_at: null,
      status: "active",
      status_reason: null,
      status_changed_at: now,
      last_error: null,
      last_error_insight_id: null,
      last_error_at: null,
      authorized_at: now,
      updated_at: now,
      token_version: eb("token_version", "+", 1),
      health_due_at: healthDueAt,
      refresh_failures: 0,
      refresh_failing_since: null,
      refresh_retry_at: null,
    }))
    .where("workspace_id", "=", connection.workspace_id)
    .where("id", "=", connection.id);
}

export type UpdateSettingsResult = { ok: true } | { ok: false; reason: "name_taken" | "not_found" };

export async function updateConnectionSettings(
  db: Db,
  workspaceId: string,
  id: string,
  input: {
    name: string;
    config: Record<string, unknown>;
    /** What the provider said of the new defaults' targets when they were saved; null: not verified. */
    verified?: TargetProblem[] | null;
  },
): Promise<UpdateSettingsResult> {
  const configJson = JSON.stringify(input.config);
  const now = Date.now();
  const changed = (eb: ExpressionBuilder<Database, "connections">) => eb("config_json", "!=", configJson);
  const verifiedJson = input.verified ? JSON.stringify(input.verified) : null;
  const verifiedAt = input.verified ? now : null;
  try {
    const [, , updated] = await runBatch(db, [
      // New defaults: what the intents point at is unknown until checked again…
      db
        .updateTable("intents")
        .set({ drift_json: null, drift_checked_at: null })
        .where("workspace_id", "=", workspaceId)
        .where("connection_id", "=", id)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom("connections")
              .select("id")
              .where("workspace_id", "=", workspaceId)
              .where("id", "=", id)
              .where("config_json", "!=", configJson),
          ),
        ),
      // …so the connection is checked at the next cron run (before the new defaults are written).
      checkSoonQuery(db, workspaceId, id, now).where("config_json", "!=", configJson),
      db
        .updateTable("connections")
        .set((eb) => ({
          name: input.name,
          config_json: configJson,
          updated_at: now,
          drift_json: eb.case().when(changed(eb)).then(verifiedJson).else(eb.ref("drift_json")).end(),
          drift_checked_at: eb.case().when(changed(eb)).then(verifiedAt).else(eb.ref("drift_checked_at")).end(),
        }))
        .where("workspace_id", "=", workspaceId)
        .where("id", "=", id),
    ]);
    return (updated?.meta.changes ?? 0) > 0 ? { ok: true } : { ok: false, reason: "not_found" };
  } catch (error) {
    if (uniqueViolation(error) === NAME_TAKEN) return { ok: false, reason: "name_taken" };
    throw error;
  }
}

export type DeleteConnectionResult =
  { ok: true } | { ok: false; reason: "not_found" } | { ok: false; reason: "in_use"; intentCount: number };

/**
 * Settings changed: check the connection (token and settings) at the next cron run instead of
 * hours later. Connections with no check scheduled (revoked, expired, disabled) are left alone.
 */
export function checkSoonQuery(db: Db, workspaceId: string, connectionId: string, now = Date.now()) {
  return db
    .updateTable("connections")
    .set({ health_due_at: now })
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", connectionId)
    .where("health_due_at", ">", now);
}

/** Deletes a connection unless intents depend on it; the check and the delete are one statement. */
export async function deleteConnection(db: Db, workspaceId: string, id: string): Promise<DeleteConnectionResult> {
  const result = await db
    .deleteFrom("connections")
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .where((eb) => eb.not(eb.exists(eb.selectFrom("intents").select("id").whereRef("intents.connection_id", "=", "connections.id"))))
    .executeTakeFirst();
  if (Number(result.numDeletedRows) > 0) return { ok: true };
  const { total } = await listDependentIntents(db, workspaceId, id, 0);
  if (total > 0) return { ok: false, reason: "in_use", intentCount: total };
  return { ok: false, reason: "not_found" };
}

/** "Disable": deliveries through the connection are held and its checks paused, until enabled. */
export async function disableConnection(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const now = Date.now();
  const result = await db
    .updateTable("connections")
    .set({ disabled_at: now, updated_at: now, health_due_at: null })
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .where("disabled_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The connection half of "Enable" (the delivery domain releases what was held): checked again soon. */
export function enableConnectionQuery(db: Db, workspaceId: string, id: string, now: number): Compilable {
  return db
    .updateTable("connections")
    .set({ disabled_at: null, updated_at: now, health_due_at: now })
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .where("disabled_at", "is not", null);
}

/**
 * The read API's list: a page of the workspace's connections by name, after `afterName` (keyset
 * pagination, served by the (workspace, name) and (workspace, status|provider, name) indexes, so
 * any page costs the same). One more row than asked says whether a next page exists.
 */
export async function listConnectionsAfter(
  db: Db,
  workspaceId: string,
  options: { status?: ConnectionStatus; provider?: ProviderId; afterName?: string; limit: number },
) {
  let query = db.selectFrom("connections").selectAll().where("workspace_id", "=", workspaceId);
  if (options.status) query = query.where("status", "=", options.status);
  if (options.provider) query = query.where("provider", "=", options.provider);
  if (options.afterName !== undefined) query = query.where("name", ">", options.afterName);
  const rows = await query
    .orderBy("name")
    .limit(options.limit + 1)
    .execute();
  return { rows: rows.slice(0, options.limit), more: rows.length > options.limit };
}

/**
 * Whether SpokeDo holds another connection (in any workspace) to this provider account: a
 * provider whose grant covers every token of the account must then not revoke the whole grant.
 * Uses connections_by_provider_account.
 */
export async function isAccountHeldElsewhere(db: Db, provider: string, accountId: string, exceptId: string) {
  const row = await db
    .selectFrom("connections")
    .select("id")
    .where("provider", "=", provider)
    .where("account_id", "=", accountId)
    .where("id", "!=", exceptId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
