import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmulator, grantFor, installEmulatorFetch, type Emulator } from "../emulator";

// Faults for chaos and load tests (dropped connections after commit, stalled bodies, seeded
// random chaos) and the per-token rate-limit budgets with the headers providers send.

const EMU = "https://emu.test";
let emu: Emulator;
let uninstall: (() => void) | undefined;
beforeEach(() => {
  emu = createEmulator({ origin: EMU, appOrigin: "https://spokedo.test" });
});
afterEach(() => uninstall?.());

const gh = (token: string) => ({ Authorization: `Bearer ${token}`, "User-Agent": "spokedo-test", "Content-Type": "application/json" });
const createIssue = (token: string, title = "x", init: RequestInit = {}) =>
  fetch(`${EMU}/github/api/repos/octocat/hello-world/issues`, {
    method: "POST",
    body: JSON.stringify({ title }),
    headers: gh(token),
    ...init,
  });

describe("connection faults", () => {
  it("drop_after_commit: the issue is created, then fetch rejects with a network error", async () => {
    uninstall = installEmulatorFetch(emu);
    const { accessToken } = await grantFor(emu, "github");
    emu.failNext("github", "deliver", { kind: "drop_after_commit" });
    const error = await createIssue(accessToken, "committed").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("Network connection lost.");
    expect(emu.created).toMatchObject([{ provider: "github", kind: "issue", payload: { title: "committed" } }]);
    expect(emu.requestsTo("github", "deliver")).toMatchObject([{ status: 201, faults: ["drop_after_commit"] }]);
    // The next attempt goes through: a second issue, which a look-up must catch.
    expect((await createIssue(accessToken, "committed")).status).toBe(201);
  });

  it("slow_body: headers at once, the body stalls; the caller's signal ends the wait", async () => {
    uninstall = installEmulatorFetch(emu);
    const { accessToken } = await grantFor(emu, "github");
    emu.failNext("github", "deliver", { kind: "slow_body", delayMs: 5000 });
    const started = Date.now();
    const response = await createIssue(accessToken, "stalled", { signal: AbortSignal.timeout(100) });
    expect(response.status).toBe(201);
    expect(response.headers.get("Location")).toContain("/issues/");
    const error = await response.text().catch((e: unknown) => e);
    expect((error as Error).name).toBe("TimeoutError");
    // Well under the 5 s stall: the signal, not the stall, ended it.
    expect(Date.now() - started).toBeLessThan(4500);
    expect(emu.created).toHaveLength(1);

    emu.failNext("github", "deliver", { kind: "slow_body", delayMs: 30 });
    const slow = await createIssue(accessToken, "late");
    expect(await slow.json()).toMatchObject({ title: "late" });
  });
});

