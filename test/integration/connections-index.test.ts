import { describe, expect, it } from "vitest";
import { runBatch } from "~/lib/platform/db.server";
import type { ConnectionStatus } from "~/lib/platform/schema";
import type { ProviderId } from "~/lib/providers/types";
import { connect, queryCount, roundTrips, useEmulator } from "./connections-support";
import { database, pageHtml, signedUpUser } from "./helpers";

const emulator = useEmulator();
const DAY = 24 * 3600 * 1000;

/** Seeds connections straight into D1 (their tokens are never read by the index). */
async function seed(
  workspaceId: string,
  rows: {
    name: string;
    provider?: ProviderId;
    status?: ConnectionStatus;
    lastUsedAt?: number | null;
    createdAt?: number;
    accountLabel?: string;
  }[],
) {
  const db = database();
  const now = Date.now();
  const inserts = rows.map((row) =>
    db.insertInto("connections").values({
      id: crypto.randomUUID(),
      workspace_id: workspaceId,
      provider: row.provider ?? "github",
      name: row.name,
      status: row.status ?? "active",
      status_reason: null,
      status_changed_at: now,
      account_id: "1",
      account_label: row.accountLabel ?? `${row.name}-account`,
      identity_json: "{}",
      scopes: "",
      access_token_ct: "v1.none.AAAAAAAAAAAAAAAA.AA",
      token_key_id: "none",
      token_version: 1,
      authorized_at: now,
      config_json: "{}",
      created_at: row.createdAt ?? now,
      updated_at: now,
      last_used_at: row.lastUsedAt ?? null,
    }),
  );
  for (let i = 0; i < inserts.length; i += 50) await runBatch(db, inserts.slice(i, i + 50));
}

function names(html: string) {
  return [...html.matchAll(/class="connection-link"[^>]*>.*?<span>([^<]+)<\/span>/g)].map((m) => m[1]);
}

