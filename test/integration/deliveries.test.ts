import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connectionRow, useEmulator, PROVIDERS } from "./connections-support";
import { attemptsOf, deliveriesOf, deliveringSetup, deliveryDeps, sendInsight, settle } from "./deliveries-support";
import { database, pageHtml } from "./helpers";
import { backoffMs, processDelivery, rateLimitDelayMs } from "~/lib/delivery/outbox.server";
import { createInsight } from "~/lib/delivery/insights.server";
import { openScope, runInScope } from "~/lib/platform/db.server";

const emulator = useEmulator();

describe("every provider delivers an insight with the intent's effective config", () => {
  const expected = {
    github: (payload: Record<string, unknown>) =>
      expect(payload).toMatchObject({
        title: "Disk almost full",
        // The body carries a hidden marker, so an attempt whose answer was lost can find the issue.
        body: expect.stringMatching(/^db-1 is at 93% disk usage\.\n\n<!-- spokedo-delivery: [0-9a-f-]{36} -->$/) as unknown,
        labels: ["insight"],
        assignees: ["octocat"],
      }),
    slack: (payload: Record<string, unknown>) =>
      expect(payload).toMatchObject({ channel: "C0ALERTS01", username: "SpokeDo", text: "*Disk almost full*\ndb-1 is at 93% disk usage." }),
    notion: (payload: Record<string, unknown>) =>
      expect(payload).toMatchObject({
        parent: { database_id: "d8000000-0000-4000-8000-000000000001" },
        properties: {
          Name: { title: [{ text: { content: "Disk almost full" } }] },
          Status: { select: { name: "Inbox" } },
          Tags: { multi_select: [{ name: "insight" }, { name: "automated" }] },
        },
      }),
    linear: (payload: Record<string, unknown>) => expect(JSON.stringify(payload)).toContain("7e000000-0000-4000-8000-000000000001"),
    trello: (payload: Record<string, unknown>) =>
      expect(payload).toMatchObject({
        idList: "5e1c00000000000000000001",
        name: "Disk almost full",
        // A quiet footer names the delivery, so an attempt whose answer was lost can find the card.
        desc: expect.stringMatching(/^db-1 is at 93% disk usage\.\n\n_Sent by SpokeDo · ref [0-9a-f-]{36}_$/) as unknown,
      }),
  } as const;

  it.each(PROVIDERS)("%s", async (provider) => {
    const { browser, connectionId } = await deliveringSetup(emulator(), provider);
    const insightId = await sendInsight(browser);
    await settle();
    const [delivery] = await deliveriesOf(insightId);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(delivery!.item_id).toBeTruthy();
    const created = emulator().created.filter((item) => item.provider === provider);
    expect(created).toHaveLength(1);
    expected[provider](created[0]!.payload as Record<string, unknown>);
    if (provider === "slack") {
      const [channel, ts] = delivery!.item_id!.split(":");
      expect(delivery!.item_url).toBe(`https://emucorp.slack.com/archives/${channel}/p${ts!.replace(".", "")}`);
    } else expect(delivery!.item_url).toBe(created[0]!.url);
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "succeeded", attempt: 1, error_class: null });
    expect((await connectionRow(connectionId)).last_used_at).toBeGreaterThan(0);

    const page = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(page).toContain("Delivered");
    if (delivery!.item_url) expect(page).toContain(`href="${delivery!.item_url}"`);
  });
});

