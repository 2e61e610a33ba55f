import type { loadInsightPage } from "./log.server";

type InsightPage = NonNullable<Awaited<ReturnType<typeof loadInsightPage>>>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An insight in the read API (GET /api/v1/insights/:id): its deliveries and their log, never a token. */
export function insightApiView(log: InsightPage, { origin, page, pageSize }: { origin: string; page: number; pageSize: number }) {
  const attemptsOf = (deliveryId: string) => log.attempts.filter((attempt) => attempt.delivery_id === deliveryId);
  const pages = Math.max(1, Math.ceil(log.total / pageSize));
  return {
    id: log.insight.id,
    url: `${origin}/insights/${log.insight.id}`,
    title: log.insight.title,
    body: log.insight.body,
    source: log.insight.source,
    createdAt: iso(log.insight.createdAt),
    summary: { deliveries: log.total, pending: log.pending, held: log.held, failed: log.failed },
    deliveries: log.deliveries.map((delivery) => ({
      id: delivery.id,
      intent: { id: delivery.intentId, name: delivery.intentName },
      connection: { id: delivery.connectionId, name: delivery.connectionName },
      provider: delivery.providerName,
      status: delivery.held ? "held" : delivery.status,
      attempts: delivery.attempts,
      nextAttemptAt: iso(delivery.nextAttemptAt),
      itemUrl: delivery.itemUrl,
      log: attemptsOf(delivery.id).map((attempt) => ({
        attempt: attempt.attempt,
        at: iso(attempt.at),
        outcome: attempt.outcome,
        httpStatus: attempt.http_status,
        errorClass: attempt.error_class,
        message: attempt.message,
        itemUrl: attempt.item_url,
      })),
    })),
    page,
    pages,
    next: page < pages ? `${origin}/api/v1/insights/${log.insight.id}?page=${page + 1}` : null,
  };
}
