import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const db = () => env.MIGRATION_DB;
const all = (sql: string) => db().prepare(sql).all<Record<string, unknown>>();

/** Rows of every table that references connections, as written under the first three migrations. */
const SEED = [
  "INSERT INTO users VALUES ('u1', 'ada@example.com', 'pbkdf2-sha256$1$AA$AA', 1)",
  "INSERT INTO workspaces VALUES ('w1', 'Acme', 1)",
  "INSERT INTO memberships VALUES ('w1', 'u1', 'owner', 1)",
  `INSERT INTO connections (id, workspace_id, provider, name, status, status_changed_at, account_id, account_label,
     access_token_ct, refresh_token_ct, authorized_at, created_at, updated_at)
   VALUES ('c1', 'w1', 'github', 'github-main', 'active', 1, '42', 'octocat', 'v1.key1.iv.ct', 'v1.key1.iv.rt', 1, 1, 1)`,
  "INSERT INTO intents VALUES ('i1', 'w1', 'c1', 'triage', 1, '{}', 1, 1)",
  "INSERT INTO insights VALUES ('n1', 'w1', 'Disk full', 'db-1', 'form', 1)",
  `INSERT INTO deliveries (id, workspace_id, insight_id, intent_id, intent_name, connection_id, connection_name, provider,
     config_json, status, attempts, next_attempt_at, idempotency_key, created_at, completed_at)
   VALUES ('d1', 'w1', 'n1', 'i1', 'triage', 'c1', 'github-main', 'github', '{}', 'succeeded', 1, 1, 'd1', 1, 2)`,
  "INSERT INTO delivery_attempts VALUES ('a1', 'd1', 'n1', 1, 2, 'succeeded', NULL, NULL, NULL, 'https://github.com/o/r/issues/1')",
  "INSERT INTO pending_reauthorizations VALUES ('p1', 'c1', 'w1', 's1', 'ct', '{}', 1, 9999999999999)",
];

describe("migrations", () => {
  it("0004 rebuilds the tables that reference connections without losing a row or a link", async () => {
    await applyD1Migrations(db(), env.TEST_MIGRATIONS.slice(0, 3));
    await db().batch(SEED.map((sql) => db().prepare(sql)));

    await applyD1Migrations(db(), env.TEST_MIGRATIONS);

    expect((await all("SELECT id, connection_id FROM intents")).results).toEqual([{ id: "i1", connection_id: "c1" }]);
    expect((await all("SELECT id, connection_id, intent_id, status FROM deliveries")).results).toEqual([
      { id: "d1", connection_id: "c1", intent_id: "i1", status: "succeeded" },
    ]);
    expect((await all("SELECT id, delivery_id FROM delivery_attempts")).results).toEqual([{ id: "a1", delivery_id: "d1" }]);
    expect((await all("SELECT id, connection_id FROM pending_reauthorizations")).results).toEqual([{ id: "p1", connection_id: "c1" }]);
    expect((await all("SELECT id, token_key_id, status_rank FROM connections")).results).toEqual([
      { id: "c1", token_key_id: "key1", status_rank: 3 },
    ]);

    // The foreign keys point at the rebuilt tables, and a provider the CHECK used to refuse is accepted.
    const fks = await all("SELECT \"table\" FROM pragma_foreign_key_list('deliveries')");
    expect(fks.results.map((row) => row.table).sort()).toEqual(["connections", "insights", "intents", "workspaces"]);
    await db()
      .prepare(
        `INSERT INTO connections (id, workspace_id, provider, name, status, status_changed_at, account_id, account_label,
           access_token_ct, token_key_id, authorized_at, created_at, updated_at)
         VALUES ('c2', 'w1', 'acme', 'acme-main', 'active', 1, '1', 'acme', 'v1.key1.iv.ct', 'key1', 1, 1, 1)`,
      )
      .run();
    // Still enforced: an intent cannot point at a connection that does not exist.
    await expect(
      db()
        .prepare(
          "INSERT INTO intents (id, workspace_id, connection_id, name, enabled, overrides_json, created_at, updated_at) VALUES ('i2', 'w1', 'nope', 'x', 1, '{}', 1, 1)",
        )
        .run(),
    ).rejects.toThrow(/FOREIGN KEY/);
  });
});
