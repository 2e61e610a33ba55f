import { checkSoonQuery, findPickedConnection, getConnection, type ConnectionPick } from "../connections/repository.server";
import { problemsByField, verifyTargets } from "../connections/targets.server";
import type { VaultDeps } from "../connections/vault.server";
import { uniqueViolation, type Db } from "../platform/db.server";
import { describeConfigValue, sameConfig } from "../providers/config-form";
import { getProvider } from "../providers/registry";
import { overridesForProvider, parseOverrides, resolvedConfig } from "./effective-config.server";
import type { ConnectionRow, ConnectionStatus, IntentRow } from "../platform/schema";
import type { ProviderId, TargetProblem } from "../providers/types";

export interface IntentSummary {
  id: string;
  name: string;
  enabled: boolean;
  connectionId: string;
  connectionName: string;
  provider: ProviderId;
  connectionStatus: ConnectionStatus;
  overrideCount: number;
  /** Why the intent's own settings need attention (its last delivery failed on them), if so. */
  attention: string | null;
  /** What SpokeDo's last check found wrong with what the intent points at, in words (null: nothing). */
  drift: string | null;
}

export const INTENTS_PAGE_SIZE = 50;

/** One page of the workspace's intents (by name) and how many there are. */
export async function listIntents(db: Db, workspaceId: string, page = 1): Promise<{ intents: IntentSummary[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom("intents as i")
      .innerJoin("connections as c", "c.id", "i.connection_id")
      .select([
        "i.id",
        "i.name",
        "i.enabled",
        "i.overrides_json",
        "i.attention_reason",
        "i.drift_json",
        "c.id as connection_id",
        "c.name as connection_name",
        "c.provider",
        "c.status",
      ])
      .where("i.workspace_id", "=", workspaceId)
      .orderBy("i.name")
      .limit(INTENTS_PAGE_SIZE)
      .offset((page - 1) * INTENTS_PAGE_SIZE)
      .execute(),
    db
      .selectFrom("intents")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("workspace_id", "=", workspaceId)
      .executeTakeFirstOrThrow(),
  ]);
  const intents = rows.map((row) => ({
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    connectionId: row.connection_id,
    connectionName: row.connection_name,
    provider: row.provider,
    connectionStatus: row.status,
    overrideCount: Object.keys(JSON.parse(row.overrides_json) as object).length,
    attention: row.attention_reason,
    drift: driftWords(row.drift_json),
  }));
  return { intents, total: Number(count.n) };
}

function driftWords(json: string | null): string | null {
  if (!json) return null;
  try {
    const problems = JSON.parse(json) as { message?: string }[];
    return Array.isArray(problems) && problems.length ? problems.map((problem) => problem.message ?? "").join(" ") : null;
  } catch {
    return null;
  }
}

/** Enabled intents to offer on the new-insight form (at most `limit`, by name). */
export function listEnabledIntentNames(db: Db, workspaceId: string, limit = 100) {
  return db
    .selectFrom("intents as i")
    .innerJoin("connections as c", "c.id", "i.connection_id")
    .select(["i.id", "i.name", "c.name as connectionName"])
    .where("i.workspace_id", "=", workspaceId)
    .where("i.enabled", "=", 1)
    .orderBy("i.name")
    .limit(limit)
    .execute();
}

export function getIntent(db: Db, workspaceId: string, id: string): Promise<IntentRow | undefined> {
  return db.selectFrom("intents").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}

const NAME_TAKEN = "intents.workspace_id, intents.name";

export type SaveIntentResult = { ok: true; id: string } | { ok: false; reason: "name_taken" | "not_found" };

export async function createIntent(
  db: Db,
  workspaceId: string,
  input: { name: string; connection: ConnectionPick; enabled: boolean; overrides: Record<string, unknown> },
): Promise<(SaveIntentResult & { ok: false }) | { ok: true; id: string; connectionName: string }> {
  const id = crypto.randomUUID();
  const pick = input.connection;
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
          .where("id" in pick ? "connections.id" : "connections.name", "=", "id" in pick ? pick.id : pick.name),
      )
      .executeTakeFirst();
    if (!result.numInsertedOrUpdatedRows) return { ok: false, reason: "not_found" };
  } catch (error) {
    if (uniqueViolation(error) === NAME_TAKEN) return { ok: false, reason: "name_taken" };
    throw error;
  }
  const connection = await checkSoonOf(db, workspaceId, id);
  return { ok: true, id, connectionName: connection?.name ?? "" };
}

