import { markdownTree } from "../providers/markdown.server";
import type { Db } from "../platform/db.server";
import { getProvider, isProviderId } from "../providers/registry";
import { getInsight } from "./insights.server";

/** An insight's integration log: its deliveries (a page at a time) and every attempt they made. */
export const LOG_PAGE_SIZE = 50;

export async function loadInsightPage(db: Db, workspaceId: string, id: string, page = 1) {
  const insight = id.length <= 64 ? await getInsight(db, workspaceId, id) : undefined;
  if (!insight) return null;
  const ofInsight = db.selectFrom("deliveries").where("workspace_id", "=", workspaceId).where("insight_id", "=", insight.id);
  const [deliveries, count] = await Promise.all([
    ofInsight
      .selectAll()
      .orderBy("intent_name")
      .orderBy("id")
      .limit(LOG_PAGE_SIZE)
      .offset((page - 1) * LOG_PAGE_SIZE)
      .execute(),
    ofInsight
      .select((eb) => [
        eb.fn.countAll<number>().as("n"),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb("status", "=", "pending"), eb("held_at", "is", null)]))
              .then(1)
              .else(0)
              .end(),
          )
          .as("pending"),
        eb.fn.sum<number>(eb.case().when("held_at", "is not", null).then(1).else(0).end()).as("held"),
        eb.fn.sum<number>(eb.case().when("status", "=", "failed").then(1).else(0).end()).as("failed"),
      ])
      .executeTakeFirstOrThrow(),
  ]);
  const attempts = deliveries.length
    ? await db
        .selectFrom("delivery_attempts as a")
        .innerJoin("deliveries as d", "d.id", "a.delivery_id")
        .select([
          "a.id",
          "a.delivery_id",
          "a.attempt",
          "a.at",
          "a.outcome",
          "a.http_status",
          "a.error_class",
          "a.message",
          "a.item_url",
          "d.intent_name",
          "d.connection_name",
          "d.connection_id",
          "d.provider",
        ])
        .where("d.workspace_id", "=", workspaceId)
        .where(
          "a.delivery_id",
          "in",
          deliveries.map((delivery) => delivery.id),
        )
        .orderBy("a.at")
        .orderBy("a.attempt")
        .execute()
    : [];
  return {
    insight: { id: insight.id, title: insight.title, body: insight.body, source: insight.source, createdAt: insight.created_at },
    deliveries: deliveries.map((d) => ({
      id: d.id,
      intentName: d.intent_name,
      intentId: d.intent_id,
      connectionName: d.connection_name,
      connectionId: d.connection_id,
      providerName: isProviderId(d.provider) ? getProvider(d.provider).name : d.provider,
      status: d.status,
      attempts: d.attempts,
      /** Waiting for its disabled connection to be enabled. */
      held: d.held_at !== null,
      nextAttemptAt: d.status === "pending" && d.held_at === null ? d.next_attempt_at : null,
      itemUrl: d.item_url,
    })),
    attempts: attempts.map((a) => ({ ...a, providerName: isProviderId(a.provider) ? getProvider(a.provider).name : a.provider })),
    total: Number(count.n),
    pending: Number(count.pending ?? 0),
    held: Number(count.held ?? 0),
    failed: Number(count.failed ?? 0),
  };
}

/**
 * The insight as its page shows it: the body's Markdown parsed here into a tree the page renders
 * with React (never HTML from the text), instead of the raw text.
 */
export function insightPageView({ body, ...insight }: { id: string; title: string; body: string; source: string; createdAt: number }) {
  return { ...insight, bodyTree: markdownTree(body) };
}
