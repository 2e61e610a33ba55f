import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  runHealthCheck,
  scheduleHealthChecks,
  takeDueChecks,
  dueChecksQuery,
  HEALTH_CHECKS_PER_RUN,
} from "~/lib/connections/health.server";
import { disableConnection } from "~/lib/connections/repository.server";
import { changeStatus } from "~/lib/connections/status.server";
import { refreshExpiringConnections } from "~/lib/connections/vault.server";
import { sweepOverdueDeliveries } from "~/lib/delivery/dispatch.server";
import { HELD_UNTIL_ENABLED } from "~/lib/delivery/outbox.server";
import { QUEUES, type DeliveryQueue, type HealthCheckMessage, type HealthQueue } from "~/lib/platform/queues";
import { connectionRow, makeHealthCheckDue as makeDue, useEmulator } from "./connections-support";
import { deliveriesOf, deliveringSetup, deliveryDeps, sendInsight, settle } from "./deliveries-support";
import { database, pageHtml } from "./helpers";
import { consumeBatch } from "./queue-support";

const emulator = useEmulator();
const DAY = 86_400_000;
const REVOKED = { status: "revoked" as const, reason: "GitHub no longer accepts the token." };

/** A queue that keeps what is sent to it (the real one is exercised in queue.test.ts). */
function keepingQueue<T>() {
  const sent: T[] = [];
  const queue = {
    send: (body: T) => Promise.resolve(void sent.push(body)),
    sendBatch: (messages: Iterable<{ body: T }>) => Promise.resolve(void sent.push(...[...messages].map((message) => message.body))),
  };
  return { sent, queue };
}

describe("scheduled health checks", () => {
  it("find a Notion token revoked at the provider with no delivery pending: revoked at once, with the reason", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "notion");
    const token = emulator().tokens("notion").at(-1)!;
    await emulator().revokeTokensOf("notion", token.accountId);
    await makeDue(connectionId);

    expect(await scheduleHealthChecks(await deliveryDeps(), null)).toEqual({ due: 1 });

    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "revoked", health_outcome: "revoked", health_due_at: null });
    // The provider refused the token, then the refresh: the connection says so, with what to do.
    expect(row.status_reason).toMatch(/^Notion .*refresh the token.*Re-authorize/);
    expect(row.health_checked_at).toBeGreaterThan(Date.now() - 60_000);
    expect(row.health_latency_ms).toBeGreaterThanOrEqual(0);
    expect(emulator().requestsTo("notion", "deliver")).toHaveLength(0);
  });

  it("record a healthy check and schedule the next one about an interval ahead", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "trello");
    const deps = await deliveryDeps();
    const outcome = await runHealthCheck(deps, { workspaceId: (await connectionRow(connectionId)).workspace_id, connectionId });
    expect(outcome).toBe("ok");
    const row = await connectionRow(connectionId);
    const interval = deps.settings.health.intervalMs;
    expect(row).toMatchObject({ status: "active", health_outcome: "ok" });
    expect(row.health_due_at).toBeGreaterThan(Date.now() + interval * 0.85);
    expect(row.health_due_at).toBeLessThan(Date.now() + interval * 1.15);
  });

  it("never mark a connection revoked because the provider is down: the outage is recorded and checked again sooner", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "github");
    emulator().failNext("github", "identity", { kind: "http", status: 503 });
    await makeDue(connectionId);
    await scheduleHealthChecks(await deliveryDeps(), null);
    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "active", status_reason: null, health_outcome: "unreachable" });
    expect(row.health_message).toContain("503");
    expect(row.health_due_at).toBeLessThan(Date.now() + 40 * 60_000);
  });

  it("take a bounded number per run, earliest first, with one indexed statement, and never the same one twice while it is out", async () => {
    const { connectionId, workspaceId } = await deliveringSetup(emulator(), "github");
    const now = Date.now();
    // Saving its settings brought the template's own check round: push it a day ahead, out of the count.
    await database()
      .updateTable("connections")
      .set({ health_due_at: now + DAY })
      .where("id", "=", connectionId)
      .execute();
    const template = await connectionRow(connectionId);
    const total = HEALTH_CHECKS_PER_RUN * 2 + 50;
    const rows = Array.from({ length: total }, (_, i) => ({
      ...template,
      id: `health-${String(i).padStart(4, "0")}`,
      name: `conn-${i}`,
      health_due_at: now - (total - i) * 1000,
      status_rank: undefined,
      tokens_unreadable_at: undefined,
    }));
    for (const row of rows) await database().insertInto("connections").values(row).execute();
    // Revoked, expired and disabled connections are never taken, however many are due.
    for (const id of ["health-0000", "health-0001"]) await changeStatus(database(), { id, workspace_id: workspaceId }, REVOKED);
    expect(await disableConnection(database(), workspaceId, "health-0002")).toBe(true);

    const { sent, queue } = keepingQueue<HealthCheckMessage>();
    const deps = await deliveryDeps();
    expect(await scheduleHealthChecks(deps, queue as unknown as HealthQueue, { now })).toEqual({ due: HEALTH_CHECKS_PER_RUN });
    expect(sent.map((message) => message.connectionId)).toEqual(rows.slice(3, 3 + HEALTH_CHECKS_PER_RUN).map((row) => row.id));
    expect(sent.every((message) => message.workspaceId === workspaceId)).toBe(true);
    await scheduleHealthChecks(deps, queue as unknown as HealthQueue, { now });
    await scheduleHealthChecks(deps, queue as unknown as HealthQueue, { now });
    expect(new Set(sent.map((message) => message.connectionId)).size).toBe(sent.length);
    expect(sent).toHaveLength(total - 3);
    expect(await takeDueChecks(deps.db, now, HEALTH_CHECKS_PER_RUN)).toEqual([]);

    const { sql, parameters } = dueChecksQuery(deps.db, now, HEALTH_CHECKS_PER_RUN).compile();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...parameters)
      .all<{ detail: string }>();
    const details = plan.results.map((step) => step.detail).join("\n");
    expect(details).toContain("connections_health_due");
    expect(details).not.toMatch(/SCAN connections\b/);
  });
});

