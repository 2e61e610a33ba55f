import { sql, type Compilable, type ExpressionBuilder } from "kysely";
import { precompiled, runBatch, type Db } from "../platform/db.server";
import type { Database, Role } from "../platform/schema";
import { normalizeEmail } from "../platform/validation";

export interface WorkspaceSummary {
  id: string;
  name: string;
  role: Role;
}

// The navigation's workspace switcher: every page runs it, so it is compiled once per isolate.
const WORKSPACES_OF = precompiled(["userId"], (db, p) =>
  db
    .selectFrom("memberships as m")
    .innerJoin("workspaces as w", "w.id", "m.workspace_id")
    .select(["w.id", "w.name", "m.role"])
    .where("m.user_id", "=", p.userId)
    .orderBy("w.name")
    .orderBy("w.id"),
);

export async function listWorkspacesOf(db: Db, userId: string): Promise<WorkspaceSummary[]> {
  const { rows } = await db.executeQuery(WORKSPACES_OF.bind({ userId }));
  return rows;
}

export async function firstWorkspaceOf(db: Db, userId: string): Promise<WorkspaceSummary | null> {
  const [first] = await listWorkspacesOf(db, userId);
  return first ?? null;
}

export async function findMembership(db: Db, workspaceId: string, userId: string) {
  return (
    (await db
      .selectFrom("memberships as m")
      .innerJoin("workspaces as w", "w.id", "m.workspace_id")
      .select(["w.id", "w.name", "m.role"])
      .where("m.workspace_id", "=", workspaceId)
      .where("m.user_id", "=", userId)
      .executeTakeFirst()) ?? null
  );
}

/** The inserts that create a workspace owned by `ownerId`, to batch with other writes. */
export function prepareWorkspace(db: Db, ownerId: string, name: string): { id: string; inserts: Compilable[] } {
  const id = crypto.randomUUID();
  const now = Date.now();
  return {
    id,
    inserts: [
      db.insertInto("workspaces").values({ id, name, created_at: now }),
      db.insertInto("memberships").values({ workspace_id: id, user_id: ownerId, role: "owner", created_at: now }),
    ],
  };
}

export async function createWorkspace(db: Db, ownerId: string, name: string): Promise<string> {
  const { id, inserts } = prepareWorkspace(db, ownerId, name);
  await runBatch(db, inserts);
  return id;
}

export async function renameWorkspace(db: Db, workspaceId: string, name: string) {
  await db.updateTable("workspaces").set({ name }).where("id", "=", workspaceId).execute();
}

export interface Member {
  userId: string;
  email: string;
  role: Role;
  joinedAt: number;
}

export function listMembers(db: Db, workspaceId: string): Promise<Member[]> {
  return db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select(["u.id as userId", "u.email", "m.role", "m.created_at as joinedAt"])
    .where("m.workspace_id", "=", workspaceId)
    .orderBy(sql`case m.role when 'owner' then 0 when 'admin' then 1 else 2 end`)
    .orderBy("u.email")
    .execute();
}

export type AddMemberResult = { ok: true; userId: string } | { ok: false; reason: "no_such_user" | "already_member" };

export async function addMemberByEmail(db: Db, workspaceId: string, email: string, role: Role): Promise<AddMemberResult> {
  const user = await db.selectFrom("users").select("id").where("email", "=", normalizeEmail(email)).executeTakeFirst();
  if (!user) return { ok: false, reason: "no_such_user" };
  const result = await db
    .insertInto("memberships")
    .values({ workspace_id: workspaceId, user_id: user.id, role, created_at: Date.now() })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (!result.numInsertedOrUpdatedRows) return { ok: false, reason: "already_member" };
  return { ok: true, userId: user.id };
}

/** A member's role and e-mail, or undefined when they are not in the workspace. */
function membershipOf(db: Db, workspaceId: string, userId: string) {
  return db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select(["m.role", "u.email"])
    .where("m.workspace_id", "=", workspaceId)
    .where("m.user_id", "=", userId)
    .executeTakeFirst();
}

/** True for a membership whose loss leaves the workspace an owner: not an owner, or not the only one. */
function notTheLastOwner(workspaceId: string) {
  return (eb: ExpressionBuilder<Database, "memberships">) =>
    eb.or([
      eb("role", "!=", "owner"),
      eb(
        eb
          .selectFrom("memberships as o")
          .select((o) => o.fn.countAll<number>().as("owners"))
          .where("o.workspace_id", "=", workspaceId)
          .where("o.role", "=", "owner"),
        ">",
        1,
      ),
    ]);
}

export type RemoveMemberResult = { ok: true; email: string; role: Role } | { ok: false; reason: "not_a_member" | "last_owner" };

/**
 * One conditional DELETE, so two owners removing each other at the same time can never leave
 * a workspace without an owner.
 */
export async function removeMember(db: Db, workspaceId: string, userId: string): Promise<RemoveMemberResult> {
  const current = await membershipOf(db, workspaceId, userId);
  if (!current) return { ok: false, reason: "not_a_member" };
  const result = await db
    .deleteFrom("memberships")
    .where("workspace_id", "=", workspaceId)
    .where("user_id", "=", userId)
    .where(notTheLastOwner(workspaceId))
    .executeTakeFirst();
  if (Number(result.numDeletedRows) > 0) return { ok: true, email: current.email, role: current.role };
  return { ok: false, reason: (await membershipOf(db, workspaceId, userId)) ? "last_owner" : "not_a_member" };
}

export type ChangeRoleResult =
  { ok: true; before: Role; after: Role; email: string } | { ok: false; reason: "not_a_member" | "last_owner" };

/**
 * Gives a member another role. Like removal, one conditional UPDATE: the last owner can never
 * be demoted, even by two owners demoting each other at once.
 */
export async function changeMemberRole(db: Db, workspaceId: string, userId: string, role: Role): Promise<ChangeRoleResult> {
  const current = await membershipOf(db, workspaceId, userId);
  if (!current) return { ok: false, reason: "not_a_member" };
  if (current.role === role) return { ok: true, before: role, after: role, email: current.email };
  const result = await db
    .updateTable("memberships")
    .set({ role })
    .where("workspace_id", "=", workspaceId)
    .where("user_id", "=", userId)
    .where(notTheLastOwner(workspaceId))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return { ok: false, reason: "last_owner" };
  return { ok: true, before: current.role, after: role, email: current.email };
}