/** A new intent's settings are checked at the next cron run, with its connection's token. */
async function checkSoonOf(db: Db, workspaceId: string, intentId: string) {
  const intent = await db
    .selectFrom("intents as i")
    .innerJoin("connections as c", "c.id", "i.connection_id")
    .select(["i.connection_id", "c.name"])
    .where("i.workspace_id", "=", workspaceId)
    .where("i.id", "=", intentId)
    .executeTakeFirst();
  if (intent) await checkSoonQuery(db, workspaceId, intent.connection_id).execute();
  return intent;
}

async function updateIntent(
  db: Db,
  workspaceId: string,
  id: string,
  input: {
    name: string;
    connectionId: string;
    enabled: boolean;
    overrides: Record<string, unknown>;
    /** What the provider said of the effective settings' targets on save; null: not verified. */
    verified: TargetProblem[] | null;
  },
): Promise<SaveIntentResult> {
  try {
    const result = await db
      .updateTable("intents")
      .set({
        name: input.name,
        connection_id: input.connectionId,
        enabled: input.enabled ? 1 : 0,
        overrides_json: JSON.stringify(input.overrides),
        updated_at: Date.now(),
        // Edited: whatever needed attention is the user's to check again, and SpokeDo's too.
        attention_reason: null,
        attention_insight_id: null,
        attention_at: null,
        drift_json: input.verified ? JSON.stringify(input.verified) : null,
        drift_checked_at: input.verified ? Date.now() : null,
      })
      .where("workspace_id", "=", workspaceId)
      .where("id", "=", id)
      .where((eb) =>
        eb.exists(eb.selectFrom("connections").select("id").where("workspace_id", "=", workspaceId).where("id", "=", input.connectionId)),
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return { ok: false, reason: "not_found" };
  } catch (error) {
    if (uniqueViolation(error) === NAME_TAKEN) return { ok: false, reason: "name_taken" };
    throw error;
  }
  await checkSoonQuery(db, workspaceId, input.connectionId).execute();
  return { ok: true, id };
}

export async function deleteIntent(db: Db, workspaceId: string, id: string) {
  const result = await db.deleteFrom("intents").where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export type RepointResult =
  { ok: true; moved: number; target: string } | { ok: false; reason: "not_found" | "other_provider" | "same_connection" };

/**
 * Moves every intent of one connection to another connection of the same provider, in one
 * statement, so the first can be deleted without orphaning anything.
 */
export async function repointIntents(db: Db, workspaceId: string, from: ConnectionRow, toConnectionId: string): Promise<RepointResult> {
  if (toConnectionId === from.id) return { ok: false, reason: "same_connection" };
  const target = await db
    .selectFrom("connections")
    .select(["id", "provider", "name"])
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", toConnectionId)
    .executeTakeFirst();
  if (!target) return { ok: false, reason: "not_found" };
  if (target.provider !== from.provider) return { ok: false, reason: "other_provider" };
  const result = await db
    .updateTable("intents")
    .set({ connection_id: target.id, updated_at: Date.now(), drift_json: null, drift_checked_at: null })
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", from.id)
    .executeTakeFirst();
  await checkSoonQuery(db, workspaceId, target.id).execute();
  return { ok: true, moved: Number(result.numUpdatedRows), target: target.name };
}

/** An intent's non-secret settings as the audit trail compares them. */
export function intentState(intent: { name: string; enabled: number | boolean; overrides: Record<string, unknown> }, connection: string) {
  return { name: intent.name, connection, enabled: Boolean(intent.enabled), ...intent.overrides };
}

export type SaveIntentSettingsResult =
  /** verified: false when the provider could not be asked about the new targets; before/after for the audit trail. */
  | { ok: true; message: string; verified: boolean; before: Record<string, unknown>; after: Record<string, unknown> }
  | { ok: false; reason: "invalid"; fieldErrors: Record<string, string[]> }
  | { ok: false; reason: "not_found" };

/**
 * Saves an intent's name, target and overrides. Repointing to another provider keeps only the
 * overrides that provider has fields for (and says which were dropped); the rest are validated
 * against the target provider's config schema.
 */
/** The typed values of fields the intent overrides (inherited ones stay the connection's). */
function ownTyped(typed: Record<string, unknown>, overrides: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(typed).filter(([field]) => overrides[field] !== undefined));
}

export async function saveIntentSettings(
  deps: VaultDeps,
  workspaceId: string,
  intent: Pick<IntentRow, "id" | "name" | "enabled" | "connection_id" | "overrides_json">,
  input: { name: string; connection: ConnectionPick; enabled: boolean; overrides: Record<string, unknown> },
): Promise<SaveIntentSettingsResult> {
  const { db } = deps;
  const picked = await findPickedConnection(db, workspaceId, input.connection);
  const target = picked ? await getConnection(db, workspaceId, picked.id) : undefined;
  if (!target) return { ok: false, reason: "invalid", fieldErrors: { connectionId: ["Choose one of this workspace's connections."] } };
  const provider = getProvider(target.provider);
  const { kept, dropped } = overridesForProvider(provider, input.overrides);
  const parsed = parseOverrides(provider, kept);
  if (!parsed.ok) return { ok: false, reason: "invalid", fieldErrors: parsed.fieldErrors };

  // New targets are checked with the provider before they are saved: problems in what this intent
  // overrides are refused next to the field; those it inherits are the connection's to fix.
  const stored = JSON.parse(intent.overrides_json) as Record<string, unknown>;
  const changed = target.id !== intent.connection_id || !sameConfig(provider.configFields, parsed.overrides, stored);
  const effective = resolvedConfig(provider, JSON.parse(target.config_json) as Record<string, unknown>, parsed.overrides);
  const verdict = changed ? await verifyTargets(deps, target, effective) : null;
  const overridden = (field: string) => parsed.overrides[field] !== undefined;
  if (verdict?.verified) {
    const own = verdict.problems.filter((problem) => overridden(problem.field));
    if (own.length) return { ok: false, reason: "invalid", fieldErrors: problemsByField(own, "overrides.") };
  }
  const overrides = !changed
    ? stored
    : verdict?.verified
      ? { ...parsed.overrides, ...ownTyped(verdict.typed, parsed.overrides) }
      : parsed.overrides;
  const saved = await updateIntent(db, workspaceId, intent.id, {
    name: input.name,
    connectionId: target.id,
    enabled: input.enabled,
    overrides,
    verified: verdict?.verified ? verdict.problems : null,
  });
  if (!saved.ok && saved.reason === "name_taken") {
    return { ok: false, reason: "invalid", fieldErrors: { name: [`This workspace already has an intent named ${input.name}.`] } };
  }
  if (!saved.ok) return { ok: false, reason: "not_found" };
  const unverified = verdict && !verdict.verified ? ` Not verified yet: ${verdict.reason}; SpokeDo checks again at its next run.` : "";
  const verified = !unverified;
  const previous = target.id === intent.connection_id ? target : await getConnection(db, workspaceId, intent.connection_id);
  const audit = {
    before: intentState({ ...intent, overrides: stored }, previous?.name ?? intent.connection_id),
    after: intentState({ name: input.name, enabled: input.enabled, overrides }, target.name),
  };
  if (target.id === intent.connection_id) return { ok: true, message: `Saved.${unverified}`, verified, ...audit };
  const meaningful = dropped.filter((key) => describeConfigValue(input.overrides[key]).replace(/[,\s→;]/g, "") !== "");
  const droppedNote = meaningful.length ? ` Dropped overrides ${provider.name} has no field for: ${meaningful.join(", ")}.` : "";
  return { ok: true, message: `Saved: ${input.name} now delivers through ${target.name}.${droppedNote}${unverified}`, verified, ...audit };
}