describe("the health-check queue's consumer", () => {
  it("checks each connection of the batch side by side and acknowledges every message, a vanished connection's too", async () => {
    const github = await deliveringSetup(emulator(), "github");
    const linear = await deliveringSetup(emulator(), "linear");
    await emulator().revokeTokensOf("linear", emulator().tokens("linear").at(-1)!.accountId);
    const bodies: HealthCheckMessage[] = [
      { workspaceId: github.workspaceId, connectionId: github.connectionId },
      { workspaceId: linear.workspaceId, connectionId: linear.connectionId },
      { workspaceId: github.workspaceId, connectionId: "deleted-meanwhile" },
      // Another workspace's id with this connection: scoped, so nothing happens to it.
      { workspaceId: linear.workspaceId, connectionId: github.connectionId },
    ];
    const { acks: acked, retries } = await consumeBatch(QUEUES.health, bodies);
    expect(retries).toEqual([]);
    expect(acked.sort()).toEqual(["msg-0", "msg-1", "msg-2", "msg-3"]);
    expect(await connectionRow(github.connectionId)).toMatchObject({ status: "active", health_outcome: "ok" });
    const revoked = await connectionRow(linear.connectionId);
    expect(revoked.status).not.toBe("active");
    expect(revoked.health_outcome).toMatch(/revoked|expired/);
  });
});

