import type { Db } from "../platform/db.server";

/** What a connection has been doing: deliveries per day and the latest ones. */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DailyDeliveries {
  day: number;
  succeeded: number;
  failed: number;
}

/** Finished deliveries per UTC day for the last `days` days, oldest first (one query). */
export async function deliveryHistory(
  db: Db,
  workspaceId: string,
  connectionId: string,
  days = 30,
  now = Date.now(),
): Promise<DailyDeliveries[]> {
  const today = Math.floor(now / DAY_MS);
  const first = today - days + 1;
  const rows = await db
    .selectFrom("deliveries")
    .select((eb) => [eb.fn<number>("floor", [eb("completed_at", "/", DAY_MS)]).as("day"), "status", eb.fn.countAll<number>().as("count")])
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .where("status", "in", ["succeeded", "failed"])
    .where("completed_at", ">=", first * DAY_MS)
    .groupBy(["day", "status"])
    .execute();
  const series = Array.from({ length: days }, (_, index) => ({ day: first + index, succeeded: 0, failed: 0 }));
  for (const row of rows) {
    const bucket = series[Number(row.day) - first];
    if (bucket && (row.status === "succeeded" || row.status === "failed")) bucket[row.status] += Number(row.count);
  }
  return series;
}

export function latestDeliveries(db: Db, workspaceId: string, connectionId: string, limit = 10) {
  return db
    .selectFrom("deliveries as d")
    .innerJoin("insights as n", "n.id", "d.insight_id")
    .select(["d.id", "d.status", "d.attempts", "d.created_at", "d.item_url", "d.intent_name", "n.id as insight_id", "n.title"])
    .where("d.workspace_id", "=", workspaceId)
    .where("d.connection_id", "=", connectionId)
    .orderBy("d.created_at", "desc")
    .limit(limit)
    .execute();
}

/** Failed deliveries this recent can be redelivered from the connection's page. */
export const REDELIVERY_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** How many deliveries through a connection failed in the last 30 days. */
export async function countRedeliverable(db: Db, workspaceId: string, connectionId: string, now = Date.now()) {
  const row = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .where("status", "=", "failed")
    .where("completed_at", ">", now - REDELIVERY_WINDOW_MS)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deliveries waiting for this (disabled) connection to be enabled. */
export async function countHeld(db: Db, workspaceId: string, connectionId: string) {
  const row = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("workspace_id", "=", workspaceId)
    .where("connection_id", "=", connectionId)
    .where("held_at", "is not", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
