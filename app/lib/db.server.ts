import {
  Kysely,
  type Compilable,
  type Generated,
  type Insertable,
  type Selectable,
  type Updateable,
} from "kysely";
import { D1Dialect } from "kysely-d1";
import type { ProviderId } from "./providers/types";

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

export type ConnectionStatus = "active" | "expired" | "error" | "revoked";
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ["active", "expired", "error", "revoked"];

export interface ConnectionsTable {
  id: string;
  workspace_id: string;
  provider: ProviderId;
  name: string;
  status: ConnectionStatus;
  status_reason: string | null;
  status_changed_at: number;
  last_error: string | null;
  last_error_insight_id: string | null;
  last_error_at: number | null;
  account_id: string;
  account_label: string;
  account_url: string | null;
  identity_json: string;
  scopes: string;
  access_token_ct: string;
  refresh_token_ct: string | null;
  token_secret_ct: string | null;
  access_token_expires_at: number | null;
  refresh_token_expires_at: number | null;
  token_version: number;
  authorized_at: number;
  last_refreshed_at: number | null;
  config_json: string;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  refresh_lease_owner: Generated<string | null>;
  refresh_lease_expires_at: Generated<number | null>;
}
export type ConnectionRow = Selectable<ConnectionsTable>;
export type NewConnectionRow = Insertable<ConnectionsTable>;

export interface OAuthFlowsTable {
  id: string;
  provider: ProviderId;
  purpose: "new" | "reauthorize";
  workspace_id: string;
  user_id: string;
  session_id: string;
  connection_id: string | null;
  connection_name: string | null;
  code_verifier_ct: string | null;
  request_token: string | null;
  request_token_secret_ct: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
export type OAuthFlowRow = Selectable<OAuthFlowsTable>;

export interface PendingReauthorizationsTable {
  id: string;
  connection_id: string;
  workspace_id: string;
  session_id: string;
  tokens_ct: string;
  identity_json: string;
  created_at: number;
  expires_at: number;
}

export interface IntentsTable {
  id: string;
  workspace_id: string;
  connection_id: string;
  name: string;
  enabled: number;
  overrides_json: string;
  created_at: number;
  updated_at: number;
}
export type IntentRow = Selectable<IntentsTable>;

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface InsightsTable {
  id: string;
  workspace_id: string;
  title: string;
  body: string;
  source: "form" | "api";
  created_at: number;
}
export type InsightRow = Selectable<InsightsTable>;

export type DeliveryStatus = "pending" | "succeeded" | "failed";
export interface DeliveriesTable {
  id: string;
  workspace_id: string;
  insight_id: string;
  intent_id: string | null;
  intent_name: string;
  connection_id: string | null;
  connection_name: string;
  provider: ProviderId;
  config_json: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  idempotency_key: string;
  item_id: string | null;
  item_url: string | null;
  created_at: number;
  completed_at: number | null;
}
export type DeliveryRow = Selectable<DeliveriesTable>;

export type ErrorClass = "user" | "provider" | "config" | "rate_limit";
export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  insight_id: string;
  attempt: number;
  at: number;
  outcome: "succeeded" | "retrying" | "failed";
  http_status: number | null;
  error_class: ErrorClass | null;
  message: string | null;
  item_url: string | null;
}
export type DeliveryAttemptRow = Selectable<DeliveryAttemptsTable>;

export interface Database {
  users: UsersTable;
  workspaces: WorkspacesTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  connections: ConnectionsTable;
  oauth_flows: OAuthFlowsTable;
  pending_reauthorizations: PendingReauthorizationsTable;
  intents: IntentsTable;
  api_keys: ApiKeysTable;
  insights: InsightsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
}

export type Db = Kysely<Database>;

/**
 * D1 connection for one request. `d1` is a D1 Sessions API session so reads may be served
 * by a nearby replica while staying consistent with the bookmark the client last saw.
 */
export interface DbHandle {
  db: Db;
  d1: D1DatabaseSession;
  /** SQL statements prepared through this handle so far (reported in Server-Timing). */
  queryCount(): number;
}

export function openDatabase(binding: D1Database, bookmark: string | null): DbHandle {
  const session = binding.withSession(bookmark ?? "first-unconstrained");
  let queries = 0;
  const d1: D1DatabaseSession = {
    prepare(query) {
      queries += 1;
      return session.prepare(query);
    },
    batch: (statements) => session.batch(statements),
    getBookmark: () => session.getBookmark(),
  };
  // kysely-d1 only calls prepare().bind().all(), which a D1 session provides as well.
  const db = new Kysely<Database>({ dialect: new D1Dialect({ database: d1 as unknown as D1Database }) });
  return { db, d1, queryCount: () => queries };
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
