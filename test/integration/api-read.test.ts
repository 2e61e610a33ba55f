import { describe, expect, it } from "vitest";
import { connect, useEmulator } from "./connections-support";
import { createApiKey, deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { appFetch } from "./helpers";

const emulator = useEmulator();

function get(path: string, key?: string) {
  return appFetch(`https://spokedo.test${path}`, { headers: { Host: "spokedo.test", ...(key ? { Authorization: `Bearer ${key}` } : {}) } });
}

interface ConnectionJson {
  id: string;
  name: string;
  provider: string;
  status: string;
  disabled: boolean;
  account: { label: string };
  health: { checkedAt: string | null; outcome: string | null; nextCheckAt: string | null };
  expiry: { accessTokenExpiresAt: string | null };
}
interface ListJson {
  data: ConnectionJson[];
  nextCursor: string | null;
  next: string | null;
}

describe("GET /api/v1/connections", () => {
  it("answers 401 with a Bearer challenge without a valid key", async () => {
    for (const key of [undefined, "spk_not-a-real-key-at-all"]) {
      const response = await get("/api/v1/connections", key);
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain("Bearer");
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("lists the workspace's connections with status, health and expiry, a page at a time, never a token", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    await connect(browser, emulator(), "slack", "slack-alerts");
    await connect(browser, emulator(), "linear", "linear-triage");
    const key = await createApiKey(browser);

    const first = await get("/api/v1/connections?limit=2", key);
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    const firstPage = await first.json<ListJson>();
    expect(firstPage.data.map((c) => c.name)).toEqual(["github-main", "linear-triage"]);
    expect(firstPage.data[0]).toMatchObject({
      provider: "github",
      status: "active",
      disabled: false,
      account: { label: expect.any(String) as string },
    });
    expect(firstPage.data[0]!.health.nextCheckAt).not.toBeNull();
    expect(firstPage.nextCursor).toEqual(expect.any(String));

    const second = await (await get(`/api/v1/connections?limit=2&cursor=${firstPage.nextCursor}`, key)).json<ListJson>();
    expect(second.data.map((c) => c.name)).toEqual(["slack-alerts"]);
    expect(second).toMatchObject({ nextCursor: null, next: null });

    const everything = JSON.stringify([firstPage, second]);
    for (const provider of ["github", "slack", "linear"] as const) {
      for (const token of emulator().tokens(provider)) {
        expect(everything).not.toContain(token.accessToken);
        if (token.refreshToken) expect(everything).not.toContain(token.refreshToken);
      }
    }
    expect(everything).not.toMatch(/_ct|v1\.test\d\./);

    const onlySlack = await (await get("/api/v1/connections?provider=slack", key)).json<ListJson>();
    expect(onlySlack.data.map((c) => c.name)).toEqual(["slack-alerts"]);
    const revoked = await (await get("/api/v1/connections?status=revoked", key)).json<ListJson>();
    expect(revoked.data).toEqual([]);
  });

  it("answers 400 with one message per field for bad parameters, and never shows another workspace's connections", async () => {
    const { browser } = await deliveringSetup(emulator(), "trello");
    const key = await createApiKey(browser);
    const bad = await get("/api/v1/connections?limit=0&status=broken&provider=myspace&cursor=%%%", key);
    expect(bad.status).toBe(400);
    const body = await bad.json<{ error: { code: string; fields: Record<string, string[]> } }>();
    expect(body.error.code).toBe("validation_failed");
    expect(Object.keys(body.error.fields).sort()).toEqual(["limit", "provider", "status"]);
    const badCursor = await get("/api/v1/connections?cursor=bm90LW91cnM", key);
    expect(badCursor.status).toBe(400);
    expect(await badCursor.json()).toMatchObject({ error: { fields: { cursor: [expect.stringContaining("cursor")] } } });

    const other = await deliveringSetup(emulator(), "notion");
    const otherKey = await createApiKey(other.browser);
    const theirs = await (await get("/api/v1/connections", otherKey)).json<ListJson>();
    expect(theirs.data.map((c) => c.provider)).toEqual(["notion"]);
  });
});

describe("GET /api/v1/insights/:id", () => {
  it("gives each delivery's status and its integration log", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    emulator().failNext("github", "deliver", { kind: "http", status: 502 });
    const insightId = await sendInsight(browser, "Disk almost full", "db-1 is at 93%");
    await settle(Date.now() + 60 * 60_000);
    const key = await createApiKey(browser);

    const response = await get(`/api/v1/insights/${insightId}`, key);
    expect(response.status).toBe(200);
    const insight = await response.json<{
      id: string;
      url: string;
      title: string;
      summary: Record<string, number>;
      deliveries: {
        status: string;
        intent: { name: string };
        itemUrl: string | null;
        log: { outcome: string; httpStatus: number | null }[];
      }[];
    }>();
    expect(insight).toMatchObject({
      id: insightId,
      url: `https://spokedo.test/insights/${insightId}`,
      title: "Disk almost full",
      summary: { deliveries: 1, pending: 0, held: 0, failed: 0 },
    });
    expect(insight.deliveries).toHaveLength(1);
    expect(insight.deliveries[0]).toMatchObject({
      status: "succeeded",
      intent: { name: "github-intent" },
      itemUrl: expect.any(String) as string,
    });
    expect(insight.deliveries[0]!.log.map((entry) => [entry.outcome, entry.httpStatus])).toEqual([
      ["retrying", 502],
      ["succeeded", null],
    ]);
  });

  it("answers 404 for an unknown insight and for another workspace's", async () => {
    const mine = await deliveringSetup(emulator(), "slack");
    const insightId = await sendInsight(mine.browser);
    const other = await deliveringSetup(emulator(), "github");
    const otherKey = await createApiKey(other.browser);
    for (const id of [insightId, "no-such-insight", "x".repeat(100)]) {
      const response = await get(`/api/v1/insights/${id}`, otherKey);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "insight_not_found" } });
    }
    expect((await get(`/api/v1/insights/${insightId}?page=zero`, await createApiKey(mine.browser))).status).toBe(400);
  });
});
