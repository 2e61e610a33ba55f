import * as v from "valibot";
import type { ConnectionRow, Db, IntentRow } from "./db.server";
import { getProvider } from "./providers/registry";
import type { ProviderId, ProviderModule } from "./providers/types";

export interface IntentSummary {
  id: string;
  name: string;
  enabled: boolean;
  connectionId: string;
  connectionName: string;
  provider: ProviderId;
  connectionStatus: ConnectionRow["status"];
  overrideCount: number;
}

export async function listIntents(db: Db, workspaceId: string): Promise<IntentSummary[]> {
  const rows = await db
    .selectFrom("intents as i")
    .innerJoin("connections as c", "c.id", "i.connection_id")
    .select(["i.id", "i.name", "i.enabled", "i.overrides_json", "c.id as connection_id", "c.name as connection_name", "c.provider", "c.status"])
    .where("i.workspace_id", "=", workspaceId)
    .orderBy("i.name")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    connectionId: row.connection_id,
    connectionName: row.connection_name,
    provider: row.provider,
    connectionStatus: row.status,
    overrideCount: Object.keys(JSON.parse(row.overrides_json) as object).length,
  }));
}

export function getIntent(db: Db, workspaceId: string, id: string): Promise<IntentRow | undefined> {
  return db.selectFrom("intents").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}

/** Connections an intent may target, for the picker (picked by name). */
export function listConnectionChoices(db: Db, workspaceId: string) {
  return db
    .selectFrom("connections")
    .select(["id", "name", "provider", "status"])
    .where("workspace_id", "=", workspaceId)
    .orderBy("name")
    .execute();
}

export type EffectiveField = { name: string; value: unknown; source: "intent" | "connection" | "unset"; connectionValue: unknown; override: unknown };

/** What an intent delivers with: each overridable field from the intent, else the connection. */
export function effectiveConfig(provider: ProviderModule, connectionConfig: Record<string, unknown>, overrides: Record<string, unknown>): EffectiveField[] {
  return provider.overridableFields.map((name) => {
    const override = overrides[name];
    const connectionValue = connectionConfig[name];
    if (override !== undefined) return { name, value: override, source: "intent", connectionValue, override };
    if (connectionValue !== undefined) return { name, value: connectionValue, source: "connection", connectionValue, override };
    return { name, value: undefined, source: "unset", connectionValue, override };
  });
}

export function resolvedConfig(provider: ProviderModule, connectionConfig: Record<string, unknown>, overrides: Record<string, unknown>) {
  return Object.fromEntries(
    effectiveConfig(provider, connectionConfig, overrides)
      .filter((field) => field.value !== undefined)
      .map((field) => [field.name, field.value]),
  );
}

/**
 * Validates overrides against the provider's config schema and keeps only the fields an
 * intent may override. Empty fields mean "inherit" and are dropped.
 */
export function parseOverrides(provider: ProviderModule, raw: unknown) {
  const result = v.safeParse(provider.configSchema, raw ?? {});
  if (!result.success) return { ok: false as const, issues: result.issues };
  const overrides = Object.fromEntries(
    Object.entries(result.output).filter(([key, value]) => provider.overridableFields.includes(key) && value !== undefined),
  );
  return { ok: true as const, overrides };
}

/** Overrides that make no sense for another provider are dropped when an intent is repointed. */
export function overridesForProvider(provider: ProviderModule, overrides: Record<string, unknown>) {
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    if (provider.overridableFields.includes(key)) kept[key] = value;
    else dropped.push(key);
  }
  return { kept, dropped };
}

function isUniqueIntentName(error: unknown) {
  return String(error).includes("UNIQUE constraint failed: intents.workspace_id, intents.name");
}

export type SaveIntentResult = { ok: true; id: string } | { ok: false; reason: "name_taken" | "not_found" };

export async function createIntent(
  db: Db,
  workspaceId: string,
  input: { name: string; connectionId: string; enabled: boolean; overrides: Record<string, unknown> },
): Promise<SaveIntentResult> {
  const id = crypto.randomUUID();
  const now = Date.now();
  try {
    // The connection must belong to the same workspace: the insert selects it from there.
    const result = await db
      .insertInto("intents")
      .columns(["id", "workspace_id", "connection_id", "name", "enabled", "overrides_json", "created_at", "updated_at"])
      .expression((eb) =>
        eb
          .selectFrom("connections")
          .select([
            eb.val(id).as("id"),
            eb.val(workspaceId).as("workspace_id"),
            "connections.id as connection_id",
            eb.val(input.name).as("name"),
            eb.val(input.enabled ? 1 : 0).as("enabled"),
            eb.val(JSON.stringify(input.overrides)).as("overrides_json"),
            eb.val(now).as("created_at"),
            eb.val(now).as("updated_at"),
          ])
          .where("connections.workspace_id", "=", workspaceId)
          .where("connections.id", "=", input.connectionId),
      )
      .executeTakeFirst();
    if (!result.numInsertedOrUpdatedRows) return { ok: false, reason: "not_found" };
  } catch (error) {
    if (isUniqueIntentName(error)) return { ok: false, reason: "name_taken" };
    throw error;
  }
  return { ok: true, id };
}

export async function updateIntent(
  db: Db,
  workspaceId: string,
  id: string,
  input: { name: string; connectionId: string; enabled: boolean; overrides: Record<string, unknown> },
): Promise<SaveIntentResult> {
  try {
    const result = await db
      .updateTable("intents")
      .set({ name: input.name, connection_id: input.connectionId, enabled: input.enabled ? 1 : 0, overrides_json: JSON.stringify(input.overrides), updated_at: Date.now() })
      .where("workspace_id", "=", workspaceId)
      .where("id", "=", id)
      .where((eb) => eb.exists(eb.selectFrom("connections").select("id").where("workspace_id", "=", workspaceId).where("id", "=", input.connectionId)))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return { ok: false, reason: "not_found" };
  } catch (error) {
    if (isUniqueIntentName(error)) return { ok: false, reason: "name_taken" };
    throw error;
  }
  return { ok: true, id };
}

export async function deleteIntent(db: Db, workspaceId: string, id: string) {
  const result = await db.deleteFrom("intents").where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export type RepointResult = { ok: true; moved: number } | { ok: false; reason: "not_found" | "other_provider" | "same_connection" };

/**
 * Moves every intent of one connection to another connection of the same provider, in one
 * statement, so the first can be deleted without orphaning anything.
 */
export async function repointIntents(db: Db, workspaceId: string, from: ConnectionRow, toConnectionId: string): Promise<RepointResult> {
  if (toConnectionId === from.id) return { ok: false, reason: "same_connection" };
  const target = await db
    .selectFrom("connections")
    .select(["id", "provider"])
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", toConnectionId)
    .executeTakeFirst();
  if (!target) return { ok: false, reason: "not_found" };
  if (target.provider !== from.provider) return { ok: false, reason: "other_provider" };
  const result = await db
    .updateTable("intents")
    .set({ connection_id: target.id, updated_at: Date.now() })
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", from.id)
    .executeTakeFirst();
  return { ok: true, moved: Number(result.numUpdatedRows) };
}

