import type { Db } from "../platform/db.server";
import { getEndpoint } from "./endpoints.server";
import { listEndpointLog, type LogCursor } from "./log.server";

/**
 * An endpoint's page: the endpoint, a page of its log, and whether a delivery is due within a
 * minute (the page then refreshes itself).
 */
export async function loadEndpointPage(db: Db, workspaceId: string, endpointId: string, before?: LogCursor) {
  const [endpoint, log, pending] = await Promise.all([
    getEndpoint(db, workspaceId, endpointId),
    listEndpointLog(db, workspaceId, endpointId, before),
    db
      .selectFrom("webhook_deliveries")
      .select("id")
      .where("endpoint_id", "=", endpointId)
      .where("workspace_id", "=", workspaceId)
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", Date.now() + 60_000)
      .limit(1)
      .executeTakeFirst(),
  ]);
  return endpoint ? { endpoint, log, pending: pending !== undefined } : null;
}
