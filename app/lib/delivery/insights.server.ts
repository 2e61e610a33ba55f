import type { Compilable, ExpressionBuilder } from "kysely";
import type { Database } from "../platform/schema";
import { runBatch, type Db } from "../platform/db.server";
import { getProvider } from "../providers/registry";
import { resolvedConfig } from "./effective-config.server";

export type InsightTargets = { all: true } | { names: string[] };

export type CreateInsightResult =
  | { ok: true; insightId: string; deliveryIds: string[] }
  | { ok: false; reason: "unknown_intents"; unknown: string[] }
  | { ok: false; reason: "disabled_intents"; disabled: string[] };

/**
 * Creates an insight and one pending delivery per target intent, in one batch. Each delivery
 * snapshots the intent's effective config, so later edits do not change what it delivers.
 * No targets means every enabled intent of the workspace.
 */
export async function createInsight(
  db: Db,
  workspaceId: string,
  input: { title: string; body: string; source: "form" | "api"; targets: InsightTargets },
  /** More writes that must succeed or fail with the insight (e.g. the idempotent API answer). */
  alongside: (created: { insightId: string; deliveryIds: string[] }) => Compilable[] = () => [],
): Promise<CreateInsightResult> {
  let query = db
    .selectFrom("intents as i")
    .innerJoin("connections as c", "c.id", "i.connection_id")
    .select([
      "i.id",
      "i.name",
      "i.enabled",
      "i.overrides_json",
      "c.id as connection_id",
      "c.name as connection_name",
      "c.provider",
      "c.config_json",
    ])
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
  const writes: Compilable[] = [
    db
      .insertInto("insights")
      .values({ id: insightId, workspace_id: workspaceId, title: input.title, body: input.body, source: input.source, created_at: now }),
  ];
  for (const intent of intents) {
    const id = crypto.randomUUID();
    deliveryIds.push(id);
    const provider = getProvider(intent.provider);
    const config = resolvedConfig(
      provider,
      JSON.parse(intent.config_json) as Record<string, unknown>,
      JSON.parse(intent.overrides_json) as Record<string, unknown>,
    );
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
  await runBatch(db, [...writes, ...alongside({ insightId, deliveryIds })]);
  return { ok: true, insightId, deliveryIds };
}

const INSIGHTS_PAGE_SIZE = 50;

/**
 * One page of insights, newest first, with their delivery counts. `before` is a keyset cursor
 * (the created_at and id of the last row shown), so every page costs the same however deep.
 */
export async function listInsights(db: Db, workspaceId: string, before?: { createdAt: number; id: string }) {
  const counted = (status?: "succeeded" | "failed") => (eb: ExpressionBuilder<Database & { n: Database["insights"] }, "n">) => {
    let count = eb.selectFrom("deliveries as d").whereRef("d.insight_id", "=", "n.id");
    if (status) count = count.where("d.status", "=", status);
    return count.select((d) => d.fn.countAll<number>().as("c"));
  };
  let query = db
    .selectFrom("insights as n")
    .select((eb) => [
      "n.id",
      "n.title",
      "n.source",
      "n.created_at",
      counted()(eb).as("deliveries"),
      counted("succeeded")(eb).as("succeeded"),
      counted("failed")(eb).as("failed"),
    ])
    .where("n.workspace_id", "=", workspaceId);
  if (before) {
    query = query.where((eb) =>
      eb.or([eb("n.created_at", "<", before.createdAt), eb.and([eb("n.created_at", "=", before.createdAt), eb("n.id", "<", before.id)])]),
    );
  }
  const rows = await query
    .orderBy("n.created_at", "desc")
    .orderBy("n.id", "desc")
    .limit(INSIGHTS_PAGE_SIZE + 1)
    .execute();
  const last = rows[INSIGHTS_PAGE_SIZE - 1];
  return {
    insights: rows
      .slice(0, INSIGHTS_PAGE_SIZE)
      .map((row) => ({ ...row, deliveries: Number(row.deliveries), succeeded: Number(row.succeeded), failed: Number(row.failed) })),
    next: rows.length > INSIGHTS_PAGE_SIZE && last ? { createdAt: last.created_at, id: last.id } : null,
  };
}

export function getInsight(db: Db, workspaceId: string, id: string) {
  return db.selectFrom("insights").selectAll().where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
}