describe("status changes", () => {
  it("a token Slack revoked (an ok:false inside HTTP 200) reads as revoked by Slack, not as a failure with HTTP 200", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "slack");
    // The user removed the app on Slack's side: every token of the account dies.
    await emulator().revokeTokensOf("slack", emulator().tokens("slack").at(-1)!.accountId);
    const insightId = await sendInsight(browser);
    await settle();
    const [attempt] = await attemptsOf(insightId);
    expect(attempt!.message).toBe(
      "Revoked by Slack (token_revoked); refreshing the token was refused too (invalid_refresh_token). Re-authorize the connection, then redeliver.",
    );
    const html = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(html).toContain("Revoked by Slack (token_revoked);");
    expect(html).not.toContain("(HTTP 200)");
    expect((await connectionRow(connectionId)).status).toBe("revoked");
  });

  it("fails without calling the provider when the connection is not active, saying why and how to fix it", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    await database()
      .updateTable("connections")
      .set({ status: "revoked", status_reason: "GitHub no longer accepts the token" })
      .where("id", "=", connectionId)
      .execute();
    const before = emulator().requestsTo("github", "deliver").length;
    const insightId = await sendInsight(browser);
    await settle();
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(before);
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "failed", error_class: "user" });
    expect(attempt!.message).toContain("connection github-main is revoked");
    expect(attempt!.message).toContain("Re-authorize it");
  });

  it.each([
    ["github", "revoked"],
    ["slack", "revoked"],
    ["notion", "revoked"],
    ["linear", "revoked"],
    ["trello", "revoked"],
  ] as const)("%s: an auth failure at delivery marks the connection %s, linking the insight", async (provider, status) => {
    const { browser, connectionId } = await deliveringSetup(emulator(), provider);
    await emulator().revokeTokensOf(provider, emulator().tokens(provider).at(-1)!.accountId);
    const insightId = await sendInsight(browser);
    await settle();
    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status, last_error_insight_id: insightId });
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "failed", error_class: "user" });
    const detail = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(detail).toContain(`href="/insights/${insightId}"`);
  });

  it("a 4xx about the intent's own target fails at once, marks the intent and leaves the connection active", async () => {
    const { browser, connectionId, intentId } = await deliveringSetup(emulator(), "slack");
    // The channel was fine when saved; then the app was removed from it (saving checks targets).
    await database()
      .updateTable("intents")
      .set({ overrides_json: JSON.stringify({ channel: "G0SECRET01" }) })
      .where("id", "=", intentId)
      .execute();
    const insightId = await sendInsight(browser);
    await settle();
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "failed", error_class: "config" });
    expect(attempt!.message).toContain("channel_not_found");
    expect(await connectionRow(connectionId)).toMatchObject({ status: "active", last_error_insight_id: null });
    const intent = await database().selectFrom("intents").selectAll().where("id", "=", intentId).executeTakeFirstOrThrow();
    expect(intent).toMatchObject({ attention_insight_id: insightId });
    expect(intent.attention_reason).toContain("channel_not_found");
    expect(await pageHtml(await browser.get(`/intents/${intentId}`))).toContain("This intent&#x27;s settings need attention");
    expect(await pageHtml(await browser.get("/intents"))).toContain("Needs attention");

    // Another intent on the same connection still delivers; fixing the intent clears its mark.
    const other = await browser.post("/intents/new", { name: "slack-other", connectionId, enabled: "on" });
    expect(other.status).toBe(303);
    const next = await browser.post("/insights/new", { title: "Next", body: "b", intents: "slack-other" });
    await settle();
    expect((await deliveriesOf(next.headers.get("Location")!.split("/").pop()!))[0]).toMatchObject({ status: "succeeded" });
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "slack-intent",
      connectionId,
      enabled: "on",
      "overrides.channel": "C0ALERTS01",
    });
    expect(
      (await database().selectFrom("intents").select("attention_reason").where("id", "=", intentId).executeTakeFirstOrThrow())
        .attention_reason,
    ).toBeNull();
  });

  it("missing required config fails without calling the provider", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "trello");
    await browser.post(`/integration-connections/${connectionId}/settings`, { intent: "save", name: "trello-main", "config.listId": "" });
    const insightId = await sendInsight(browser);
    await settle();
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "failed", error_class: "config" });
    expect(attempt!.message).toContain("no list is set");
    expect(emulator().requestsTo("trello", "deliver")).toHaveLength(0);
    expect((await connectionRow(connectionId)).status).toBe("active");
  });
});

