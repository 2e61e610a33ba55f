import { recentChangesOf } from "../audit/page.server";
import type { Db } from "../platform/db.server";
import type { Settings } from "../platform/settings.server";
import type { FlowActor } from "../oauth/flows.server";
import { countHeld, countRedeliverable, deliveryHistory, latestDeliveries } from "./activity.server";
import { getPendingReauthorization } from "./authorization.server";
import {
  getConnection,
  listConnectionChoices,
  listConnections,
  listDependentIntents,
  PAGE_SIZE,
  type ConnectionFilters,
} from "./repository.server";
import { connectionDetailView, connectionSummaryView, driftView } from "./views.server";

/**
 * Everything the connection page shows, read in one wave of independent statements once the
 * connection is known (or null when the workspace has no such connection).
 */
export async function loadConnectionPage(db: Db, settings: Settings, actor: FlowActor, id: string) {
  const row = id.length <= 64 ? await getConnection(db, actor.workspaceId, id) : undefined;
  if (!row) return null;
  const [dependents, pending, history, latest, targets, redeliverable, held, changes] = await Promise.all([
    listDependentIntents(db, actor.workspaceId, row.id),
    getPendingReauthorization(db, actor, row.id),
    deliveryHistory(db, actor.workspaceId, row.id),
    latestDeliveries(db, actor.workspaceId, row.id),
    listConnectionChoices(db, actor.workspaceId, { provider: row.provider, excludeId: row.id, limit: 100 }),
    countRedeliverable(db, actor.workspaceId, row.id),
    row.disabled_at !== null ? countHeld(db, actor.workspaceId, row.id) : 0,
    recentChangesOf(db, actor.workspaceId, row.id),
  ]);
  return {
    ...connectionDetailView(row, settings),
    intents: dependents.intents.map((intent) => ({
      id: intent.id,
      name: intent.name,
      enabled: intent.enabled,
      drift: driftView(row.provider, intent.drift_json, intent.drift_checked_at),
    })),
    intentTotal: dependents.total,
    intentsDrifted: dependents.drifted,
    history,
    changes,
    latest,
    repointTargets: dependents.total > 0 ? targets.choices : [],
    pending,
    redeliverable,
    held,
  };
}

export type ConnectionPage = NonNullable<Awaited<ReturnType<typeof loadConnectionPage>>>;

/** One page of the index: the rows it shows, the total, and how many pages there are. */
export async function loadConnectionsIndex(db: Db, settings: Settings, workspaceId: string, filters: ConnectionFilters) {
  const { rows, total } = await listConnections(db, workspaceId, filters);
  const now = Date.now();
  return {
    connections: rows.map((row) => connectionSummaryView(row, settings.health.expiryWarningMs, now)),
    total,
    pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
  };
}
