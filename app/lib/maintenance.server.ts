import { getConfig } from "./config.server";
import { reencryptConnections } from "./connections.server";
import { openDatabase } from "./db.server";
import { pruneOAuthFlows } from "./oauth-flows.server";
import { pruneLoginAttempts } from "./rate-limits.server";

/** Periodic housekeeping run by the Cron Trigger. Each step is bounded and idempotent. */
export async function runMaintenance(env: Env, now = Date.now()) {
  const { db } = openDatabase(env.DB, "first-primary");
  await db.deleteFrom("sessions").where("expires_at", "<=", now).execute();
  await pruneLoginAttempts(db, now);
  await pruneOAuthFlows(db, now);
  const ring = getConfig(env).keyRing;
  if (ring) await reencryptConnections(db, await ring);
}
