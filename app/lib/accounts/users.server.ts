import type { RequestContext } from "../platform/context.server";
import { runBatch, uniqueViolation } from "../platform/db.server";
import { getDecoyPasswordHash, hashPassword, verifyPassword } from "./passwords.server";
import { checkLoginRateLimit, clearFailedLogins, recordFailedLogin } from "./rate-limits.server";
import { prepareSession } from "./sessions.server";
import { normalizeEmail } from "../platform/validation";
import { firstWorkspaceOf, prepareWorkspace } from "./workspaces.server";

export type SignUpResult = { ok: true; cookie: string } | { ok: false; reason: "email_taken" };

/** Creates the user, their first workspace, the ownership and a session in one atomic batch. */
export async function signUp(
  context: RequestContext,
  input: { email: string; password: string; workspaceName: string },
): Promise<SignUpResult> {
  const email = normalizeEmail(input.email);
  const { db } = context;
  if (await db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst()) {
    return { ok: false, reason: "email_taken" };
  }
  const userId = crypto.randomUUID();
  const workspace = prepareWorkspace(db, userId, input.workspaceName);
  const session = await prepareSession(context, userId, workspace.id);
  const insertUser = db.insertInto("users").values({
    id: userId,
    email,
    password_hash: await hashPassword(input.password),
    created_at: Date.now(),
  });
  try {
    await runBatch(context.db, [insertUser, ...workspace.inserts, session.insert]);
  } catch (error) {
    // Lost a race with another sign-up for the same address; the batch wrote nothing.
    if (uniqueViolation(error) === "users.email") return { ok: false, reason: "email_taken" };
    throw error;
  }
  return { ok: true, cookie: session.cookie };
}

export type SignInResult =
  | { ok: true; cookie: string }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

export async function signIn(context: RequestContext, input: { email: string; password: string }): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  const keys = { email, ip: context.clientIp };
  const verdict = await checkLoginRateLimit(context.db, keys);
  if (verdict.limited) return { ok: false, reason: "rate_limited", retryAfterSeconds: verdict.retryAfterSeconds };

  const user = await context.db.selectFrom("users").select(["id", "password_hash"]).where("email", "=", email).executeTakeFirst();
  const valid = await verifyPassword(input.password, user?.password_hash ?? (await getDecoyPasswordHash()));
  if (!user || !valid) {
    await recordFailedLogin(context.db, keys);
    return { ok: false, reason: "invalid_credentials" };
  }
  const workspace = await firstWorkspaceOf(context.db, user.id);
  const session = await prepareSession(context, user.id, workspace?.id ?? null);
  await runBatch(context.db, [session.insert]);
  await clearFailedLogins(context.db, email);
  return { ok: true, cookie: session.cookie };
}
