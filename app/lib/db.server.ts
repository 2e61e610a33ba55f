import {
  Kysely,
  type Compilable,
  type Generated,
  type Insertable,
  type Selectable,
  type Updateable,
} from "kysely";
import { D1Dialect } from "kysely-d1";

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: number;
}
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: number;
}
export type Workspace = Selectable<WorkspacesTable>;
export type WorkspaceUpdate = Updateable<WorkspacesTable>;

export type Role = "owner" | "member";
export interface MembershipsTable {
  workspace_id: string;
  user_id: string;
  role: Role;
  created_at: number;
}
export type Membership = Selectable<MembershipsTable>;

export interface SessionsTable {
  id: string;
  user_id: string;
  workspace_id: string | null;
  expires_at: number;
  created_at: number;
}
export type SessionRow = Selectable<SessionsTable>;

export interface LoginAttemptsTable {
  id: Generated<number>;
  scope: "email" | "ip";
  key: string;
  attempted_at: number;
}

export interface Database {
  users: UsersTable;
  workspaces: WorkspacesTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
}

export type Db = Kysely<Database>;

/**
 * D1 connection for one request. `d1` is a D1 Sessions API session so reads may be served
 * by a nearby replica while staying consistent with the bookmark the client last saw.
 */
export interface DbHandle {
  db: Db;
  d1: D1DatabaseSession;
}

export function openDatabase(binding: D1Database, bookmark: string | null): DbHandle {
  const d1 = binding.withSession(bookmark ?? "first-unconstrained");
  // kysely-d1 only calls prepare().bind().all(), which a D1 session provides as well.
  const db = new Kysely<Database>({ dialect: new D1Dialect({ database: d1 as unknown as D1Database }) });
  return { db, d1 };
}

/**
 * D1 has no interactive transactions: statements that must succeed or fail together are
 * compiled with Kysely and sent as one atomic batch.
 */
export async function runBatch(handle: DbHandle, queries: Compilable[]): Promise<D1Result[]> {
  if (queries.length === 0) return [];
  const statements = queries.map((query) => {
    const { sql, parameters } = query.compile();
    return handle.d1.prepare(sql).bind(...parameters);
  });
  return handle.d1.batch(statements);
}
