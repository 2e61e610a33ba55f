import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ACTIVE, changeStatus, statusChangeWrites } from "~/lib/connections/status.server";
import { giveUpDelivery } from "~/lib/delivery/give-up.server";
import { runBatch } from "~/lib/platform/db.server";
import type { WebhookMessage } from "~/lib/platform/queues";
import { sweepWebhookDeliveries } from "~/lib/webhooks/dispatch.server";
import { emitEvent, recordConnectionExpiring, recordConnectionHealthFailed } from "~/lib/webhooks/outbox.server";
import { LOG_RETENTION_MS, pruneWebhookLog } from "~/lib/webhooks/log.server";
import { DISABLE_AFTER_FAILURES, MAX_WEBHOOK_ATTEMPTS } from "~/lib/webhooks/sender.server";
import { submitConsent } from "../emulator";
import { connectionRow, queryCount, roundTrips, storedTokens, useEmulator } from "./connections-support";
import { deliveriesOf, deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { database, pageHtml, signedUpUser } from "./helpers";
import { RECEIVER_URL, useWebhookReceiver, type Received } from "./webhook-receiver";
import { consumeBatch } from "./queue-support";
import { endpointFor, settleWebhooks, webhookAttemptsOf, webhookDeliveriesOf, webhookEvents } from "./webhooks-support";

const emulator = useEmulator();
const receiver = useWebhookReceiver();

/** Verifies a received request with the standardwebhooks library, as a receiver would; returns the payload. */
function verified(secret: string, request: Received) {
  return new Webhook(secret).verify(request.body, request.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

/** Every token the connection holds: none may ever appear in a webhook. */
async function tokensOf(connectionId: string) {
  const tokens = await storedTokens(await connectionRow(connectionId));
  return [tokens.accessToken, tokens.refreshToken, tokens.tokenSecret].filter((token): token is string => !!token);
}

async function healthFailure(workspaceId: string, name = "github-main") {
  const connection = await database()
    .selectFrom("connections")
    .selectAll()
    .where("workspace_id", "=", workspaceId)
    .where("name", "=", name)
    .executeTakeFirstOrThrow();
  await runBatch(database(), recordConnectionHealthFailed(database(), connection, { reason: "The identity check answered 503." }));
}

describe("outgoing webhooks: events recorded with the change, signed per Standard Webhooks", () => {
  it("a connection revoked and re-authorized sends signed status_changed, delivery.failed and recovered events that verify with standardwebhooks, without a token", async () => {
    const { browser, connectionId, workspaceId } = await deliveringSetup(emulator(), "github");
    const { id: endpointId, secret } = await endpointFor(browser);
    const tokens = await tokensOf(connectionId);

    await emulator().revokeTokensOf("github", emulator().tokens("github").at(-1)!.accountId);
    const insightId = await sendInsight(browser, "Disk almost full");
    await settle();
    expect((await connectionRow(connectionId)).status).toBe("revoked");
    const [failed] = await deliveriesOf(insightId);
    expect(failed).toMatchObject({ status: "failed" });

    await settleWebhooks();
    const first = receiver().received.map((request) => verified(secret, request));
    expect(first.map((payload) => payload.type).sort()).toEqual(["connection.status_changed", "delivery.failed"]);
    const changed = first.find((payload) => payload.type === "connection.status_changed")!;
    expect(changed.data).toMatchObject({
      connection: { id: connectionId, name: "github-main", provider: "github" },
      from: "active",
      to: "revoked",
      previous_reason: null,
    });
    expect(changed.data.reason).toContain("Re-authorize");
    expect(changed.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const deliveryFailed = first.find((payload) => payload.type === "delivery.failed")!;
    expect(deliveryFailed.data).toMatchObject({
      delivery: { id: failed!.id, insight_id: insightId, attempts: 1 },
      intent: { name: "github-intent" },
      connection: { id: connectionId, name: "github-main", provider: "github" },
      error_class: "user",
    });
    for (const request of receiver().received) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe(RECEIVER_URL);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      // Signed with this endpoint's secret only.
      expect(() => new Webhook(`whsec_${btoa("another secret of 32 bytes......")}`).verify(request.body, request.headers)).toThrow();
    }

    // Re-authorized: back to active, a status change and a recovery.
    const start = await browser.post(`/integration-connections/${connectionId}`, { intent: "reauthorize" });
    const callback = await submitConsent(emulator(), start.headers.get("Location")!);
    await browser.get(`${callback.pathname}${callback.search}`);
    expect((await connectionRow(connectionId)).status).toBe("active");
    await settleWebhooks();
    const second = receiver()
      .received.slice(2)
      .map((request) => verified(secret, request));
    expect(second.map((payload) => payload.type).sort()).toEqual(["connection.recovered", "connection.status_changed"]);
    expect(second.find((payload) => payload.type === "connection.recovered")!.data).toMatchObject({
      connection: { id: connectionId, name: "github-main", provider: "github" },
      from: "revoked",
      to: "active",
    });
    expect(second.find((payload) => payload.type === "connection.status_changed")!.data).toMatchObject({
      from: "revoked",
      to: "active",
      reason: null,
    });

    const allTokens = [...tokens, ...(await tokensOf(connectionId))];
    for (const request of receiver().received) {
      for (const token of allTokens) expect(request.body).not.toContain(token);
      expect(request.body).not.toMatch(/token"\s*:/i);
    }
    expect(await webhookDeliveriesOf(endpointId)).toHaveLength(4);
    expect((await webhookDeliveriesOf(endpointId)).every((delivery) => delivery.status === "succeeded")).toBe(true);
    expect(await webhookEvents(workspaceId)).toHaveLength(4);
  });

  it("records nothing for a status that does not move, for a batch that fails, or for a workspace with no subscribed endpoint", async () => {
    const { browser, connectionId, workspaceId } = await deliveringSetup(emulator(), "slack");
    const connection = await connectionRow(connectionId);
    // No endpoint yet: nothing is written, whatever happens.
    await changeStatus(database(), connection, { status: "error", reason: "Down", error: { message: "Down" } });
    expect(await webhookEvents(workspaceId)).toHaveLength(0);

    await endpointFor(browser, { events: ["connection.status_changed"] });
    await changeStatus(database(), connection, { status: "error", reason: "Still down", error: { message: "Still down" } });
    expect(await webhookEvents(workspaceId)).toHaveLength(0);

    // The event is in the change's batch: a batch that fails takes it along.
    const failing = [
      ...statusChangeWrites(database(), connection, ACTIVE),
      database().insertInto("workspaces").values({ id: workspaceId, name: "dup", created_at: 0 }),
    ];
    await expect(runBatch(database(), failing)).rejects.toThrow(/UNIQUE/);
    expect((await connectionRow(connectionId)).status).toBe("error");
    expect(await webhookEvents(workspaceId)).toHaveLength(0);

    // The endpoint does not subscribe to connection.recovered: only the status change is recorded.
    await changeStatus(database(), connection, ACTIVE);
    expect((await webhookEvents(workspaceId)).map((event) => event.type)).toEqual(["connection.status_changed"]);
  });

  it("connection.expiring and connection.health_failed can be emitted by other domains, once per expiry", async () => {
    const { browser, connectionId, workspaceId } = await deliveringSetup(emulator(), "github");
    const { secret } = await endpointFor(browser, { events: ["connection.expiring", "connection.health_failed"] });
    const connection = await connectionRow(connectionId);
    const expiresAt = Date.now() + 3 * 86_400_000;
    for (let run = 0; run < 3; run++) {
      await runBatch(
        database(),
        recordConnectionExpiring(database(), connection, { expiresAt, reason: "The refresh token expires in 3 days." }),
      );
    }
    await healthFailure(workspaceId);
    await settleWebhooks();
    const payloads = receiver().received.map((request) => verified(secret, request));
    expect(payloads.map((payload) => payload.type).sort()).toEqual(["connection.expiring", "connection.health_failed"]);
    expect(payloads.find((payload) => payload.type === "connection.expiring")!.data).toEqual({
      connection: { id: connectionId, name: "github-main", provider: "github" },
      expires_at: new Date(expiresAt).toISOString(),
      reason: "The refresh token expires in 3 days.",
    });
    expect(payloads.find((payload) => payload.type === "connection.health_failed")!.data).toMatchObject({
      status: "active",
      reason: "The identity check answered 503.",
    });
  });

  it("a delivery given up by the dead-letter queue emits delivery.failed once", async () => {
    const { browser, workspaceId } = await deliveringSetup(emulator(), "github");
    await endpointFor(browser, { events: ["delivery.failed"] });
    const insightId = await sendInsight(browser);
    const [pending] = await deliveriesOf(insightId);
    expect(await giveUpDelivery(database(), pending!.id, 31)).toBe(true);
    expect(await giveUpDelivery(database(), pending!.id, 32)).toBe(false);
    const events = await webhookEvents(workspaceId);
    expect(events.map((event) => event.type)).toEqual(["delivery.failed"]);
    expect(JSON.parse(events[0]!.data)).toMatchObject({
      delivery: { id: pending!.id, insight_id: insightId, attempts: 1 },
      reason: expect.stringContaining("after 31 tries") as string,
    });
  });
});

describe("retries, backoff and disabling", () => {
  it("a failing endpoint is retried with a growing jittered backoff, logged, and the delivery fails after a bounded number of attempts", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId } = await endpointFor(browser, { events: ["delivery.failed"] });
    receiver().failWith(500, "Internal Server Error");
    await emitEvent(
      database(),
      { workspaceId, type: "delivery.failed" },
      {
        delivery: { id: "d", insight_id: "i", attempts: 5 },
        intent: { id: null, name: "x" },
        connection: { id: null, name: "y", provider: "github" },
        error_class: "provider",
        reason: "z",
      },
    );
    let now = Date.now();
    const delays: number[] = [];
    for (let step = 0; step < MAX_WEBHOOK_ATTEMPTS + 2; step++) {
      await settleWebhooks(now);
      const [delivery] = await webhookDeliveriesOf(endpointId);
      if (delivery!.status !== "pending") break;
      delays.push(delivery!.next_attempt_at - (await webhookAttemptsOf(endpointId)).at(-1)!.at);
      now = Math.max(now, delivery!.next_attempt_at, (await endpointRowOf(endpointId)).backoff_until ?? 0) + 1;
    }
    const [delivery] = await webhookDeliveriesOf(endpointId);
    expect(delivery).toMatchObject({ status: "failed", attempts: MAX_WEBHOOK_ATTEMPTS, last_http_status: 500 });
    expect(receiver().received).toHaveLength(MAX_WEBHOOK_ATTEMPTS);
    const attempts = await webhookAttemptsOf(endpointId);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual([...Array<string>(MAX_WEBHOOK_ATTEMPTS - 1).fill("retrying"), "failed"]);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ http_status: 500, error: "The endpoint answered 500.", response_snippet: "Internal Server Error" });
      expect(attempt.duration_ms).toBeGreaterThanOrEqual(0);
    }
    // 15–30 s, then about four times longer each time, capped at 4 hours.
    expect(delays[0]).toBeGreaterThanOrEqual(15_000);
    expect(delays[0]).toBeLessThanOrEqual(30_000);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(Math.min(delays[i - 1]!, 2 * 3_600_000));
    expect(Math.max(...delays)).toBeLessThanOrEqual(4 * 3_600_000);
    // Never retried again on its own.
    await settleWebhooks(now + 30 * 86_400_000);
    expect(receiver().received).toHaveLength(MAX_WEBHOOK_ATTEMPTS);

    const page = await pageHtml(await browser.get(`/settings/workspace/webhooks/${endpointId}`));
    expect(page).toContain("This endpoint is failing");
    expect(page).toContain("The endpoint answered 500.");
  });

  it("while an endpoint keeps failing, new deliveries wait for its backoff; after 3 days of failures it is disabled with a notice", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId } = await endpointFor(browser, { events: ["connection.health_failed"] });
    await deliveringSetupIn(browser);
    receiver().failWith(503);
    for (let i = 0; i < 3; i++) await healthFailure(workspaceId);
    await settleWebhooks();
    expect(receiver().received).toHaveLength(3);
    const endpoint = await endpointRowOf(endpointId);
    expect(endpoint.consecutive_failures).toBe(3);
    expect(endpoint.backoff_until).toBeGreaterThan(Date.now());

    // A new event does not hit the failing endpoint before its backoff ends, and uses up no attempt.
    await healthFailure(workspaceId);
    await settleWebhooks();
    expect(receiver().received).toHaveLength(3);
    const waiting = (await webhookDeliveriesOf(endpointId)).at(-1)!;
    expect(waiting).toMatchObject({ status: "pending", attempts: 0, next_attempt_at: endpoint.backoff_until, enqueued_at: null });
    // (The first three retry later; keep them out of the way until then.)
    const later = Date.now() + 10 * 86_400_000;
    await database()
      .updateTable("webhook_deliveries")
      .set({ next_attempt_at: later })
      .where("endpoint_id", "=", endpointId)
      .where("id", "!=", waiting.id)
      .execute();

    // The streak has lasted 3 days: the next failure disables the endpoint.
    await database()
      .updateTable("webhook_endpoints")
      .set({ failing_since: Date.now() - 3 * 86_400_000 - 1000, consecutive_failures: DISABLE_AFTER_FAILURES - 1 })
      .where("id", "=", endpointId)
      .execute();
    await settleWebhooks(endpoint.backoff_until! + 1);
    expect(receiver().received).toHaveLength(4);
    const disabled = await endpointRowOf(endpointId);
    expect(disabled).toMatchObject({ enabled: 0, consecutive_failures: DISABLE_AFTER_FAILURES });
    expect(disabled.disabled_reason).toContain("every delivery failed for 3 days");

    const settings = await pageHtml(await browser.get("/settings/workspace"));
    expect(settings).toContain("Disabled by SpokeDo after failing for days");
    expect(await pageHtml(await browser.get(`/settings/workspace/webhooks/${endpointId}`))).toContain("SpokeDo disabled this endpoint");

    // Disabled: nothing new is recorded for it, pending deliveries fail without a request, and no resend.
    await healthFailure(workspaceId);
    expect(await webhookDeliveriesOf(endpointId)).toHaveLength(4);
    await settleWebhooks(later + 1);
    expect(receiver().received).toHaveLength(4);
    const settled = await webhookDeliveriesOf(endpointId);
    expect(settled.map((delivery) => delivery.status)).toEqual(Array<string>(4).fill("failed"));
    expect(settled.every((delivery) => delivery.last_error === "Not sent: the endpoint is disabled.")).toBe(true);
    const resend = await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "resend", deliveryId: waiting.id });
    expect(resend.status).toBe(303);
    expect(await pageHtml(await browser.get(resend.headers.get("Location")!))).toContain("enable it before resending");

    // Enabled again by its owner: a fresh start.
    const enabled = await browser.post(`/settings/workspace/webhooks/${endpointId}`, [
      ["intent", "save"],
      ["url", RECEIVER_URL],
      ["events", "connection.health_failed"],
      ["enabled", "on"],
    ]);
    expect(enabled.status).toBe(303);
    expect(await endpointRowOf(endpointId)).toMatchObject({
      enabled: 1,
      consecutive_failures: 0,
      failing_since: null,
      backoff_until: null,
      disabled_reason: null,
    });
  });

  it("redirects are not followed (a 3xx is a failure), timeouts and dropped connections are recorded, answers are cut at 1 KiB without the secret", async () => {
    const { browser } = await signedUpUser();
    const { id: endpointId, secret } = await endpointFor(browser, { events: ["connection.health_failed"] });
    receiver().answer(
      { kind: "respond", status: 302, headers: { Location: "https://10.0.0.1/internal" } },
      { kind: "hang" },
      { kind: "drop" },
      { kind: "respond", status: 200, body: `echo ${"é".repeat(400)} ${secret} ${"x".repeat(5000)}` },
    );
    for (let i = 0; i < 4; i++) {
      // Test events: each goes out whatever the endpoint's failure streak.
      expect((await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "test" })).status).toBe(303);
      // Only the request that never answers gets a short timeout: the others must not race it on a busy machine.
      await settleWebhooks(Date.now(), i === 1 ? { timeoutMs: 300 } : {});
    }
    expect(receiver().received.map((request) => request.url)).toEqual(Array<string>(4).fill(RECEIVER_URL));
    const attempts = await webhookAttemptsOf(endpointId);
    expect(attempts).toHaveLength(4);
    expect(attempts[0]).toMatchObject({ outcome: "retrying", http_status: 302 });
    expect(attempts[0]!.error).toBe("Redirect (302 to https://10.0.0.1/internal) not followed: webhooks go to the URL as registered.");
    expect(attempts[1]).toMatchObject({ outcome: "retrying", http_status: null, error: "Timed out after 0.3 s." });
    expect(attempts[2]).toMatchObject({ outcome: "retrying", http_status: null });
    expect(attempts[2]!.error).toContain("Could not reach the endpoint");
    expect(attempts[3]).toMatchObject({ outcome: "succeeded", http_status: 200, error: null });
    const snippet = attempts[3]!.response_snippet!;
    expect(new TextEncoder().encode(snippet).byteLength).toBeLessThanOrEqual(1024);
    expect(snippet).not.toContain(secret);
    expect(snippet).toContain("[redacted]");
    const log = await pageHtml(await browser.get(`/settings/workspace/webhooks/${endpointId}`));
    expect(log).not.toContain(secret);
    expect(log).toContain("Timed out after 0.3 s.");
  });
});