describe("retries", () => {
  it("retries a 429 after Retry-After", async () => {
    const { browser } = await deliveringSetup(emulator(), "notion");
    emulator().failNext("notion", "deliver", { kind: "rate_limited", retryAfterSeconds: 30 });
    const insightId = await sendInsight(browser);
    const start = Date.now();
    await settle(start);
    let [delivery] = await deliveriesOf(insightId);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1 });
    expect(delivery!.next_attempt_at - start).toBeGreaterThanOrEqual(29_000);
    expect((await attemptsOf(insightId))[0]).toMatchObject({ outcome: "retrying", error_class: "rate_limit", http_status: 429 });

    await settle(start + 10_000);
    expect((await deliveriesOf(insightId))[0]!.status).toBe("pending");
    await settle(delivery!.next_attempt_at + 1);
    [delivery] = await deliveriesOf(insightId);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("waits out rate limits without using up the retries a round allows for failures", async () => {
    const { browser } = await deliveringSetup(emulator(), "slack");
    emulator().failNext("slack", "deliver", { kind: "rate_limited", retryAfterSeconds: 3 }, 8);
    emulator().failNext("slack", "deliver", { kind: "http", status: 503, body: "unavailable" }, 4);
    const insightId = await sendInsight(browser);
    let now = Date.now();
    for (let i = 0; i < 13; i++) {
      await settle(now);
      const [delivery] = await deliveriesOf(insightId);
      if (delivery!.status !== "pending") break;
      now = delivery!.next_attempt_at + 1;
    }
    const attempts = await attemptsOf(insightId);
    expect(attempts.map((a) => a.error_class)).toEqual([
      ...Array<string>(8).fill("rate_limit"),
      ...Array<string>(4).fill("provider"),
      null,
    ]);
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded", attempts: 13, rate_limited_in_round: 8 });
  });

  it("waits for the provider's Retry-After plus a spread that widens with each rate limit, and backs off failures exponentially with jitter", () => {
    expect(rateLimitDelayMs(3, 0, 0)).toBe(3000);
    expect(rateLimitDelayMs(3, 0, 1)).toBe(4000);
    expect(rateLimitDelayMs(120, 0, 1)).toBe(150_000);
    expect(rateLimitDelayMs(undefined, 0, 0)).toBe(60_000);
    // The spread doubles with each earlier rate limit of the round, up to five minutes.
    expect([1, 2, 3, 8, 12].map((earlier) => rateLimitDelayMs(1, earlier, 1) - 1000)).toEqual([2000, 4000, 8000, 256_000, 300_000]);
    expect([1, 2, 3, 4].map((failures) => [backoffMs(failures, 0), backoffMs(failures, 1)])).toEqual([
      [15_000, 30_000],
      [30_000, 60_000],
      [60_000, 120_000],
      [120_000, 240_000],
    ]);
    expect(backoffMs(10, 1)).toBe(15 * 60_000);
  });

  it("retries 5xx with backoff, then gives up, marking the connection error with the reason", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "linear");
    emulator().failNext("linear", "deliver", { kind: "http", status: 503, body: "upstream unavailable" }, 5);
    const insightId = await sendInsight(browser);
    let now = Date.now();
    for (let i = 0; i < 5; i++) {
      await settle(now);
      const [delivery] = await deliveriesOf(insightId);
      now = delivery!.next_attempt_at + 1;
    }
    const attempts = await attemptsOf(insightId);
    expect(attempts.map((a) => a.outcome)).toEqual(["retrying", "retrying", "retrying", "retrying", "failed"]);
    expect(attempts.every((a) => a.http_status === 503 && a.error_class === "provider")).toBe(true);
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
    expect(gaps.length).toBe(4);
    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ status: "error", last_error_insight_id: insightId });
    expect(row.status_reason).toContain("HTTP 503");
  });

  it("a worker that dies mid-delivery loses nothing: the lease runs out and the delivery is picked up again", async () => {
    const { workspaceId } = await deliveringSetup(emulator(), "github");
    const deps = await deliveryDeps();
    // Created without the request's background run, so nothing else touches the delivery.
    const created = await createInsight(deps.db, workspaceId, { title: "t", body: "b", source: "api", targets: { all: true } });
    const insightId = created.ok ? created.insightId : "";
    const [delivery] = await deliveriesOf(insightId);
    // Simulate a holder that claimed the delivery and died before writing anything.
    await database()
      .updateTable("deliveries")
      .set({ lease_owner: "dead-worker", lease_expires_at: Date.now() + 60_000 })
      .where("id", "=", delivery!.id)
      .execute();
    const held = await processDelivery(deps, delivery!.id);
    expect(held.kind).toBe("later");
    expect(held).not.toHaveProperty("outcome");
    expect(await processDelivery(deps, delivery!.id, Date.now() + 61_000)).toMatchObject({ kind: "done", outcome: "succeeded" });
    expect(emulator().created).toHaveLength(1);
    // The dead holder's attempt was unconfirmed: the provider was asked first, then it was sent once.
    expect(emulator().requestsTo("github", "lookup")).toHaveLength(1);
  });
});

