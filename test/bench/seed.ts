// The rows every benchmark measures against: one workspace with `size` connections, intents,
// insights and (finished) deliveries, each with its attempt. Generated inside SQLite with
// recursive CTEs, so 10,000 of each take one statement per table and a fraction of a second,
// whether the statements run through `wrangler d1 execute --file` (test/bench/run.mjs) or
// D1 inside workerd (test/bench/deliveries.bench.ts).
//
// Plain TypeScript without imports: Node 24 strips the types when run.mjs imports it.

export interface SeedOptions {
  workspaceId: string;
  size: number;
  /** Milliseconds: insights are one minute apart, the newest one minute before this. */
  now: number;
  /**
   * The busiest connection: it holds every tenth intent (and its deliveries), so its page has
   * 10 / 100 / 1,000 dependents and deliveries at 100 / 1,000 / 10,000 rows. The connection page
   * is measured on it. Defaults to the first generated connection; the deliveries benchmark
   * passes the connection it created through the real OAuth flow.
   */
  hotConnectionId?: string;
}

const PROVIDERS = ["github", "slack", "notion", "linear", "trello"] as const;

const CONFIG: Record<(typeof PROVIDERS)[number], string> = {
  github: '{"repository":"octocat/hello-world","labels":["insight"],"assignee":"octocat"}',
  slack: '{"channel":"C0ALERTS01","username":"SpokeDo"}',
  notion: '{"databaseId":"d8000000-0000-4000-8000-000000000001"}',
  linear: '{"teamId":"7e000000-0000-4000-8000-000000000001"}',
  trello: '{"boardId":"5e1b00000000000000000001","listId":"5e1c00000000000000000001"}',
};