describe("Send test event and Resend (JavaScript off)", () => {
  it("a test event goes to that endpoint only, signed; a resend sends the same event again with the same webhook-id", async () => {
    const { browser } = await signedUpUser();
    const { id: endpointId, secret } = await endpointFor(browser, { events: ["delivery.failed"] });
    const { id: otherId } = await endpointFor(browser, { url: "https://hooks.example.com/other", events: ["delivery.failed"] });
    const sent = await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "test" });
    expect(sent.status).toBe(303);
    const queued = await pageHtml(await browser.get(sent.headers.get("Location")!));
    expect(queued).toContain("Test event queued");
    // A delivery is due: the page refreshes itself without JavaScript.
    expect(queued).toContain('http-equiv="refresh"');

    await settleWebhooks();
    expect(receiver().received).toHaveLength(1);
    const [request] = receiver().received;
    expect(request!.url).toBe(RECEIVER_URL);
    expect(verified(secret, request!)).toMatchObject({ type: "webhook.test", data: { endpoint: { id: endpointId } } });
    expect(await webhookDeliveriesOf(otherId)).toHaveLength(0);

    const page = await pageHtml(await browser.get(`/settings/workspace/webhooks/${endpointId}`));
    expect(page).toContain("webhook.test");
    expect(page).toContain("Delivered");
    expect(page).not.toContain('http-equiv="refresh"');
    const [delivery] = await webhookDeliveriesOf(endpointId);
    const resent = await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "resend", deliveryId: delivery!.id });
    expect(resent.status).toBe(303);
    expect(await pageHtml(await browser.get(resent.headers.get("Location")!))).toContain("Delivery queued again");
    await settleWebhooks();
    expect(receiver().received).toHaveLength(2);
    expect(receiver().received[1]!.headers["webhook-id"]).toBe(request!.headers["webhook-id"]);
    expect(receiver().received[1]!.body).toBe(request!.body);
    expect(verified(secret, receiver().received[1]!).type).toBe("webhook.test");
    expect(await webhookDeliveriesOf(endpointId)).toMatchObject([{ id: delivery!.id, status: "succeeded", attempts: 2, retry_base: 1 }]);
    const attempts = await webhookAttemptsOf(endpointId);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.http_status])).toEqual([
      [1, "succeeded", 204],
      [2, "succeeded", 204],
    ]);

    // Another workspace cannot resend it.
    const mallory = await signedUpUser();
    expect(
      (await mallory.browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "resend", deliveryId: delivery!.id })).status,
    ).toBe(404);
  });
});

