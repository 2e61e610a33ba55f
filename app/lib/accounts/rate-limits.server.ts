import type { Db } from "../platform/db.server";

const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILED_LOGINS_PER_EMAIL = 5;
export const MAX_FAILED_LOGINS_PER_IP = 30;

export type RateLimitVerdict = { limited: false } | { limited: true; retryAfterSeconds: number };

export async function checkLoginRateLimit(db: Db, keys: { email: string; ip: string }, now = Date.now()): Promise<RateLimitVerdict> {
  const since = now - LOGIN_WINDOW_MS;
  const rows = await db
    .selectFrom("login_attempts")
    .select(["scope", (eb) => eb.fn.countAll<number>().as("failures"), (eb) => eb.fn.min("attempted_at").as("oldest")])
    .where("attempted_at", ">", since)
    .where((eb) =>
      eb.or([eb.and([eb("scope", "=", "email"), eb("key", "=", keys.email)]), eb.and([eb("scope", "=", "ip"), eb("key", "=", keys.ip)])]),
    )
    .groupBy("scope")
    .execute();
  let retryAt = 0;
  for (const row of rows) {
    const max = row.scope === "email" ? MAX_FAILED_LOGINS_PER_EMAIL : MAX_FAILED_LOGINS_PER_IP;
    if (Number(row.failures) >= max) retryAt = Math.max(retryAt, Number(row.oldest) + LOGIN_WINDOW_MS);
  }
  if (retryAt === 0) return { limited: false };
  return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) };
}

export function recordFailedLogin(db: Db, keys: { email: string; ip: string }, now = Date.now()) {
  return db
    .insertInto("login_attempts")
    .values([
      { scope: "email", key: keys.email, attempted_at: now },
      { scope: "ip", key: keys.ip, attempted_at: now },
    ])
    .execute();
}

export function clearFailedLogins(db: Db, email: string) {
  return db.deleteFrom("login_attempts").where("scope", "=", "email").where("key", "=", email).execute();
}

export function pruneLoginAttempts(db: Db, now = Date.now()) {
  return db
    .deleteFrom("login_attempts")
    .where("attempted_at", "<=", now - LOGIN_WINDOW_MS)
    .execute();
}