describe("seeded chaos", () => {
  async function run(seed: number) {
    const local = createEmulator({ origin: EMU, appOrigin: "https://spokedo.test" });
    const { accessToken } = await grantFor(local, "github");
    local.setChaos({ seed, rate429: 0.1, rate5xx: 0.1, rateSlowBody: 0.05, rateDrop: 0.05, slowBodyMs: 1, retryAfterSeconds: 2 });
    const outcomes: string[] = [];
    for (let i = 0; i < 200; i++) {
      try {
        const response = await local.handle(
          new Request(`${EMU}/github/api/repos/octocat/hello-world/issues`, {
            method: "POST",
            body: JSON.stringify({ title: `n${i}` }),
            headers: gh(accessToken),
          }),
        );
        await response.arrayBuffer();
        outcomes.push(String(response.status));
      } catch {
        outcomes.push("dropped");
      }
    }
    // Identity requests are outside chaos.
    const user = await local.handle(new Request(`${EMU}/github/api/user`, { headers: gh(accessToken) }));
    return { outcomes, userStatus: user.status, local };
  }

  it("is reproducible for a seed, touches only deliver and lookup, and draws about the configured rates", async () => {
    const first = await run(42);
    const again = await run(42);
    const other = await run(7);
    expect(again.outcomes).toEqual(first.outcomes);
    expect(other.outcomes).not.toEqual(first.outcomes);
    expect(first.userStatus).toBe(200);
    const count = (status: string) => first.outcomes.filter((outcome) => outcome === status).length;
    expect(count("403")).toBeGreaterThan(5);
    expect(count("502") + count("503") + count("504")).toBeGreaterThan(5);
    expect(count("dropped")).toBeGreaterThan(0);
    expect(count("201")).toBeGreaterThan(120);
    // Dropped requests were committed: more issues exist than 201s were seen.
    expect(first.local.created.length).toBe(count("201") + count("dropped"));
    expect(first.local.chaosLog().length).toBe(
      200 - count("201") + first.local.chaosLog().filter((entry) => entry.fault === "slow_body").length,
    );
    expect(() => first.local.setChaos({ seed: 1, rate429: 0.8, rate5xx: 0.5 })).toThrow(RangeError);
  });

  it("is driven over the admin API for the Worker mode", async () => {
    const admin = (method: string, body?: unknown) =>
      emu.handle(
        new Request(`${EMU}/__emulator/chaos`, {
          method,
          ...(body ? { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } } : {}),
        }),
      );
    expect((await admin("POST", { seed: 3, rate5xx: 1, providers: ["slack"] })).status).toBe(200);
    const { accessToken } = await grantFor(emu, "slack");
    const posted = await emu.handle(
      new Request(`${EMU}/slack/api/chat.postMessage`, {
        method: "POST",
        body: JSON.stringify({ channel: "C0GENERAL1", text: "x" }),
        headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
      }),
    );
    expect([502, 503, 504]).toContain(posted.status);
    expect(await (await admin("GET")).json()).toMatchObject({
      settings: { seed: 3 },
      drawn: [{ provider: "slack", endpoint: "deliver", fault: "http" }],
    });
    expect((await admin("DELETE")).status).toBe(200);
    expect(emu.chaos).toBeNull();
    expect((await admin("POST", { seed: 1, rate429: 2 })).status).toBe(400);

    // The connection faults and the budgets are reachable over HTTP too.
    const post = (path: string, body: unknown) =>
      emu.handle(
        new Request(`${EMU}/__emulator/${path}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "Content-Type": "application/json" },
        }),
      );
    expect((await post("faults", { provider: "slack", endpoint: "deliver", fault: { kind: "drop_after_commit" } })).status).toBe(200);
    expect((await post("faults", { provider: "slack", endpoint: "lookup", fault: { kind: "slow_body" } })).status).toBe(400);
    await expect(
      emu.handle(
        new Request(`${EMU}/slack/api/chat.postMessage`, {
          method: "POST",
          body: JSON.stringify({ channel: "C0GENERAL1", text: "y" }),
          headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        }),
      ),
    ).rejects.toThrow("Network connection lost.");
    expect(await (await post("rate-limits", { github: { search: { limit: 5, windowMs: 60_000 } } })).json()).toMatchObject({
      enabled: true,
      github: { core: { limit: 5000 }, search: { limit: 5 } },
    });
  });
});

describe("rate-limit budgets", () => {
  it("GitHub: x-ratelimit-* count down per user; an exhausted budget is 403 until the window resets", async () => {
    emu.setRateLimits({ github: { core: { limit: 3, windowMs: 3_600_000 } } });
    const { accessToken } = await grantFor(emu, "github");
    const user = () => emu.handle(new Request(`${EMU}/github/api/user`, { headers: gh(accessToken) }));
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) remaining.push((await user()).headers.get("x-ratelimit-remaining"));
    expect(remaining).toEqual(["2", "1", "0"]);
    const refused = await user();
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("x-ratelimit-used")).toBe("3");
    expect(refused.headers.get("x-ratelimit-resource")).toBe("core");
    const reset = Number(refused.headers.get("x-ratelimit-reset"));
    expect(reset * 1000).toBeGreaterThan(emu.now());
    expect(await refused.json()).toMatchObject({ message: "API rate limit exceeded for user ID 1001." });
    emu.setOptions({ githubRateLimitedStatus: 429 });
    expect((await user()).status).toBe(429);
    emu.advanceTime(3_600_000);
    const fresh = await user();
    expect([fresh.status, fresh.headers.get("x-ratelimit-remaining")]).toEqual([200, "2"]);
    emu.setRateLimits({ enabled: false });
    for (let i = 0; i < 5; i++) expect((await user()).status).toBe(200);
  });

  it("Linear: request and complexity headers; RATELIMITED when the leaky bucket is empty; over 10,000 points is refused", async () => {
    emu.setRateLimits({ linear: { requests: { limit: 2, windowMs: 3_600_000 } } });
    const { accessToken } = await grantFor(emu, "linear");
    const graphql = (query: string) =>
      emu.handle(
        new Request(`${EMU}/linear/api/graphql`, {
          method: "POST",
          body: JSON.stringify({ query }),
          headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        }),
      );
    const first = await graphql("{ viewer { id } }");
    expect(first.headers.get("X-Complexity")).toBe("2");
    expect(first.headers.get("X-RateLimit-Requests-Remaining")).toBe("1");
    expect(first.headers.get("X-RateLimit-Complexity-Limit")).toBe("200000");
    expect(first.headers.get("X-RateLimit-Complexity-Remaining")).toBe("199998");
    await graphql("{ viewer { id } }");
    const limited = await graphql("{ viewer { id } }");
    expect(limited.status).toBe(400);
    expect(await limited.json()).toMatchObject({ errors: [{ extensions: { code: "RATELIMITED" } }] });
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Half the period refills one request of two.
    emu.advanceTime(1_800_000);
    expect((await graphql("{ viewer { id } }")).status).toBe(200);

    emu.setRateLimits({ enabled: false });
    const huge = await graphql("{ teams(first: 250) { nodes { states(first: 100) { nodes { id } } } } }");
    expect(huge.headers.get("X-Complexity")).toBe("27750");
    expect(await huge.json()).toMatchObject({ errors: [{ extensions: { code: "QUERY_TOO_COMPLEX" } }] });
  });

  it("Slack: per-method tiers and per-channel posting answer 429 with Retry-After and ratelimited", async () => {
    // Refills far slower than any test runs, so only advanceTime refills them.
    emu.setRateLimits({
      slack: { tiers: { 2: { perSecond: 1 / 600, burst: 2 } }, postMessagePerChannel: { perSecond: 1 / 100, burst: 2 } },
    });
    const { accessToken } = await grantFor(emu, "slack", { scope: "chat:write,channels:read" });
    const api = (method: string, body: object) =>
      emu.handle(
        new Request(`${EMU}/slack/api/${method}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        }),
      );
    expect((await api("conversations.list", {})).status).toBe(200);
    expect((await api("conversations.list", {})).status).toBe(200);
    const limited = await api("conversations.list", {});
    expect([limited.status, limited.headers.get("Retry-After")]).toEqual([429, "600"]);
    expect(await limited.json()).toEqual({ ok: false, error: "ratelimited" });
    await api("chat.postMessage", { channel: "C0GENERAL1", text: "1" });
    await api("chat.postMessage", { channel: "C0GENERAL1", text: "2" });
    expect((await api("chat.postMessage", { channel: "C0GENERAL1", text: "3" })).status).toBe(429);
    // Another channel has its own budget.
    expect((await api("chat.postMessage", { channel: "C0ALERTS01", text: "4" })).status).toBe(200);
    emu.advanceTime(100_000);
    expect((await api("chat.postMessage", { channel: "C0GENERAL1", text: "5" })).status).toBe(200);
  });

  it("Notion answers 429 rate_limited with Retry-After; Trello sends x-rate-limit-* headers and 429 JSON", async () => {
    emu.setRateLimits({ notion: { perSecond: 1 / 100, burst: 2 }, trello: { token: { limit: 2, windowMs: 3_600_000 } } });
    const notion = await grantFor(emu, "notion");
    const me = () =>
      emu.handle(
        new Request(`${EMU}/notion/v1/users/me`, {
          headers: { Authorization: `Bearer ${notion.accessToken}`, "Notion-Version": "2022-06-28" },
        }),
      );
    await me();
    await me();
    const limited = await me();
    expect([limited.status, limited.headers.get("Retry-After")]).toEqual([429, "100"]);
    expect(await limited.json()).toMatchObject({ object: "error", status: 429, code: "rate_limited" });

    const trello = await grantFor(emu, "trello");
    const board = () =>
      emu.handle(new Request(`${EMU}/trello/api/1/boards/5e1b00000000000000000001?key=emu-trello-key&token=${trello.accessToken}`));
    const first = await board();
    expect(Object.fromEntries([...first.headers].filter(([name]) => name.startsWith("x-rate-limit")))).toEqual({
      "x-rate-limit-api-key-interval-ms": "10000",
      "x-rate-limit-api-key-max": "300",
      "x-rate-limit-api-key-remaining": "299",
      "x-rate-limit-api-token-interval-ms": "3600000",
      "x-rate-limit-api-token-max": "2",
      "x-rate-limit-api-token-remaining": "1",
    });
    await board();
    const refused = await board();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" });
    emu.advanceTime(3_600_000);
    expect((await board()).status).toBe(200);
  });
});