describe("refresh outages", () => {
  async function expiringSlack() {
    const setup = await deliveringSetup(emulator(), "slack");
    emulator().expireAccessTokens("slack");
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: Date.now() - 1000 })
      .where("id", "=", setup.connectionId)
      .execute();
    return setup;
  }

  it("are counted with backoff instead of asking every minute, and a later success clears them", async () => {
    const { connectionId } = await expiringSlack();
    const deps = await deliveryDeps();
    emulator().failNext("slack", "refresh", { kind: "http", status: 503 });
    await refreshExpiringConnections(deps);
    let row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "active", refresh_failures: 1 });
    expect(row.refresh_retry_at).toBeGreaterThan(Date.now() + 3 * 60_000);

    // The next minutes' runs leave it alone.
    await refreshExpiringConnections(deps);
    await refreshExpiringConnections(deps, { now: Date.now() + 60_000 });
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(1);

    // Once the backoff is over, a working refresh clears the count.
    await refreshExpiringConnections(deps, { now: row.refresh_retry_at! + 1 });
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(2);
    row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "active", refresh_failures: 0, refresh_failing_since: null, refresh_retry_at: null });
  });

  it("make the connection expired only after the configured days of failures, never revoked", async () => {
    const { connectionId } = await expiringSlack();
    const deps = await deliveryDeps();
    await database()
      .updateTable("connections")
      .set({ refresh_failures: 12, refresh_failing_since: Date.now() - 3 * DAY - 60_000, refresh_retry_at: Date.now() - 1 })
      .where("id", "=", connectionId)
      .execute();
    emulator().failNext("slack", "refresh", { kind: "http", status: 502 });
    await refreshExpiringConnections(deps);
    const row = await connectionRow(connectionId);
    expect(row.status).toBe("expired");
    expect(row.status_reason).toMatch(/SpokeDo could not refresh the token for 3 days \(Slack: .*502/);
    expect(row.refresh_failures).toBe(13);
  });
});

describe("disabling a connection", () => {
  it("holds its deliveries (not sent, not failed, never swept), and enabling sends them", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    const disabled = await browser.post(`/integration-connections/${connectionId}`, { intent: "disable" });
    expect(disabled.status).toBe(303);

    const insightId = await sendInsight(browser);
    await settle();
    const [held] = await deliveriesOf(insightId);
    expect(held).toMatchObject({ status: "pending", attempts: 0, next_attempt_at: HELD_UNTIL_ENABLED });
    expect(held!.held_at).toBeGreaterThan(0);
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(0);

    // Nothing picks it up while it is held: not the sweep, not the scheduled checks.
    const deliveries = keepingQueue<{ deliveryId: string }>();
    expect(await sweepOverdueDeliveries(database(), deliveries.queue as unknown as DeliveryQueue, { now: Date.now() + DAY })).toBe(0);
    const checks = await takeDueChecks(database(), Date.now() + 30 * DAY, 100);
    expect(checks.map((check) => check.connectionId)).not.toContain(connectionId);

    const insightPage = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(insightPage).toContain("Held");
    expect(insightPage).toContain("until the connection is enabled");
    expect(insightPage).toContain("No attempt yet: the deliveries are held until their connection is enabled.");
    expect(insightPage).not.toContain("Refresh in a moment");
    expect(insightPage, "a held delivery does not keep the page refreshing").not.toContain('http-equiv="refresh"');
    const detail = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(detail).toContain("Enable and send 1 held");
    expect(await pageHtml(await browser.get("/integration-connections?state=disabled"))).toContain("github-main");
    expect(await pageHtml(await browser.get("/integration-connections?state=enabled"))).not.toContain("github-main");

    const enabled = await browser.post(`/integration-connections/${connectionId}`, { intent: "enable" });
    expect(enabled.status).toBe(303);
    const flash = await pageHtml(await browser.get(enabled.headers.get("Location")!));
    expect(flash).toContain("Sending the 1 delivery held while it was disabled.");
    await settle();
    expect(await deliveriesOf(insightId)).toMatchObject([{ status: "succeeded", held_at: null }]);
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(1);
    expect((await connectionRow(connectionId)).disabled_at).toBeNull();
  });

  it("is scoped to the workspace: another workspace cannot disable or enable it", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "slack");
    const other = await deliveringSetup(emulator(), "github");
    const response = await other.browser.post(`/integration-connections/${connectionId}`, { intent: "disable" });
    expect(response.status).toBe(404);
    expect((await connectionRow(connectionId)).disabled_at).toBeNull();
  });
});
