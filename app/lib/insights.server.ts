import type { Compilable } from "kysely";
import { runBatch, type Db, type DbHandle } from "./db.server";
import { resolvedConfig } from "./intents.server";
import { getProvider } from "./providers/registry";

export type InsightTargets = { all: true } | { names: string[] };

export type CreateInsightResult = { ok: true; insightId: string; deliveryIds: string[] } | { ok: false; reason: "unknown_intents"; unknown: string[] } | { ok: false; reason: "disabled_intents"; disabled: string[] };

/**
 * Creates an insight and one pending delivery per target intent, in one batch. Each delivery
 * snapshots the intent's effective config, so later edits do not change what it delivers.
 * No targets means every enabled intent of the workspace.
 */
export async function createInsight(
  handle: DbHandle,
  workspaceId: string,
  input: { title: string; body: string; source: "form" | "api"; targets: InsightTargets },
): Promise<CreateInsightResult> {
  const { db } = handle;
  let query = db
    .selectFrom("intents as i")
    .innerJoin("connections as c", "c.id", "i.connection_id")
    .select(["i.id", "i.name", "i.enabled", "i.overrides_json", "c.id as connection_id", "c.name as connection_name", "c.provider", "c.config_json"])
    .where("i.workspace_id", "=", workspaceId);
  if ("names" in input.targets) {
    const keys = input.targets.names;
    query = query.where((eb) => eb.or([eb("i.name", "in", keys), eb("i.id", "in", keys)]));
  } else query = query.where("i.enabled", "=", 1);
  const intents = await query.orderBy("i.name").execute();

  if ("names" in input.targets) {
    const found = new Set(intents.flatMap((intent) => [intent.name, intent.id]));
    const unknown = input.targets.names.filter((name) => !found.has(name));
    if (unknown.length) return { ok: false, reason: "unknown_intents", unknown };
    const disabled = intents.filter((intent) => intent.enabled !== 1).map((intent) => intent.name);
    if (disabled.length) return { ok: false, reason: "disabled_intents", disabled };
  }

  const insightId = crypto.randomUUID();
  const now = Date.now();
  const deliveryIds: string[] = [];
  const writes: Compilable[] = [db.insertInto("insights").values({ id: insightId, workspace_id: workspaceId, title: input.title, body: input.body, source: input.source, created_at: now })];
  for (const intent of intents) {
    const id = crypto.randomUUID();
    deliveryIds.push(id);
    const provider = getProvider(intent.provider);
    const config = resolvedConfig(provider, JSON.parse(intent.config_json) as Record<string, unknown>, JSON.parse(intent.overrides_json) as Record<string, unknown>);
    writes.push(
      db.insertInto("deliveries").values({
        id,
        workspace_id: workspaceId,
        insight_id: insightId,
        intent_id: intent.id,
        intent_name: intent.name,
        connection_id: intent.connection_id,
        connection_name: intent.connection_name,
        provider: intent.provider,
        config_json: JSON.stringify(config),
        status: "pending",
        attempts: 0,
        next_attempt_at: now,
        idempotency_key: id,
        created_at: now,
      }),
    );
  }
  await runBatch(handle, writes);
  return { ok: true, insightId, deliveryIds };
}

export function listInsights(db: Db, workspaceId: string, limit = 50) {
  return db
    .selectFrom("insights as n")
    .select([
      "n.id",
      "n.title",
      "n.source",
      "n.created_at",
      (eb) => eb.selectFrom("deliveries as d").whereRef("d.insight_id", "=", "n.id").select((d) => d.fn.countAll<number>().as("c")).as("deliveries"),
      (eb) => eb.selectFrom("deliveries as d").whereRef("d.insight_id", "=", "n.id").where("d.status", "=", "succeeded").select((d) => d.fn.countAll<number>().as("c")).as("succeeded"),
      (eb) => eb.selectFrom("deliveries as d").whereRef("d.insight_id", "=", "n.id").where("d.status", "=", "failed").select((d) => d.fn.countAll<number>().as("c")).as("failed"),
    ])
    .where("n.workspace_id", "=", workspaceId)
    .orderBy("n.created_at", "desc")
    .limit(limit)
    .execute();
}

export function getInsight(db: Db, workspaceId: string, id: string) {
  return db.selectFrom("insights").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}

export async function getIntegrationLog(db: Db, workspaceId: string, insightId: string) {
  const [deliveries, attempts] = await Promise.all([
    db.selectFrom("deliveries").selectAll().where("workspace_id", "=", workspaceId).where("insight_id", "=", insightId).orderBy("intent_name").execute(),
    db
      .selectFrom("delivery_attempts as a")
      .innerJoin("deliveries as d", "d.id", "a.delivery_id")
      .select(["a.id", "a.delivery_id", "a.attempt", "a.at", "a.outcome", "a.http_status", "a.error_class", "a.message", "a.item_url", "d.intent_name", "d.connection_name", "d.connection_id", "d.provider"])
      .where("d.workspace_id", "=", workspaceId)
      .where("a.insight_id", "=", insightId)
      .orderBy("a.at")
      .execute(),
  ]);
  return { deliveries, attempts };
}