describe("connections index", () => {
  it("leads an empty workspace to /new", async () => {
    const { browser } = await signedUpUser();
    const html = await pageHtml(await browser.get("/integration-connections"));
    expect(html).toContain("No connections yet");
    expect(html).toContain('href="/integration-connections/new"');
  });

  it("lists name, provider, account, status badge, last used ('never' or relative with the exact time) and intent count", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id } = await connect(browser, emulator(), "github", "github-personal");
    await seed(workspaceId, [{ name: "slack-eng", provider: "slack", status: "revoked", lastUsedAt: Date.now() - 3 * DAY }]);
    const now = Date.now();
    const { database } = await import("./helpers");
    await database()
      .insertInto("intents")
      .values({
        id: crypto.randomUUID(),
        workspace_id: workspaceId,
        connection_id: id!,
        name: "triage",
        enabled: 1,
        overrides_json: "{}",
        created_at: now,
        updated_at: now,
      })
      .execute();
    const html = await pageHtml(await browser.get("/integration-connections"));
    expect(names(html)).toEqual(["github-personal", "slack-eng"]);
    expect(html).toContain("octocat");
    expect(html).toContain('class="badge status status--revoked"');
    expect(html).toMatch(/<time dateTime="[^"]+" title="\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC">3 days ago<\/time>/);
    expect(html).toContain('<span class="muted">never</span>');
    expect(html).toMatch(/github-personal[\s\S]*?<td data-label="Intents">1<\/td>/);
  });

  it("filters by provider and status, searches by name or account and sorts", async () => {
    const { browser, workspaceId } = await signedUpUser();
    await seed(workspaceId, [
      { name: "github-personal", provider: "github", lastUsedAt: Date.now() - DAY },
      { name: "github-work", provider: "github", status: "expired", lastUsedAt: Date.now() - 2 * DAY },
      { name: "slack-eng", provider: "slack", status: "error", accountLabel: "Emu Corp" },
      { name: "notion-wiki", provider: "notion", lastUsedAt: Date.now() - 10 * DAY },
      { name: "trello_100%", provider: "trello" },
    ]);
    const list = async (query: string) => names(await pageHtml(await browser.get(`/integration-connections?${query}`)));
    expect(await list("provider=github")).toEqual(["github-personal", "github-work"]);
    expect(await list("status=error")).toEqual(["slack-eng"]);
    expect(await list("q=work")).toEqual(["github-work"]);
    expect(await list("q=emu%20corp"), "the account label too").toEqual(["slack-eng"]);
    expect(await list("q=%25")).toEqual(["trello_100%"]);
    expect(await list("q=_")).toEqual(["trello_100%"]);
    expect(await list("sort=last_used")).toEqual(["github-personal", "github-work", "notion-wiki", "slack-eng", "trello_100%"]);
    expect(await list("sort=status")).toEqual(["slack-eng", "github-work", "github-personal", "notion-wiki", "trello_100%"]);
    // Each combination of filters and sort has its own statement (compiled once per isolate):
    // one never answers for another, whatever ran before it.
    expect(await list("provider=github&status=expired")).toEqual(["github-work"]);
    expect(await list("provider=github&q=personal&sort=last_used")).toEqual(["github-personal"]);
    expect(await list("provider=slack&sort=status")).toEqual(["slack-eng"]);
    expect(await list("provider=github")).toEqual(["github-personal", "github-work"]);
    expect(await list("provider=myspace&status=bogus&sort=nonsense&page=-4")).toHaveLength(5);
    const none = await pageHtml(await browser.get("/integration-connections?q=nothing-like-this"));
    expect(none).toContain("No connection matches");
  });

  it("finds connections not used in 90 days (never-used ones count from their creation)", async () => {
    const { browser, workspaceId } = await signedUpUser();
    await seed(workspaceId, [
      { name: "fresh", lastUsedAt: Date.now() - DAY },
      { name: "stale", lastUsedAt: Date.now() - 120 * DAY },
      { name: "never-used-old", lastUsedAt: null, createdAt: Date.now() - 200 * DAY },
      { name: "never-used-new", lastUsedAt: null },
    ]);
    const html = await pageHtml(await browser.get("/integration-connections?unused=1"));
    expect(names(html)).toEqual(["never-used-old", "stale"]);
  });

  it("pages through 1,200 connections in two round trips: the session, then the switcher with the page and its counts", async () => {
    const { browser, workspaceId } = await signedUpUser();
    await seed(
      workspaceId,
      Array.from({ length: 1200 }, (_, i) => ({
        name: `conn-${String(i).padStart(4, "0")}`,
        provider: (["github", "slack", "notion", "linear", "trello"] as const)[i % 5],
      })),
    );
    const first = await browser.get("/integration-connections");
    const firstHtml = await pageHtml(first);
    expect(firstHtml).toContain("1200 connections");
    // Page numbers: the first ones, a gap, the last; the current one marked for screen readers.
    expect(firstHtml).toMatch(
      /aria-current="page"><span class="visually-hidden">Page <\/span>1<span class="visually-hidden"> of 48<\/span>/,
    );
    for (const page of [2, 3, 48]) expect(firstHtml).toContain(`href="/integration-connections?page=${page}" aria-label="Page ${page}"`);
    expect(firstHtml).not.toContain('aria-label="Page 4"');
    // Stacked on a phone, each cell says which column it is.
    expect(firstHtml).toContain('<td data-label="Account">');
    expect(names(firstHtml)).toHaveLength(25);
    // Session lookup; then the workspace switcher and the count of connections needing attention
    // (root), the page of rows and its count, together.
    expect(queryCount(first)).toBe(5);
    expect(roundTrips(first)).toBe(2);

    const last = await browser.get("/integration-connections?page=10&provider=slack");
    const lastHtml = await pageHtml(last);
    expect(lastHtml).toContain("240 connections match");
    expect(lastHtml).toMatch(
      /aria-current="page"><span class="visually-hidden">Page <\/span>10<span class="visually-hidden"> of 10<\/span>/,
    );
    expect(lastHtml).toContain('href="/integration-connections?provider=slack&amp;page=9" aria-label="Page 9"');
    // A filter is applied: the filters are unfolded on phones too.
    expect(lastHtml).toMatch(/<details class="filters-disclosure card" open="">/);
    expect(names(lastHtml)).toHaveLength(15);
    expect(queryCount(last)).toBe(5);
    expect(roundTrips(last)).toBe(2);

    // Past the end: redirected to the last page, no extra query.
    const beyond = await browser.get("/integration-connections?page=48&provider=slack");
    expect(beyond.status).toBe(302);
    expect(beyond.headers.get("Location")).toBe("/integration-connections?page=10&provider=slack");
    expect(queryCount(beyond)).toBe(5);
  });

  it("the detail page reads in three round trips", async () => {
    const { browser } = await signedUpUser();
    const { id } = await connect(browser, emulator(), "github", "github-personal");
    const response = await browser.get(`/integration-connections/${id}`);
    expect(response.status).toBe(200);
    // The session; then the switcher, the navigation's attention count and the connection; then,
    // together, its dependent intents (and their count), a pending re-authorization, the 30-day
    // delivery history, the latest deliveries, the connections to repoint to, the failed
    // deliveries to offer again and its latest changes from the audit trail.
    expect(queryCount(response)).toBe(12);
    expect(roundTrips(response)).toBe(3);
  });
});

describe("connections needing attention", () => {
  it("opens the index with how many need attention, and puts Reconnect on each revoked or expired row", async () => {
    const { browser, workspaceId } = await signedUpUser();
    await seed(workspaceId, [
      { name: "fine", provider: "github" },
      { name: "gone", provider: "slack", status: "revoked" },
      { name: "stale", provider: "linear", status: "expired" },
      { name: "broken", provider: "notion", status: "error" },
    ]);
    const html = await pageHtml(await browser.get("/integration-connections"));
    expect(html).toContain("3 connections need attention");
    expect(html, "the navigation shows the count on every page").toMatch(/Connections<span class="nav-count"[^>]*>3</);
    expect(await pageHtml(await browser.get("/intents"))).toMatch(/class="nav-count"[^>]*>3</);
    expect(html).toContain('aria-label="Reconnect gone"');
    expect(html).toContain('aria-label="Reconnect stale"');
    expect(html).not.toContain('aria-label="Reconnect broken"');
    expect(html).not.toContain('aria-label="Reconnect fine"');
  });
});