describe("the webhook queue", () => {
  async function consume(queue: string, ids: string[], attempts = 1) {
    const { acks, retries } = await consumeBatch<WebhookMessage>(
      queue,
      ids.map((webhookDeliveryId) => ({ webhookDeliveryId })),
      attempts,
    );
    return { acks, retries: retries.map(({ msgId, ...rest }) => ({ id: msgId, ...rest })) };
  }

  it("the consumer acknowledges a delivered message and brings a failed one back after a jittered backoff; the dead-letter queue fails what is left", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId } = await endpointFor(browser, { events: ["connection.health_failed"] });
    await deliveringSetupIn(browser);
    await healthFailure(workspaceId);
    await healthFailure(workspaceId);
    const [first, second] = await webhookDeliveriesOf(endpointId);
    receiver().answer({ kind: "respond", status: 204 }, { kind: "respond", status: 500 });
    const result = await consume("spokedo-webhooks", [first!.id, second!.id]);
    expect(result.acks).toHaveLength(1);
    expect(result.retries).toHaveLength(1);
    expect(result.retries[0]!.delaySeconds).toBeGreaterThanOrEqual(15);
    expect(result.retries[0]!.delaySeconds).toBeLessThanOrEqual(30);

    const retried = (await webhookDeliveriesOf(endpointId)).find((delivery) => delivery.status === "pending")!;
    const dead = await consume("spokedo-webhooks-dlq", [retried.id], 21);
    expect(dead.acks).toEqual(["msg-0"]);
    const failed = (await webhookDeliveriesOf(endpointId)).find((delivery) => delivery.id === retried.id)!;
    expect(failed.status).toBe("failed");
    expect((await webhookAttemptsOf(endpointId)).at(-1)!.error).toContain("could not finish this delivery after 21 tries");
  });

  it("events recorded but never enqueued are swept onto the real queue by the cron, and delivered by its consumer", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId, secret } = await endpointFor(browser, { events: ["connection.health_failed"] });
    await deliveringSetupIn(browser);
    await healthFailure(workspaceId);
    expect((await webhookDeliveriesOf(endpointId))[0]).toMatchObject({ status: "pending", enqueued_at: null });
    expect(await sweepWebhookDeliveries(database(), env.WEBHOOK_QUEUE)).toEqual({ enqueued: 1, resent: 0 });
    expect((await webhookDeliveriesOf(endpointId))[0]!.enqueued_at).not.toBeNull();
    await expect.poll(async () => (await webhookDeliveriesOf(endpointId))[0]?.status, { timeout: 20_000, interval: 100 }).toBe("succeeded");
    expect(verified(secret, receiver().received[0]!).type).toBe("connection.health_failed");
    // Swept once: nothing left to enqueue.
    expect(await sweepWebhookDeliveries(database(), env.WEBHOOK_QUEUE)).toEqual({ enqueued: 0, resent: 0 });
  });
});