describe("delivery history on the connection page", () => {
  it("charts succeeded and failed deliveries per day as SVG and lists the latest with links to their insights", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "trello");
    const before = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(before, "no chart of nothing").not.toContain("<svg");
    expect(before).toContain("No insight has been delivered through this connection yet.");
    const ok = await sendInsight(browser, "First card");
    await settle();
    emulator().failNext("trello", "deliver", { kind: "http", status: 400, body: "invalid value for idList" });
    const bad = await sendInsight(browser, "Second card");
    await settle();
    await database().updateTable("connections").set({ status: "active" }).where("id", "=", connectionId).execute();

    const html = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-label="Last 30 days: 1 deliveries succeeded, 1 failed."/);
    expect(html.match(/<rect class="chart__ok"/g)).toHaveLength(1);
    expect(html.match(/<rect class="chart__failed"/g)).toHaveLength(1);
    expect(html).toMatch(/<title>\d{2}-\d{2}: 1 succeeded, 1 failed<\/title>/);
    expect(html).toContain(`href="/insights/${ok}"`);
    expect(html).toContain(`href="/insights/${bad}"`);
    expect(html).not.toContain("<script>");
  });
});

describe("idempotency", () => {
  it("a Linear retry after a lost response does not create a second issue", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "linear");
    const { getProvider } = await import("~/lib/providers/registry");
    const { providerContext } = await import("~/lib/platform/settings.server");
    const deps = await deliveryDeps();
    const row = await connectionRow(connectionId);
    const { storedTokens } = await import("./connections-support");
    const tokens = await storedTokens(row);
    const input = {
      title: "Once",
      body: "only once",
      config: { teamId: "7e000000-0000-4000-8000-000000000001" },
      idempotencyKey: crypto.randomUUID(),
      accountUrl: null,
    };
    const linear = getProvider("linear");
    const first = await linear.deliver(providerContext(deps.settings, "linear")!, tokens, input);
    // The same attempt again, as after a timeout whose request had in fact succeeded.
    const again = await linear.deliver(providerContext(deps.settings, "linear")!, tokens, input);
    expect(first.id).toMatch(/^ENG-\d+$/);
    // Linear refuses the second create (the id exists); SpokeDo reads the issue it had created.
    expect(again).toEqual(first);
    expect(emulator().created.filter((item) => item.provider === "linear")).toHaveLength(1);
  });
});

describe("hot path", () => {
  it("a successful delivery takes 2 D1 round trips: claim and read in one batch, every write in another", async () => {
    const { workspaceId } = await deliveringSetup(emulator(), "github");
    const deps = await deliveryDeps();
    const created = await createInsight(deps.db, workspaceId, { title: "t", body: "b", source: "api", targets: { all: true } });
    const [delivery] = await deliveriesOf(created.ok ? created.insightId : "");
    const scope = openScope(env.DB, "first-primary");
    expect(await runInScope(scope, () => processDelivery(deps, delivery!.id))).toMatchObject({ outcome: "succeeded" });
    expect({ statements: scope.statements, roundTrips: scope.roundTrips }).toEqual({ statements: 5, roundTrips: 2 });
  });
});
