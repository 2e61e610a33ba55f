import { describe, expect, it } from "vitest";
import { processDelivery } from "~/lib/delivery/outbox.server";
import { createInsight } from "~/lib/delivery/insights.server";
import { refreshExpiringConnections, usableTokens, type VaultDeps } from "~/lib/connections/vault.server";
import type { ConnectionRow } from "~/lib/platform/schema";
import { connectionRow, storedTokens, useEmulator } from "./connections-support";
import { attemptsOf, deliveriesOf, deliveringSetup, deliveryDeps } from "./deliveries-support";
import { database } from "./helpers";

const emulator = useEmulator();

/** Usable tokens, or the test fails saying why not. */
async function usable(deps: VaultDeps, row: ConnectionRow) {
  const access = await usableTokens(deps, row);
  if (!access.ok) throw new Error(`no usable tokens: ${access.problem}`);
  return access;
}

async function expireAccessToken(connectionId: string, provider: "github" | "slack" | "linear" | "notion") {
  emulator().expireAccessTokens(provider);
  await database()
    .updateTable("connections")
    .set({ access_token_expires_at: Date.now() - 1000 })
    .where("id", "=", connectionId)
    .execute();
}

describe("token refresh", () => {
  it("50 concurrent deliveries through an expired access token make exactly one refresh request, and all 50 deliver", async () => {
    const { workspaceId, connectionId } = await deliveringSetup(emulator(), "github");
    await expireAccessToken(connectionId, "github");
    const deps = await deliveryDeps();
    const insights = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        createInsight(deps.db, workspaceId, { title: `insight ${i}`, body: "b", source: "api", targets: { all: true } }),
      ),
    );
    const deliveries = (await Promise.all(insights.map((insight) => deliveriesOf(insight.ok ? insight.insightId : "")))).flat();
    expect(deliveries).toHaveLength(50);

    const outcomes = await Promise.all(deliveries.map((delivery) => processDelivery(deps, delivery.id)));
    expect(emulator().requestsTo("github", "refresh")).toHaveLength(1);
    expect(outcomes.every((outcome) => outcome.outcome === "succeeded")).toBe(true);
    expect(emulator().created).toHaveLength(50);

    const row = await connectionRow(connectionId);
    expect(row.access_token_expires_at).toBeGreaterThan(Date.now() + 3600_000);
    expect(row.last_refreshed_at).toBeGreaterThan(0);
    expect(row.refresh_lease_owner).toBeNull();
    expect((await storedTokens(row)).accessToken).toBe(emulator().tokens("github").at(-1)!.accessToken);
  });

  it("a caller holding a stale row uses the tokens another request already rotated", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "slack");
    await expireAccessToken(connectionId, "slack");
    const stale = await connectionRow(connectionId);
    const deps = await deliveryDeps();
    const first = await usable(deps, stale);
    const second = await usable(deps, stale);
    expect(second.tokens).toEqual(first.tokens);
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(1);
  });

  it("a refresh token the provider refuses marks the connection revoked and fails the delivery", async () => {
    const { workspaceId, connectionId } = await deliveringSetup(emulator(), "linear");
    await expireAccessToken(connectionId, "linear");
    emulator().failNext("linear", "refresh", { kind: "invalid_code" });
    const deps = await deliveryDeps();
    const insight = await createInsight(deps.db, workspaceId, { title: "t", body: "b", source: "api", targets: { all: true } });
    const [delivery] = await deliveriesOf(insight.ok ? insight.insightId : "");
    const outcome = await processDelivery(deps, delivery!.id);
    expect(outcome).toMatchObject({ kind: "done", outcome: "failed" });
    expect((await attemptsOf(insight.ok ? insight.insightId : "")).at(-1)).toMatchObject({ error_class: "user", sent: 0 });
    const row = await connectionRow(connectionId);
    expect(row.status).toBe("revoked");
    expect(row.status_reason).toContain("refused to refresh the token");
    expect(emulator().requestsTo("linear", "deliver")).toHaveLength(0);
  });

  it.each([
    [{ kind: "http", status: 502 } as const, 502],
    [{ kind: "rate_limited", retryAfterSeconds: 20 } as const, 429],
    [{ kind: "malformed_json" } as const, undefined],
  ])("refresh failure %j leaves the status alone and retries later", async (fault, status) => {
    const { workspaceId, connectionId } = await deliveringSetup(emulator(), "notion");
    await expireAccessToken(connectionId, "notion");
    emulator().failNext("notion", "refresh", fault);
    const deps = await deliveryDeps();
    const insight = await createInsight(deps.db, workspaceId, { title: "t", body: "b", source: "api", targets: { all: true } });
    const insightId = insight.ok ? insight.insightId : "";
    const [delivery] = await deliveriesOf(insightId);
    const outcome = await processDelivery(deps, delivery!.id);
    expect(outcome).toMatchObject({ kind: "later", outcome: "retry" });
    expect((await connectionRow(connectionId)).status).toBe("active");
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "retrying" });
    if (status) expect(attempt!.http_status).toBe(status);
    // The next attempt refreshes and delivers.
    const [pending] = await deliveriesOf(insightId);
    expect(await processDelivery(deps, delivery!.id, pending!.next_attempt_at + 1)).toMatchObject({ outcome: "succeeded" });
  });
});

