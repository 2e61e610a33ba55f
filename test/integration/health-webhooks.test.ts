import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import worker from "~/worker";
import { connectionRow, makeHealthCheckDue, storedTokens, useEmulator } from "./connections-support";
import { deliveringSetup } from "./deliveries-support";
import { database, ORIGIN, pageHtml } from "./helpers";
import { useWebhookReceiver } from "./webhook-receiver";
import { DEFAULT_EVENTS, endpointFor } from "./webhooks-support";

const emulator = useEmulator();
const receiver = useWebhookReceiver();

/** One run of the Worker's Cron Trigger, as Cloudflare fires it. */
async function scheduledRun() {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("health checks tell the workspace", () => {
  it("a Notion token revoked at the provider, no delivery pending: one scheduled run revokes the connection and a signed connection.status_changed reaches the endpoint", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "notion");
    const { secret } = await endpointFor(browser);
    const tokens = await storedTokens(await connectionRow(connectionId));
    await emulator().revokeTokensOf("notion", emulator().tokens("notion").at(-1)!.accountId);
    // The connection's scheduled check has come round.
    await makeHealthCheckDue(connectionId);

    await scheduledRun();

    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "revoked", health_outcome: "revoked" });
    expect(emulator().requestsTo("notion", "deliver")).toHaveLength(0);
    const payloads = receiver().received.map(
      (request) => new Webhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, unknown> },
    );
    const changed = payloads.find((payload) => payload.type === "connection.status_changed");
    expect(changed?.data).toMatchObject({
      connection: { id: connectionId, name: "notion-main", provider: "notion" },
      from: "active",
      to: "revoked",
    });
    for (const request of receiver().received) {
      for (const token of [tokens.accessToken, tokens.refreshToken].filter(Boolean)) expect(request.body).not.toContain(token);
    }
  });

  it("an outage found by the scheduled check leaves the status alone and sends connection.health_failed", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "trello");
    const { secret } = await endpointFor(browser);
    emulator().failNext("trello", "identity", { kind: "http", status: 503 });
    await makeHealthCheckDue(connectionId);

    await scheduledRun();

    expect(await connectionRow(connectionId)).toMatchObject({ status: "active", health_outcome: "unreachable" });
    const types = receiver().received.map(
      (request) => (new Webhook(secret).verify(request.body, request.headers) as { type: string }).type,
    );
    expect(types).toEqual(["connection.health_failed"]);
  });

  it("a revocation Slack pushes (tokens_revoked, signed) revokes the connection and tells the workspace's endpoint", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "slack");
    const { secret } = await endpointFor(browser);
    emulator().setWebhookTarget("slack", {
      url: `${ORIGIN}/webhooks/slack`,
      secret: env.SLACK_SIGNING_SECRET,
      fetch: (request: Request) => exports.default.fetch(request),
    });
    await emulator().revokeTokensOf("slack", emulator().tokens("slack").at(-1)!.accountId);
    expect((await connectionRow(connectionId)).status).toBe("revoked");

    // The request recorded the event; the cron (no queue in the tests) sends it.
    await scheduledRun();
    const changed = receiver()
      .received.map(
        (request) => new Webhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, unknown> },
      )
      .filter((payload) => payload.type === "connection.status_changed");
    expect(changed).toHaveLength(1);
    expect(changed[0]!.data).toMatchObject({ connection: { id: connectionId, provider: "slack" }, from: "active", to: "revoked" });
  });
});

describe("warnings before an authorization ends", () => {
  it("the scheduled check sends connection.expiring once per expiry, and the index and the connection page warn", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "trello");
    const { secret } = await endpointFor(browser, { events: [...DEFAULT_EVENTS, "connection.expiring"] });
    const endsAt = Date.now() + 2 * 86_400_000;
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: endsAt, health_due_at: Date.now() - 1000 })
      .where("id", "=", connectionId)
      .execute();

    await scheduledRun();
    await makeHealthCheckDue(connectionId);
    await scheduledRun();

    const expiring = receiver()
      .received.map(
        (request) => new Webhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, unknown> },
      )
      .filter((payload) => payload.type === "connection.expiring");
    expect(expiring, "once per expiry, however often the check runs").toHaveLength(1);
    expect(expiring[0]!.data).toMatchObject({
      connection: { id: connectionId, provider: "trello" },
      expires_at: new Date(endsAt).toISOString(),
    });

    const index = await pageHtml(await browser.get("/integration-connections"));
    expect(index).toMatch(/status--expiring">Expires <time[^>]*>in 2 days<\/time>/);
    const detail = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(detail).toContain("The authorization ends");
    expect(detail).toMatch(/Re-authorize with Trello/);
  });

  it("says nothing while the end is further away than EXPIRY_WARNING_DAYS", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "trello");
    await endpointFor(browser, { events: [...DEFAULT_EVENTS, "connection.expiring"] });
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: Date.now() + 30 * 86_400_000, health_due_at: Date.now() - 1000 })
      .where("id", "=", connectionId)
      .execute();
    await scheduledRun();
    expect(receiver().received).toHaveLength(0);
    expect(await pageHtml(await browser.get("/integration-connections"))).not.toContain("status--expiring");
  });
});
