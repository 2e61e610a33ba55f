import type { Compilable } from "kysely";
import type { RequestContext } from "../platform/context.server";
import { cookieName, readCookie, serializeCookie } from "../platform/cookies.server";
import { randomToken, sha256Hex } from "../platform/crypto.server";
import { precompiled, type Db } from "../platform/db.server";
import type { Role } from "../platform/schema";

const SESSION_COOKIE = "spokedo_session";
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Sliding expiry is pushed forward at most once a day, not written on every request. */
const SESSION_REFRESH_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface CurrentSession {
  id: string;
  expiresAt: number;
  user: { id: string; email: string };
  /** The active workspace, or null when the session has none the user still belongs to. */
  workspace: { id: string; name: string; role: Role } | null;
}

function sessionCookieName(context: Pick<RequestContext, "secure">) {
  return cookieName(SESSION_COOKIE, context.secure);
}

function sessionCookie(context: RequestContext, token: string, maxAgeMs: number) {
  return serializeCookie(sessionCookieName(context), token, {
    secure: context.secure,
    maxAge: maxAgeMs / 1000,
  });
}

/**
 * Prepares a new session: the insert (to batch with other writes) and the Set-Cookie header.
 * Only the SHA-256 of the random token is stored, so a leaked table cannot be replayed.
 */
export async function prepareSession(
  context: RequestContext,
  userId: string,
  workspaceId: string | null,
): Promise<{ insert: Compilable; cookie: string }> {
  const token = randomToken(32);
  const now = Date.now();
  const insert = context.db.insertInto("sessions").values({
    id: await sha256Hex(token),
    user_id: userId,
    workspace_id: workspaceId,
    expires_at: now + SESSION_TTL_MS,
    created_at: now,
  });
  return { insert, cookie: sessionCookie(context, token, SESSION_TTL_MS) };
}

export function getCurrentSession(context: RequestContext, request: Request): Promise<CurrentSession | null> {
  const cached = context.memo.get("session") as Promise<CurrentSession | null> | undefined;
  if (cached) return cached;
  const lookup = lookupSession(context, request);
  context.memo.set("session", lookup);
  return lookup;
}

// Every signed-in request runs it: built and compiled once per isolate.
const SESSION_LOOKUP = precompiled(["id", "now"], (db, p) =>
  db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .leftJoin("memberships as m", (join) => join.onRef("m.workspace_id", "=", "s.workspace_id").onRef("m.user_id", "=", "s.user_id"))
    .leftJoin("workspaces as w", "w.id", "m.workspace_id")
    .select(["s.id", "s.expires_at", "u.id as user_id", "u.email", "w.id as workspace_id", "w.name as workspace_name", "m.role"])
    .where("s.id", "=", p.id)
    .where("s.expires_at", ">", p.now),
);

async function lookupSession(context: RequestContext, request: Request) {
  const token = readCookie(request, sessionCookieName(context));
  if (!token || token.length > 100) return null;
  const id = await sha256Hex(token);
  const now = Date.now();
  const {
    rows: [row],
  } = await context.db.executeQuery(SESSION_LOOKUP.bind({ id, now }));
  if (!row) return null;

  let expiresAt = row.expires_at;
  if (expiresAt - now < SESSION_TTL_MS - SESSION_REFRESH_INTERVAL_MS) {
    expiresAt = now + SESSION_TTL_MS;
    await context.db.updateTable("sessions").set({ expires_at: expiresAt }).where("id", "=", id).execute();
    context.responseCookies.push(sessionCookie(context, token, SESSION_TTL_MS));
  }

  const session: CurrentSession = {
    id: row.id,
    expiresAt,
    user: { id: row.user_id, email: row.email },
    workspace:
      row.workspace_id && row.workspace_name && row.role ? { id: row.workspace_id, name: row.workspace_name, role: row.role } : null,
  };
  return session;
}

export async function setSessionWorkspace(context: RequestContext, sessionId: string, workspaceId: string) {
  await context.db.updateTable("sessions").set({ workspace_id: workspaceId }).where("id", "=", sessionId).execute();
  context.memo.delete("session");
}

/** Deletes the session row and returns the Set-Cookie header that clears the cookie. */
export async function destroySession(context: RequestContext, request: Request): Promise<string> {
  const session = await getCurrentSession(context, request);
  if (session) await context.db.deleteFrom("sessions").where("id", "=", session.id).execute();
  const name = sessionCookieName(context);
  // A sliding refresh queued earlier in this request must not resurrect the cookie.
  context.responseCookies = context.responseCookies.filter((cookie) => !cookie.startsWith(`${name}=`));
  context.memo.delete("session");
  return serializeCookie(name, "", { secure: context.secure, maxAge: 0 });
}

export async function pruneSessions(db: Db, now = Date.now()) {
  await db.deleteFrom("sessions").where("expires_at", "<=", now).execute();
}
