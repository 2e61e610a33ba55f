import { getConfig } from "./config.server";
import { reencryptConnections } from "./connections.server";
import { processDueDeliveries } from "./deliveries.server";
import { refreshExpiringConnections } from "./token-refresh.server";
import { openDatabase } from "./db.server";
import { pruneOAuthFlows } from "./oauth-flows.server";
import { pruneLoginAttempts } from "./rate-limits.server";

/** Periodic housekeeping run by the Cron Trigger. Each step is bounded and idempotent. */
export async function runMaintenance(env: Env, now = Date.now()) {
  const { db } = openDatabase(env.DB, "first-primary");
  await db.deleteFrom("sessions").where("expires_at", "<=", now).execute();
  await pruneLoginAttempts(db, now);
  await pruneOAuthFlows(db, now);
  const config = getConfig(env);
  if (config.keyRing) {
    const ring = await config.keyRing;
    // Retries that came due, and deliveries whose worker died holding the lease.
    await processDueDeliveries({ handle: openDatabase(env.DB, "first-primary"), config, ring }, { limit: 50, now });
    await refreshExpiringConnections(db, config, ring, { now });
    await reencryptConnections(db, ring);
  }
}
