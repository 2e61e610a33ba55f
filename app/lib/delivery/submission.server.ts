import type { Compilable } from "kysely";
import { sha256Hex } from "../platform/crypto.server";
import { uniqueViolation, type Db } from "../platform/db.server";
import type { DeliveryQueue } from "../platform/queues";
import { enqueueDeliveries } from "./dispatch.server";
import { createInsight, type CreateInsightResult, type InsightTargets } from "./insights.server";

/** An Idempotency-Key's first answer is replayed for this long (IETF httpapi idempotency draft). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface InsightInput {
  title: string;
  body: string;
  source: "form" | "api";
  targets: InsightTargets;
}

/** Writes committed with the insight (its audit event): they succeed or fail together. */
export type Alongside = (created: { insightId: string; deliveryIds: string[] }) => Compilable[];

/**
 * Records an insight with its deliveries, then hands the deliveries to the queue. The insight is
 * committed first: if the queue cannot be reached, the cron's sweep sends them later.
 */
export async function submitInsight(
  db: Db,
  queue: DeliveryQueue | null,
  workspaceId: string,
  input: InsightInput,
  alongside?: Alongside,
): Promise<CreateInsightResult> {
  const created = await createInsight(db, workspaceId, input, alongside);
  if (created.ok) await dispatch(queue, created.deliveryIds);
  return created;
}

async function dispatch(queue: DeliveryQueue | null, deliveryIds: string[]) {
  if (!queue || deliveryIds.length === 0) return;
  try {
    await enqueueDeliveries(queue, deliveryIds);
  } catch (error) {
    console.warn("deliveries will be sent by the next sweep:", error instanceof Error ? error.message : "queue unavailable");
  }
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export type IdempotentResult =
  | { kind: "created"; created: Extract<CreateInsightResult, { ok: true }>; answer: ApiAnswer }
  | { kind: "refused"; created: Extract<CreateInsightResult, { ok: false }> }
  | { kind: "replayed"; answer: ApiAnswer }
  | { kind: "key_reused" };

/**
 * POST /api/v1/insights with an Idempotency-Key: the same key with the same body gets the first
 * answer again (and creates nothing); with another body it is refused. The insight, its
 * deliveries and the stored answer are written in one batch, so two concurrent requests with one
 * key cannot both create an insight: the loser's batch fails on the key and replays the winner's.
 */
export async function submitInsightIdempotently(
  db: Db,
  queue: DeliveryQueue | null,
  workspaceId: string,
  input: InsightInput,
  idempotency: { key: string; rawBody: string },
  answerFor: (created: { insightId: string; deliveryIds: string[] }) => ApiAnswer,
  alongside: Alongside = () => [],
): Promise<IdempotentResult> {
  const requestHash = await sha256Hex(idempotency.rawBody);
  const earlier = await findAnswer(db, workspaceId, idempotency.key, requestHash);
  if (earlier) return earlier;
  let answer: ApiAnswer | undefined;
  const now = Date.now();
  try {
    const created = await createInsight(db, workspaceId, input, (ids) => {
      answer = answerFor(ids);
      return [
        ...alongside(ids),
        // An expired answer under the same key gives way to the new one.
        db
          .deleteFrom("api_idempotency_keys")
          .where("workspace_id", "=", workspaceId)
          .where("key", "=", idempotency.key)
          .where("created_at", "<=", now - IDEMPOTENCY_TTL_MS),
        db.insertInto("api_idempotency_keys").values({
          workspace_id: workspaceId,
          key: idempotency.key,
          request_hash: requestHash,
          status: answer.status,
          response_json: JSON.stringify(answer.body),
          created_at: now,
        }),
      ];
    });
    if (!created.ok) return { kind: "refused", created };
    await dispatch(queue, created.deliveryIds);
    return { kind: "created", created, answer: answer! };
  } catch (error) {
    if (uniqueViolation(error) !== "api_idempotency_keys.workspace_id, api_idempotency_keys.key") throw error;
    return (await findAnswer(db, workspaceId, idempotency.key, requestHash)) ?? { kind: "key_reused" };
  }
}

async function findAnswer(db: Db, workspaceId: string, key: string, requestHash: string): Promise<IdempotentResult | null> {
  const row = await db
    .selectFrom("api_idempotency_keys")
    .select(["request_hash", "status", "response_json"])
    .where("workspace_id", "=", workspaceId)
    .where("key", "=", key)
    .where("created_at", ">", Date.now() - IDEMPOTENCY_TTL_MS)
    .executeTakeFirst();
  if (!row) return null;
  if (row.request_hash !== requestHash) return { kind: "key_reused" };
  return { kind: "replayed", answer: { status: row.status, body: JSON.parse(row.response_json) as unknown } };
}

export async function pruneIdempotencyKeys(db: Db, now = Date.now()) {
  await db
    .deleteFrom("api_idempotency_keys")
    .where("created_at", "<=", now - IDEMPOTENCY_TTL_MS)
    .execute();
}