describe("the cron's pruning and lists that stay flat", () => {
  it("prunes events, deliveries and logs older than 30 days, a bounded number per run, keeping pending ones", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId } = await endpointFor(browser, { events: ["connection.health_failed"] });
    await deliveringSetupIn(browser);
    for (let i = 0; i < 3; i++) await healthFailure(workspaceId);
    await settleWebhooks();
    await healthFailure(workspaceId);
    const old = Date.now() - LOG_RETENTION_MS - 60_000;
    await database().updateTable("webhook_events").set({ created_at: old }).where("workspace_id", "=", workspaceId).execute();
    expect(await pruneWebhookLog(database())).toBe(3);
    const left = await webhookDeliveriesOf(endpointId);
    expect(left.map((delivery) => delivery.status)).toEqual(["pending"]);
    expect(await webhookAttemptsOf(endpointId)).toHaveLength(0);
    expect(await webhookEvents(workspaceId)).toHaveLength(1);
  });

  it("an endpoint's page costs the same at 10,000 log rows, on any page, through an index", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id: endpointId } = await endpointFor(browser, { events: ["delivery.failed"] });
    await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "test" });
    await settleWebhooks();
    const [delivery] = await webhookDeliveriesOf(endpointId);
    const small = await browser.get(`/settings/workspace/webhooks/${endpointId}`);
    const before = { statements: queryCount(small), roundTrips: roundTrips(small) };

    // 10,000 attempts in the log, written by SQLite itself.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
       INSERT INTO webhook_attempts (id, workspace_id, endpoint_id, delivery_id, event_id, event_type, attempt, at, outcome, http_status, duration_ms)
       SELECT printf('00000000-0000-4000-8000-%012d', i), ?1, ?2, ?3, ?4, 'webhook.test', i + 1, ?5 - i * 1000, 'failed', 500, 12 FROM n`,
    )
      .bind(workspaceId, endpointId, delivery!.id, delivery!.event_id, Date.now())
      .run();
    const first = await browser.get(`/settings/workspace/webhooks/${endpointId}`);
    const html = await pageHtml(first);
    const older = /href="(\/settings\/workspace\/webhooks\/[^"?]+\?before=[^"]+)"/.exec(html)?.[1];
    expect(older).toBeDefined();
    const deep = await browser.get(older!);
    expect(deep.status).toBe(200);
    for (const response of [first, deep]) {
      expect({ statements: queryCount(response), roundTrips: roundTrips(response) }).toEqual(before);
    }

    const plan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT a.id FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
       WHERE a.endpoint_id = ? AND a.workspace_id = ? AND (a.at, a.id) < (?, ?) ORDER BY a.at DESC, a.id DESC LIMIT 26`,
    )
      .bind(endpointId, workspaceId, Date.now(), "z")
      .all<{ detail: string }>();
    const details = plan.results.map((row) => row.detail).join("\n");
    expect(details).toContain("webhook_attempts_by_endpoint");
    expect(details).not.toContain("TEMP B-TREE");
  });
});

function endpointRowOf(id: string) {
  return database().selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** A GitHub connection in the browser's workspace (the events describe it). */
async function deliveringSetupIn(browser: Parameters<typeof endpointFor>[0]) {
  const { addDeliveringIntent } = await import("./deliveries-support");
  return addDeliveringIntent(browser, emulator(), "github");
}
