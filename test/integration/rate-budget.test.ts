import { describe, expect, it } from "vitest";
import { processDelivery } from "~/lib/delivery/outbox.server";
import { budgetWaitUntil, pausedColumns, reserveOf } from "~/lib/connections/rate-budget.server";
import { getProvider } from "~/lib/providers/registry";
import { connectionRow, useEmulator } from "./connections-support";
import { attemptsOf, createApiKey, deliveriesOf, deliveringSetup, deliveryDeps, sendInsight, settle } from "./deliveries-support";
import { appFetch, pageHtml } from "./helpers";
import { makeHealthCheckDue } from "./connections-support";
import { scheduleHealthChecks } from "~/lib/connections/health.server";

const emulator = useEmulator();
const HOUR = 3_600_000;

describe("rate-limit budget per connection", () => {
  it("reads GitHub's x-ratelimit-* headers, shows the budget, and paces deliveries before GitHub would refuse one", async () => {
    // A small primary limit, so the budget runs out within the test (GitHub: 5,000 an hour).
    emulator().setOptions({ rateLimits: { github: { core: { limit: 8, windowMs: HOUR } } } });
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");

    const first = await sendInsight(browser, "Insight 1");
    await settle();
    expect((await deliveriesOf(first))[0]!.status).toBe("succeeded");
    const row = await connectionRow(connectionId);
    expect(row).toMatchObject({ budget_unit: "requests per hour", budget_limit: 8 });
    expect(row.budget_remaining).toBeLessThan(8);
    expect(row.budget_reset_at).toBeGreaterThan(Date.now());
    const page = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(page).toMatch(new RegExp(`${row.budget_remaining} of 8 requests per hour left, resets`));
    expect(page).toContain("5,000 requests per hour per user");

    // Send until the budget is down to what SpokeDo keeps in hand: the next one waits, unsent.
    const sent: string[] = [first];
    for (let n = 2; n <= 10; n++) {
      sent.push(await sendInsight(browser, `Insight ${n}`));
      await settle();
    }
    const refused = emulator()
      .requestsTo("github")
      .filter((request) => request.status === 403 || request.status === 429);
    expect(refused, "GitHub never had to refuse a request").toEqual([]);
    const statuses = (await Promise.all(sent.map(async (id) => (await deliveriesOf(id))[0]!))).map((delivery) => delivery.status);
    const created = emulator().requestsTo("github", "deliver").length;
    expect(statuses.filter((status) => status === "succeeded")).toHaveLength(created);
    expect(statuses.filter((status) => status === "pending").length).toBe(10 - created);
    expect((await connectionRow(connectionId)).budget_remaining).toBeLessThanOrEqual(reserveOf(8));

    const waiting = sent[statuses.indexOf("pending")]!;
    const [attempt] = await attemptsOf(waiting);
    expect(attempt).toMatchObject({ outcome: "retrying", error_class: "rate_limit", sent: 0, http_status: null });
    expect(attempt!.message).toMatch(/^Paced: GitHub reports \d of 8 requests per hour left for this connection until /);
    const [delivery] = await deliveriesOf(waiting);
    const { budget_reset_at: resetAt } = await connectionRow(connectionId);
    expect(delivery!.next_attempt_at).toBeGreaterThanOrEqual(resetAt!);

    // The page says deliveries wait, and until when.
    expect(await pageHtml(await browser.get(`/integration-connections/${connectionId}`))).toContain("Deliveries wait until");

    // The read API reports it too.
    const key = await createApiKey(browser);
    const api = await appFetch("https://spokedo.test/api/v1/connections", { headers: { Authorization: `Bearer ${key}` } });
    const body = await api.json<{ data: { id: string; rateLimit: Record<string, unknown> }[] }>();
    expect(body.data.find((connection) => connection.id === connectionId)!.rateLimit).toMatchObject({
      unit: "requests per hour",
      limit: 8,
      remaining: expect.any(Number) as number,
      pacedUntil: new Date(resetAt!).toISOString(),
    });
  });

  it("a 429 with Retry-After from a provider that reports no budget (Slack) pauses every delivery through the connection", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "slack");
    emulator().failNext("slack", "deliver", { kind: "rate_limited", retryAfterSeconds: 30 });
    const first = await sendInsight(browser, "First");
    await settle();
    expect((await deliveriesOf(first))[0]!.status).toBe("pending");
    const row = await connectionRow(connectionId);
    expect(row.budget_remaining).toBe(0);
    expect(row.budget_limit).toBeNull();
    expect(row.budget_reset_at).toBeGreaterThan(Date.now() + 25_000);
    expect(row.budget_reset_at).toBeLessThanOrEqual(Date.now() + 30_000);

    // Another insight through the same connection: not sent into the same wall.
    const calls = emulator().requestsTo("slack", "deliver").length;
    const second = await sendInsight(browser, "Second");
    const [delivery] = await deliveriesOf(second);
    expect(await processDelivery(await deliveryDeps(), delivery!.id)).toMatchObject({ kind: "later", outcome: "retry" });
    expect(emulator().requestsTo("slack", "deliver")).toHaveLength(calls);
    expect((await attemptsOf(second))[0]!.message).toMatch(/^Paced: Slack asked SpokeDo to slow down for this connection/);
    const page = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(page).toContain("the provider answered 429 (Too Many Requests) and asked SpokeDo to wait");

    // Once the pause is over, both are delivered.
    await settle(Date.now() + 10 * 60_000);
    expect((await deliveriesOf(first))[0]!.status).toBe("succeeded");
    expect((await deliveriesOf(second))[0]!.status).toBe("succeeded");
  });

  it("the scheduled health check records the budget too (Linear: the tighter of requests and complexity)", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "linear");
    await makeHealthCheckDue(connectionId);
    await scheduleHealthChecks(await deliveryDeps(), null);
    const row = await connectionRow(connectionId);
    expect(row.health_outcome).toBe("ok");
    expect(row.budget_unit).toMatch(/^(requests|complexity points) per hour$/);
    expect(row.budget_limit).toBeGreaterThan(0);
    expect(row.budget_observed_at).toBeGreaterThan(Date.now() - 60_000);
  });

  it("reads each provider's documented headers", () => {
    const now = Date.UTC(2026, 11, 6, 12);
    const read = (provider: string, headers: Record<string, string>) => getProvider(provider).rateLimit.read(new Headers(headers), now);
    expect(
      read("github", {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": String(now / 1000 + 3600),
        "x-ratelimit-resource": "core",
      }),
    ).toEqual({ unit: "requests per hour", limit: 5000, remaining: 4999, resetAt: now + HOUR, refill: "at-reset" });
    // The search budget is another one: not the one deliveries spend.
    expect(
      read("github", {
        "x-ratelimit-limit": "30",
        "x-ratelimit-remaining": "3",
        "x-ratelimit-reset": "1",
        "x-ratelimit-resource": "search",
      }),
    ).toBeNull();
    expect(
      read("linear", {
        "X-RateLimit-Requests-Limit": "1200",
        "X-RateLimit-Requests-Remaining": "1100",
        "X-RateLimit-Requests-Reset": String(now + HOUR),
        "X-RateLimit-Complexity-Limit": "200000",
        "X-RateLimit-Complexity-Remaining": "5000",
        "X-RateLimit-Complexity-Reset": String(now + 1000),
      }),
    ).toEqual({ unit: "complexity points per hour", limit: 200000, remaining: 5000, resetAt: now + 1000, refill: "continuous" });
    expect(
      read("trello", {
        "x-rate-limit-api-token-max": "100",
        "x-rate-limit-api-token-remaining": "97",
        "x-rate-limit-api-token-interval-ms": "10000",
      }),
    ).toEqual({ unit: "requests per 10 seconds", limit: 100, remaining: 97, resetAt: now + 10_000, refill: "at-reset" });
    expect(read("slack", { "retry-after": "3" })).toBeNull();
    expect(read("notion", {})).toBeNull();
    expect(read("github", { "x-ratelimit-limit": "garbage" })).toBeNull();
  });

  it("waits for a spent window's reset, for a leaky bucket only until it holds more than the reserve, and for a 429 its Retry-After", () => {
    const now = Date.UTC(2026, 11, 6, 12);
    const facts = (remaining: number, refill: "at-reset" | "continuous", limit = 1200) => ({
      budget_unit: "requests per hour",
      budget_limit: limit,
      budget_remaining: remaining,
      budget_reset_at: now + HOUR,
      budget_observed_at: now,
      budget_refill: refill,
    });
    expect(reserveOf(5000)).toBe(100);
    expect(reserveOf(8)).toBe(1);
    expect(budgetWaitUntil(facts(25, "at-reset"), now), "more than 2 % left").toBeNull();
    expect(budgetWaitUntil(facts(24, "at-reset"), now)).toBe(now + HOUR);
    // Linear refills 1,190 requests over the hour: 15 more (past the reserve of 24) in about 45 s.
    const leaky = budgetWaitUntil(facts(10, "continuous"), now)!;
    expect(leaky - now).toBeGreaterThan(40_000);
    expect(leaky - now).toBeLessThan(50_000);
    expect(budgetWaitUntil(facts(10, "continuous"), leaky + 1), "refilled enough").toBeNull();
    expect(budgetWaitUntil(facts(0, "at-reset"), now + HOUR), "the window has reset").toBeNull();

    const reported = (remaining: number) => ({
      unit: "requests per hour",
      limit: 5000,
      remaining,
      resetAt: now + HOUR,
      refill: "at-reset" as const,
    });
    // A secondary limit: the primary budget is fine, so only the Retry-After counts.
    expect(pausedColumns(facts(4000, "at-reset", 5000), reported(4000), 60_000, now)).toMatchObject({
      budget_remaining: 0,
      budget_reset_at: now + 60_000,
    });
    // The primary budget ran out: wait for its reset.
    expect(pausedColumns(facts(0, "at-reset", 5000), reported(0), 60_000, now)).toMatchObject({
      budget_remaining: 0,
      budget_reset_at: now + HOUR,
    });
    // No budget reported (Slack, Notion): the Retry-After, the last known limit kept.
    expect(pausedColumns(facts(3, "at-reset", 100), null, 2_000, now)).toMatchObject({ budget_limit: 100, budget_reset_at: now + 2_000 });
  });
});