describe("cron token upkeep", () => {
  it("refreshes tokens that expire soon and idle refresh tokens near their expiry, leaving the rest", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const { connect } = await import("./connections-support");
    const soon = (await connect(browser, emulator(), "slack", "slack-soon")).id!;
    const idle = (await connect(browser, emulator(), "linear", "linear-idle")).id!;
    const fresh = (await connect(browser, emulator(), "github", "github-fresh")).id!;
    const now = Date.now();
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: now + 10 * 60_000 })
      .where("id", "=", soon)
      .execute();
    await database()
      .updateTable("connections")
      .set({ refresh_token_expires_at: now + 2 * 24 * 3600_000 })
      .where("id", "=", idle)
      .execute();
    const before = await Promise.all([soon, idle, fresh].map(connectionRow));

    const deps = await deliveryDeps();
    const result = await refreshExpiringConnections(deps, { now });
    expect(result.refreshed).toBe(2);
    const after = await Promise.all([soon, idle, fresh].map(connectionRow));
    expect(after[0]!.token_version).toBe(before[0]!.token_version + 1);
    expect(after[1]!.token_version).toBe(before[1]!.token_version + 1);
    expect(after[2]!.token_version).toBe(before[2]!.token_version);
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(1);
    expect(emulator().requestsTo("linear", "refresh")).toHaveLength(1);

    // Bounded: a limit of one handles one connection per run.
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: Date.now() + 60_000 })
      .execute();
    expect((await refreshExpiringConnections(deps, { limit: 1 })).checked).toBe(1);
  });
});

describe("refresh responses", () => {
  it("a refresh response without a new refresh token keeps the previous one", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "slack");
    const before = await storedTokens(await connectionRow(connectionId));
    await expireAccessToken(connectionId, "slack");
    emulator().failNext("slack", "refresh", {
      kind: "http",
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        ok: true,
        access_token: "xoxe.xoxb-1-refreshed-without-rotation",
        token_type: "bot",
        expires_in: 43200,
        scope: "chat:write",
      }),
    });
    const deps = await deliveryDeps();
    const { tokens } = await usable(deps, await connectionRow(connectionId));
    expect(tokens.accessToken).toBe("xoxe.xoxb-1-refreshed-without-rotation");
    expect(tokens.refreshToken).toBe(before.refreshToken);
    expect((await storedTokens(await connectionRow(connectionId))).refreshToken).toBe(before.refreshToken);
  });

  it("Slack's HTTP-200 refresh error marks the connection revoked", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "slack");
    await expireAccessToken(connectionId, "slack");
    emulator().failNext("slack", "refresh", { kind: "invalid_code" });
    const deps = await deliveryDeps();
    const access = await usableTokens(deps, await connectionRow(connectionId));
    expect(access).toMatchObject({ ok: false, problem: "refused", change: { status: "revoked" } });
    expect(access.ok ? "" : "change" in access ? access.change.reason : "").toContain("refused to refresh");
    expect((await connectionRow(connectionId)).status).toBe("revoked");
  });
});

describe("a refresh holder that stalls past its lease", () => {
  it("cannot overwrite the newer tokens, and its invalid_grant resolves to them instead of a revocation", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "slack");
    await expireAccessToken(connectionId, "slack");
    const stale = await connectionRow(connectionId);
    const deps = await deliveryDeps();

    // Holder A's refresh request reaches the provider but its answer is held up.
    emulator().failNext("slack", "refresh", { kind: "slow", delayMs: 400 });
    const holderA = usable(deps, stale);
    await expect.poll(() => emulator().requestsTo("slack", "refresh").length, { interval: 5, timeout: 2000 }).toBe(1);

    // A's lease runs out; B takes over, refreshes with the same refresh token and rotates it.
    await database()
      .updateTable("connections")
      .set({ refresh_lease_expires_at: Date.now() - 1 })
      .where("id", "=", connectionId)
      .execute();
    const holderB = await usable(deps, stale);
    expect(holderB.connection.token_version).toBe(stale.token_version + 1);

    // A's request is then answered: its refresh token was already used (invalid_refresh_token).
    const resultA = await holderA;
    expect(resultA.tokens).toEqual(holderB.tokens);
    const row = await connectionRow(connectionId);
    expect(row.status).toBe("active");
    expect(row.token_version).toBe(stale.token_version + 1);
    expect(await storedTokens(row)).toEqual(holderB.tokens);
    // Slack answers both with HTTP 200; only B's was a success: A's issued no token.
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(2);
    expect(emulator().tokens("slack")).toHaveLength(2);
  });
});
