import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "~/worker";
import { describe, expect, it } from "vitest";
import { reencryptConnections, sealTokens } from "~/lib/connections/vault.server";
import { runBatch } from "~/lib/platform/db.server";
import { loadKeyRing } from "~/lib/platform/encryption.server";
import { connect, connectionRow, storedTokens, useEmulator } from "./connections-support";
import { countRows, database, signedUpUser } from "./helpers";

const emulator = useEmulator();

async function runCron() {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Puts a connection's tokens back under key test1, as if written before test2 became primary. */
async function writeUnderOldKey(id: string) {
  const row = await connectionRow(id);
  const tokens = await storedTokens(row);
  const [first] = env.TOKEN_ENCRYPTION_KEYS.split(",");
  const oldRing = await loadKeyRing(first!, "test1");
  const columns = await sealTokens(oldRing, row, {
    ...tokens,
    accessTokenExpiresAt: row.access_token_expires_at,
    refreshTokenExpiresAt: row.refresh_token_expires_at,
    scopes: [],
  });
  await database()
    .updateTable("connections")
    .set({
      access_token_ct: columns.access_token_ct,
      refresh_token_ct: columns.refresh_token_ct,
      token_secret_ct: columns.token_secret_ct,
      token_key_id: columns.token_key_id,
    })
    .where("id", "=", id)
    .execute();
  return tokens;
}

describe("cron maintenance", () => {
  it("prunes expired sessions, old sign-in failures and abandoned OAuth flows", async () => {
    const { browser, user } = await signedUpUser();
    await browser.post("/integration-connections/new", { provider: "github", name: "github-x" });
    const db = database();
    await db
      .insertInto("login_attempts")
      .values({ scope: "ip", key: "1.2.3.4", attempted_at: Date.now() - 3600_000 })
      .execute();
    await db
      .updateTable("oauth_flows")
      .set({ expires_at: Date.now() - 3600_000 })
      .execute();
    await signedUpUser();
    await db
      .updateTable("sessions")
      .set({ expires_at: Date.now() - 1 })
      .where("user_id", "=", user.id)
      .execute();

    await runCron();
    expect(await db.selectFrom("sessions").select("user_id").where("user_id", "=", user.id).execute()).toHaveLength(0);
    expect(await countRows("sessions")).toBe(1);
    expect(await countRows("login_attempts")).toBe(0);
    expect(await countRows("oauth_flows" as never)).toBe(0);
  });

  it("moves every token to the new primary key: rows written under key 1 decrypt before and after", async () => {
    const { browser } = await signedUpUser();
    const ids: string[] = [];
    for (const provider of ["github", "slack", "trello"] as const)
      ids.push((await connect(browser, emulator(), provider, `${provider}-old`)).id!);
    const before = await Promise.all(ids.map(writeUnderOldKey));
    for (const id of ids) expect((await connectionRow(id)).access_token_ct).toMatch(/^v1\.test1\./);

    // Still readable while on the old key.
    expect((await storedTokens(await connectionRow(ids[0]!))).accessToken).toBe(before[0]!.accessToken);

    await runCron();
    for (const [index, id] of ids.entries()) {
      const row = await connectionRow(id);
      for (const column of [row.access_token_ct, row.refresh_token_ct, row.token_secret_ct])
        if (column) expect(column).toMatch(/^v1\.test2\./);
      expect(await storedTokens(row)).toEqual(before[index]);
    }
  });

  it("is bounded per run, resumable and idempotent", async () => {
    const { browser } = await signedUpUser();
    const ids: string[] = [];
    for (const provider of ["github", "notion", "linear"] as const)
      ids.push((await connect(browser, emulator(), provider, `${provider}-old`)).id!);
    for (const id of ids) await writeUnderOldKey(id);
    const ring = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
    const db = database();
    expect(await reencryptConnections(db, ring, 2)).toEqual({ moved: 2, unreadable: 0, remaining: true });
    expect(await reencryptConnections(db, ring, 2)).toEqual({ moved: 1, unreadable: 0, remaining: false });
    expect(await reencryptConnections(db, ring, 2)).toEqual({ moved: 0, unreadable: 0, remaining: false });
  });

  it("skips rows it cannot decrypt, leaving them for the user to re-authorize", async () => {
    const { browser } = await signedUpUser();
    const id = (await connect(browser, emulator(), "github", "github-old")).id!;
    await database()
      .updateTable("connections")
      .set({ access_token_ct: "v1.test1.AAAAAAAAAAAAAAAA.AAAA", token_key_id: "test1" })
      .where("id", "=", id)
      .execute();
    const ring = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
    const db = database();
    expect(await reencryptConnections(db, ring, 10)).toEqual({ moved: 0, unreadable: 1, remaining: false });
    expect((await connectionRow(id)).access_token_ct).toBe("v1.test1.AAAAAAAAAAAAAAAA.AAAA");
    expect((await connectionRow(id)).tokens_unreadable_at).not.toBeNull();
    // Marked once: later runs do not pick it again.
    expect(await reencryptConnections(db, ring, 10)).toEqual({ moved: 0, unreadable: 0, remaining: false });
  });

  it("never stalls behind unreadable rows: more of them than one run takes, and readable rows after them still move", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const readable = (await connect(browser, emulator(), "github", "github-readable")).id!;
    await writeUnderOldKey(readable);
    // 25 unreadable rows that sort before the readable one.
    const row = await connectionRow(readable);
    const now = Date.now();
    const { status_rank: _rank, ...columns } = row;
    await runBatch(
      database(),
      Array.from({ length: 25 }, (_, i) =>
        database()
          .insertInto("connections")
          .values({
            ...columns,
            id: `0000${String(i).padStart(4, "0")}-dead-4000-8000-000000000000`,
            workspace_id: workspaceId,
            name: `broken-${i}`,
            access_token_ct: "v1.test1.AAAAAAAAAAAAAAAA.AAAA",
            token_key_id: "test1",
            created_at: now,
          }),
      ),
    );
    const ring = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
    const db = database();
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await reencryptConnections(db, ring, 10));
    expect(runs.map((run) => run.unreadable)).toEqual([10, 10, 5, 0]);
    expect(runs.reduce((sum, run) => sum + run.moved, 0)).toBe(1);
    expect((await connectionRow(readable)).token_key_id).toBe(env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
  });
});