/** Deterministic UUID-shaped ids (the pages validate ids and cursors as UUIDs), one prefix per table. */
export const seedId = {
  connection: (n: number) => `c0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  intent: (n: number) => `a0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  insight: (n: number) => `e0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  delivery: (n: number) => `d0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  attempt: (n: number) => `f0000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
};

const sqlId = (prefix: string, n = "n") => `printf('${prefix}0000000-0000-4000-8000-%012d', ${n})`;
const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const seq = (size: number) => `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${size})`;

/** Statements that add `size` rows of each kind to an existing workspace. */
export function workspaceRows({ workspaceId, size, now, hotConnectionId }: SeedOptions): string[] {
  const ws = quote(workspaceId);
  const hot = hotConnectionId ? quote(hotConnectionId) : quote(seedId.connection(1));
  const provider = `CASE n % 5 ${PROVIDERS.map((p, i) => `WHEN ${(i + 1) % 5} THEN '${p}'`).join(" ")} END`;
  const config = `CASE n % 5 ${PROVIDERS.map((p, i) => `WHEN ${(i + 1) % 5} THEN ${quote(CONFIG[p])}`).join(" ")} END`;
  // Mostly active, with every other status present, as an index page with problems looks.
  const status = "CASE WHEN n % 20 = 7 THEN 'error' WHEN n % 20 = 13 THEN 'expired' WHEN n % 20 = 17 THEN 'revoked' ELSE 'active' END";
  const intentConnection = `CASE WHEN n % 10 = 0 OR n = 1 THEN ${hot} ELSE ${sqlId("c")} END`;
  const firstGenerated = hotConnectionId ? 2 : 1;
  const minute = 60_000;
  return [
    `${seq(size)} INSERT INTO connections (id, workspace_id, provider, name, status, status_reason, status_changed_at, last_error, last_error_at,
      account_id, account_label, account_url, identity_json, scopes, access_token_ct, refresh_token_ct, token_key_id,
      access_token_expires_at, token_version, authorized_at, config_json, created_at, updated_at, last_used_at)
    SELECT ${sqlId("c")}, ${ws}, ${provider}, printf('%s %05d', ${provider}, n), ${status},
      CASE WHEN n % 20 IN (7, 13, 17) THEN 'The provider refused the token.' END, ${now} - n * ${minute},
      CASE WHEN n % 20 = 7 THEN 'HTTP 500 from the provider' END, CASE WHEN n % 20 = 7 THEN ${now} - n * ${minute} END,
      printf('%d', 1000 + n), printf('account-%05d', n), printf('https://example.com/account-%05d', n),
      printf('{"login":"account-%05d","id":"%d"}', n, 1000 + n), 'repo', 'v1.bench.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      CASE WHEN n % 2 = 0 THEN 'v1.bench.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' END, 'bench',
      NULL, 1, ${now} - n * ${minute}, ${config}, ${now} - n * ${minute}, ${now} - n * ${minute},
      CASE WHEN n % 9 = 0 THEN NULL ELSE ${now} - n * ${minute} * 3 END
    FROM seq WHERE n >= ${firstGenerated}`,
    `${seq(size)} INSERT INTO intents (id, workspace_id, connection_id, name, enabled, overrides_json, created_at, updated_at)
    SELECT ${sqlId("a")}, ${ws}, ${intentConnection}, printf('intent %05d', n), CASE WHEN n % 13 = 0 THEN 0 ELSE 1 END,
      CASE WHEN n % 4 = 0 THEN '{"labels":["urgent"]}' ELSE '{}' END, ${now} - n * ${minute}, ${now} - n * ${minute}
    FROM seq`,
    `${seq(size)} INSERT INTO insights (id, workspace_id, title, body, source, created_at)
    SELECT ${sqlId("e")}, ${ws}, printf('Disk almost full on db-%d (%05d)', n % 7, n), 'db-1 is at 93% disk usage; the nightly backup needs 12 GB more.',
      CASE WHEN n % 3 = 0 THEN 'form' ELSE 'api' END, ${now} - n * ${minute}
    FROM seq`,
    `${seq(size)} INSERT INTO deliveries (id, workspace_id, insight_id, intent_id, intent_name, connection_id, connection_name, provider, config_json,
      status, attempts, next_attempt_at, idempotency_key, item_id, item_url, created_at, completed_at)
    SELECT ${sqlId("d", "seq.n")}, ${ws}, n.id, i.id, i.name, c.id, c.name, c.provider, c.config_json,
      CASE WHEN seq.n % 25 = 0 THEN 'failed' ELSE 'succeeded' END, 1, n.created_at, ${sqlId("d", "seq.n")},
      CASE WHEN seq.n % 25 = 0 THEN NULL ELSE printf('%d', seq.n) END,
      CASE WHEN seq.n % 25 = 0 THEN NULL ELSE printf('https://example.com/items/%d', seq.n) END, n.created_at, n.created_at + 2000
    FROM seq JOIN insights n ON n.id = ${sqlId("e", "seq.n")} JOIN intents i ON i.id = ${sqlId("a", "seq.n")} JOIN connections c ON c.id = i.connection_id`,
    `${seq(size)} INSERT INTO delivery_attempts (id, delivery_id, insight_id, attempt, at, outcome, http_status, error_class, message, item_url)
    SELECT ${sqlId("f")}, d.id, d.insight_id, 1, d.completed_at, d.status, CASE WHEN d.status = 'failed' THEN 422 END,
      CASE WHEN d.status = 'failed' THEN 'config' END, CASE WHEN d.status = 'failed' THEN 'Validation Failed: the repository has issues disabled.' END, d.item_url
    FROM seq JOIN deliveries d ON d.id = ${sqlId("d")}`,
  ];
}

export interface BenchAccount {
  workspaceId: string;
  userId: string;
  /** SHA-256 (hex) of the session cookie's token: what the sessions table stores. */
  sessionId: string;
}

/** A user who owns the workspace, signed in: the pages are requested with this session's cookie. */
export function accountRows({ workspaceId, userId, sessionId }: BenchAccount, size: number, now: number): string[] {
  const day = 24 * 60 * 60 * 1000;
  return [
    `INSERT INTO users (id, email, password_hash, created_at) VALUES (${quote(userId)}, 'bench@example.com', 'pbkdf2-sha256$100000$AAAA$AAAA', ${now})`,
    `INSERT INTO workspaces (id, name, created_at) VALUES (${quote(workspaceId)}, ${quote(`Bench ${size}`)}, ${now})`,
    `INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (${quote(workspaceId)}, ${quote(userId)}, 'owner', ${now})`,
    // A fresh 30-day session: the sliding refresh (a write) happens once a day, not during the run.
    `INSERT INTO sessions (id, user_id, workspace_id, expires_at, created_at) VALUES (${quote(sessionId)}, ${quote(userId)}, ${quote(workspaceId)}, ${now + 30 * day}, ${now})`,
  ];
}

/**
 * Other tenants: `count` users, each signed in and owning a workspace of their own, so the
 * session lookup and the workspace list search tables of realistic size (with one row each, the
 * planner rightly scans them, and EXPLAIN would show scans no deployment has).
 */
export function otherAccountRows(count: number, now: number): string[] {
  return [
    `${seq(count)} INSERT INTO users (id, email, password_hash, created_at)
    SELECT ${sqlId("1")}, printf('user-%05d@example.com', n), 'pbkdf2-sha256$100000$AAAA$AAAA', ${now} - n * 60000 FROM seq`,
    `${seq(count)} INSERT INTO workspaces (id, name, created_at) SELECT ${sqlId("2")}, printf('Team %05d', n), ${now} - n * 60000 FROM seq`,
    `${seq(count)} INSERT INTO memberships (workspace_id, user_id, role, created_at) SELECT ${sqlId("2")}, ${sqlId("1")}, 'owner', ${now} - n * 60000 FROM seq`,
    `${seq(count)} INSERT INTO sessions (id, user_id, workspace_id, expires_at, created_at)
    SELECT printf('%064d', n), ${sqlId("1")}, ${sqlId("2")}, ${now} + n * 60000, ${now} - n * 60000 FROM seq`,
  ];
}
