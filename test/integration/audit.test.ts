import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { pruneAuditEvents } from "~/lib/audit/trail.server";
import { submitConsent } from "../emulator";
import { connect, connectedUser, connectionRow, flashAfter, returnToApp, storedTokens, useEmulator } from "./connections-support";
import { createApiKey, DEFAULTS } from "./deliveries-support";
import { appFetch, type Browser, database, ORIGIN, pageHtml, signedUpUser } from "./helpers";
import { endpointFor } from "./webhooks-support";

// The audit trail (issue 11, item 1; decision 027): every change a person or an API key makes,
// with who, what, when, from where and the before/after of non-secret settings; shown per
// connection and per workspace (filtered, paged), exported as CSV and JSON Lines, append-only.

const emulator = useEmulator();

function trailOf(workspaceId: string) {
  return database().selectFrom("audit_events").selectAll().where("workspace_id", "=", workspaceId).orderBy("seq").execute();
}

async function reauthorize(browser: Browser, path: string, account?: string | number) {
  const start = await browser.post(path, { intent: "reauthorize" });
  expect(start.status).toBe(303);
  const callback = await submitConsent(emulator(), start.headers.get("Location")!, account === undefined ? {} : { account });
  return returnToApp(browser, callback);
}

/** A form POST as Cloudflare would hand it over, with the request's country in `cf`. */
function postFrom(browser: Browser, country: string, path: string, form: Record<string, string>) {
  return appFetch(`${ORIGIN}${path}`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams(form),
    headers: {
      Host: new URL(ORIGIN).host,
      Cookie: browser.cookieHeader(),
      "Content-Type": "application/x-www-form-urlencoded",
      "Sec-Fetch-Site": "same-origin",
      Origin: ORIGIN,
    },
    cf: { country },
  });
}

describe("every change is recorded with who, what and before/after", () => {
  it("connections: connect, settings, test, disable/enable, re-authorize, switch or keep an account, repoint, delete", async () => {
    const alice = await connectedUser(emulator(), "github");
    const { browser, path, id, workspaceId } = alice;
    await browser.post(`${path}/settings`, { intent: "save", name: "github-main", ...DEFAULTS.github });
    await browser.post(`${path}/settings`, { intent: "save", name: "github-work", ...DEFAULTS.github });
    await browser.post(path, { intent: "test" });
    await browser.post(path, { intent: "disable" });
    await browser.post(path, { intent: "enable" });
    await reauthorize(browser, path);
    await reauthorize(browser, path, 1002);
    await browser.post(path, { intent: "confirm-account" });
    await reauthorize(browser, path, 1001);
    await browser.post(path, { intent: "cancel-account" });
    const other = await connect(browser, emulator(), "github", "github-spare");
    await browser.post("/intents/new", { name: "bugs", connectionId: id, enabled: "on" });
    await browser.post(path, { intent: "repoint-intents", targetConnectionId: other.id! });
    await browser.post(`${path}/delete`, {});

    const trail = await trailOf(workspaceId);
    const forConnection = trail.filter((event) => event.object_id === id);
    expect(forConnection.map((event) => event.action)).toEqual([
      "connection.connected",
      "connection.settings_changed",
      "connection.settings_changed",
      "connection.tested",
      "connection.disabled",
      "connection.enabled",
      "connection.reauthorized",
      "connection.account_switched",
      "connection.account_kept",
      "connection.intents_moved",
      "connection.deleted",
    ]);
    for (const event of trail) {
      expect(event).toMatchObject({ actor_type: "user", actor_id: alice.user.id, actor_label: alice.email });
      expect(event.at).toBeGreaterThan(Date.now() - 60_000);
    }
    const [connected, firstSave, rename] = forConnection;
    expect(connected!.detail).toBe("GitHub account octocat.");
    expect(JSON.parse(firstSave!.changes_json!)).toEqual({
      repository: [null, "octocat/hello-world"],
      labels: [null, ["insight"]],
      assignee: [null, "octocat"],
    });
    expect(JSON.parse(rename!.changes_json!)).toEqual({ name: ["github-main", "github-work"] });
    expect(JSON.parse(forConnection[7]!.changes_json!)).toEqual({ account: ["octocat", "hubot"] });
    expect(forConnection[8]!.detail).toContain("Kept hubot; discarded octocat.");
    expect(forConnection[9]!.detail).toBe("Moved 1 intent to github-spare.");
    expect(forConnection.at(-1)!.detail).toContain("was revoked at GitHub");
    expect(trail.find((event) => event.action === "intent.created")).toMatchObject({ object_label: "bugs" });
  });

  it("intents, insights, API keys (and what a key does), members, roles, webhooks and the workspace name", async () => {
    const alice = await connectedUser(emulator(), "github");
    const { browser, id, workspaceId } = alice;
    await browser.post(`${alice.path}/settings`, { intent: "save", name: "github-main", ...DEFAULTS.github });
    const created = await browser.post("/intents/new", { name: "bugs", connectionId: id, enabled: "on" });
    const intentId = created.headers.get("Location")!.split("/").pop()!;
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "bugs",
      connectionId: id,
      enabled: "on",
      "overrides.labels": "bug",
    });
    const key = await createApiKey(browser, "ci");
    const sent = await appFetch(`${ORIGIN}/api/v1/insights`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "From CI", body: "Build failed." }),
    });
    expect(sent.status).toBe(202);
    await browser.post("/insights/new", { title: "By hand", body: "Look at this." });
    const keyRow = await database().selectFrom("api_keys").select("id").where("workspace_id", "=", workspaceId).executeTakeFirstOrThrow();
    await browser.post("/settings/workspace", { intent: "revoke-key", keyId: keyRow.id, confirmed: "yes" });
    const bob = await signedUpUser();
    await browser.post("/settings/workspace", { intent: "add-member", email: bob.email, role: "member" });
    await browser.post("/settings/workspace", { intent: "change-role", userId: bob.user.id, role: "admin" });
    await browser.post("/settings/workspace", { intent: "remove-member", userId: bob.user.id, confirmed: "yes" });
    const { id: endpointId, secret } = await endpointFor(browser);
    await browser.post(`/settings/workspace/webhooks/${endpointId}`, [
      ["intent", "save"],
      ["url", "https://alerts.example.org/secret-path?token=abc"],
      ["description", "Renamed"],
      ["events", "connection.status_changed"],
    ]);
    await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "test" });
    await browser.post(`/settings/workspace/webhooks/${endpointId}`, { intent: "delete" });
    const carol = await signedUpUser();
    await browser.post("/settings/workspace", { intent: "add-member", email: carol.email, role: "member" });
    await carol.browser.post("/workspaces/switch", { workspaceId });
    await carol.browser.post("/settings/workspace", { intent: "remove-member", userId: carol.user.id, confirmed: "yes" });
    await browser.post("/settings/workspace", { intent: "rename", name: "Acme Ops" });
    await browser.post(`/intents/${intentId}/delete`, {});

    const trail = await trailOf(workspaceId);
    const actions = trail.map((event) => event.action);
    for (const action of [
      "intent.created",
      "intent.changed",
      "api_key.created",
      "insight.sent",
      "api_key.revoked",
      "member.added",
      "member.role_changed",
      "member.removed",
      "webhook.created",
      "webhook.changed",
      "webhook.tested",
      "webhook.deleted",
      "member.left",
      "workspace.renamed",
      "intent.deleted",
    ]) {
      expect(actions, action).toContain(action);
    }
    expect(trail.find((event) => event.action === "member.left")).toMatchObject({ actor_id: carol.user.id, object_id: carol.user.id });
    const byKey = trail.filter((event) => event.actor_type === "api_key");
    expect(byKey).toHaveLength(1);
    expect(byKey[0]).toMatchObject({ action: "insight.sent", actor_id: keyRow.id, actor_label: "ci", object_label: "From CI" });
    expect(trail.filter((event) => event.action === "insight.sent" && event.actor_type === "user")).toHaveLength(1);
    const changed = (action: string) => JSON.parse(trail.find((event) => event.action === action)!.changes_json!) as unknown;
    expect(changed("intent.changed")).toEqual({ labels: [null, ["bug"]] });
    expect(changed("member.role_changed")).toEqual({ role: ["member", "admin"] });
    expect(changed("workspace.renamed")).toEqual({ name: ["Acme", "Acme Ops"] });
    // A webhook URL may carry a token: the trail keeps its origin only.
    expect(changed("webhook.changed")).toMatchObject({
      url: [expect.stringMatching(/^https:\/\/[^/]+\/…$/), "https://alerts.example.org/…"],
    });
    // Names, settings and a key's public prefix: never a key, a signing secret or a URL's path.
    const recorded = JSON.stringify(trail);
    for (const secretValue of [key, secret, "secret-path", "token=abc", "whsec_"]) expect(recorded).not.toContain(secretValue);
  });

  it("records where from (the request's country) and never a token", async () => {
    const { browser, path, id, workspaceId } = await connectedUser(emulator(), "github");
    expect((await postFrom(browser, "DE", path, { intent: "disable" })).status).toBe(303);
    const [event] = (await trailOf(workspaceId)).filter((row) => row.action === "connection.disabled");
    expect(event!.country).toBe("DE");
    const tokens = await storedTokens(await connectionRow(id));
    expect(JSON.stringify(await trailOf(workspaceId))).not.toContain(tokens.accessToken);
  });

  it("a refused or unchanged action records nothing", async () => {
    const { browser, path, workspaceId } = await connectedUser(emulator(), "github");
    const before = (await trailOf(workspaceId)).length;
    await browser.post(`${path}/settings`, { intent: "save", name: "github-main", "config.repository": "not a repo" });
    await browser.post(`${path}/settings`, { intent: "save", name: "github-main" });
    await browser.post("/settings/workspace", { intent: "rename", name: "Acme" });
    await browser.post(path, { intent: "enable" });
    expect(await trailOf(workspaceId)).toHaveLength(before);
  });
});

/** Fills a workspace's trail directly, in one statement: `count` events a second apart, oldest first. */
async function seedTrail(workspaceId: string, count: number, at = Date.now()) {
  await env.DB.prepare(
    `INSERT INTO audit_events (workspace_id, at, actor_type, actor_id, actor_label, action, object_type, object_id, object_label, changes_json, detail, country)
     WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?2 - 1)
     SELECT ?1, ?3 - (?2 - i) * 1000, 'user',
       CASE i % 2 WHEN 1 THEN 'user-odd' ELSE 'user-even' END,
       CASE i % 2 WHEN 1 THEN 'odd@example.com' ELSE 'even@example.com' END,
       CASE i % 3 WHEN 0 THEN 'intent.changed' ELSE 'connection.tested' END,
       CASE i % 3 WHEN 0 THEN 'intent' ELSE 'connection' END,
       'object-' || (i % 5),
       CASE i WHEN 0 THEN '=HYPERLINK("https://evil.example")' ELSE 'object ' || (i % 5) END,
       CASE i % 3 WHEN 0 THEN json_object('name', json_array('n' || i, 'n' || (i + 1))) ELSE NULL END,
       'event ' || i, 'FR'
     FROM n`,
  )
    .bind(workspaceId, count, at)
    .run();
}

describe("the workspace's audit trail page", () => {
  it("filters by actor, action, kind of object and object, and pages by keyset without gaps or repeats", async () => {
    const alice = await signedUpUser();
    await seedTrail(alice.workspaceId, 130);
    const seen: string[] = [];
    let next: string | null = "/settings/workspace/audit";
    while (next) {
      const html = await pageHtml(await alice.browser.get(next));
      seen.push(...[...html.matchAll(/event (\d+)<\/div>/g)].map((match) => match[1]!));
      next = /href="(\/settings\/workspace\/audit\?[^"]*before=\d+[^"]*)" rel="next"/.exec(html)?.[1]?.replaceAll("&amp;", "&") ?? null;
    }
    expect(seen).toEqual(Array.from({ length: 130 }, (_, index) => String(129 - index)));

    const count = async (query: string) => {
      const html = await pageHtml(await alice.browser.get(`/settings/workspace/audit?${query}`));
      return [...html.matchAll(/event (\d+)<\/div>/g)].map((match) => Number(match[1]));
    };
    expect((await count("actor=user-odd")).every((index) => index % 2 === 1)).toBe(true);
    expect((await count("what=intent.changed")).every((index) => index % 3 === 0)).toBe(true);
    expect((await count("what=connection")).every((index) => index % 3 !== 0)).toBe(true);
    expect((await count("object=object-2&actor=user-even")).every((index) => index % 5 === 2 && index % 2 === 0)).toBe(true);
    expect(await count("what=member.added")).toEqual([]);
    // A filter survives paging: every connection event (i % 3 ≠ 0, 86 of 130) over two pages.
    const first = await pageHtml(await alice.browser.get("/settings/workspace/audit?what=connection"));
    const older = /href="(\/settings\/workspace\/audit\?[^"]*)" rel="next"/.exec(first)![1]!.replaceAll("&amp;", "&");
    expect(older).toContain("what=connection");
    const second = await pageHtml(await alice.browser.get(older));
    const both = [first, second].flatMap((html) => [...html.matchAll(/event (\d+)<\/div>/g)].map((match) => Number(match[1])));
    expect(both).toHaveLength(86);
    expect(both.every((index) => index % 3 !== 0)).toBe(true);
    expect(second).not.toContain('rel="next"');
    const filteredPage = await pageHtml(await alice.browser.get("/settings/workspace/audit?what=intent.changed"));
    expect(filteredPage).toMatch(/<del>n\d+<\/del>/);
  });

  it("the connection page's History shows its latest changes with before/after and links to the filtered trail", async () => {
    const { browser, path, id } = await connectedUser(emulator(), "github");
    await browser.post(`${path}/settings`, { intent: "save", name: "github-main", ...DEFAULTS.github });
    const html = await pageHtml(await browser.get(path));
    const history = html.slice(html.indexOf("<h2>History</h2>"));
    expect(history).toContain("Changed settings");
    expect(history).toContain("repository: (not set) → octocat/hello-world");
    expect(history).toContain(`href="/settings/workspace/audit?object=${id}"`);
    const trail = await pageHtml(await browser.get(`/settings/workspace/audit?object=${id}`));
    expect(trail).toContain("Only <strong>github-main</strong>");
    expect(trail).toContain("Connected");
  });
});

describe("export", () => {
  it("CSV and JSON Lines of the filtered trail, all of it across pages, formulas neutralised, never cached", async () => {
    const alice = await signedUpUser();
    await seedTrail(alice.workspaceId, 1200);
    const csv = await alice.browser.get("/settings/workspace/audit/export?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("Content-Type")).toContain("text/csv");
    expect(csv.headers.get("Content-Disposition")).toMatch(/^attachment; filename="spokedo-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(csv.headers.get("Cache-Control")).toBe("no-store");
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe("seq,at,actor_type,actor_id,actor,country,action,object_type,object_id,object,changes,detail");
    expect(lines).toHaveLength(1201);
    expect(lines.at(-1)).toContain(`"'=HYPERLINK(""https://evil.example"")"`);
    expect(lines[1]).toContain(",FR,connection.tested,");

    const jsonl = await alice.browser.get("/settings/workspace/audit/export?format=jsonl&actor=user-odd");
    expect(jsonl.headers.get("Content-Type")).toContain("application/x-ndjson");
    const records = (await jsonl.text())
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { actor: string; at: string; changes: unknown });
    expect(records).toHaveLength(600);
    expect(records.every((record) => record.actor === "odd@example.com")).toBe(true);
    expect(records.find((record) => record.changes)?.changes).toEqual({ name: [expect.any(String), expect.any(String)] });
  });

  it("members may read the trail but not export it", async () => {
    const alice = await signedUpUser();
    const bob = await signedUpUser();
    await alice.browser.post("/settings/workspace", { intent: "add-member", email: bob.email, role: "member" });
    await bob.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId });
    const page = await pageHtml(await bob.browser.get("/settings/workspace/audit"));
    expect(page).toContain("Added");
    expect(page).toContain(bob.email);
    expect(page).not.toContain("/settings/workspace/audit/export");
    expect((await bob.browser.get("/settings/workspace/audit/export?format=csv")).status).toBe(403);
  });
});

describe("append-only, kept for the retention period", () => {
  it("refuses updates at the database and prunes only what is older than 400 days", async () => {
    const alice = await signedUpUser();
    const now = Date.now();
    await seedTrail(alice.workspaceId, 3, now - 401 * 86_400_000);
    await seedTrail(alice.workspaceId, 2, now - 399 * 86_400_000);
    await expect(
      database().updateTable("audit_events").set({ actor_label: "someone else" }).where("workspace_id", "=", alice.workspaceId).execute(),
    ).rejects.toThrow(/append-only/);
    await pruneAuditEvents(database(), now);
    expect(await trailOf(alice.workspaceId)).toHaveLength(2);
  });
});

describe("sanity", () => {
  it("a flash after a recorded action still reaches the page", async () => {
    const { browser, path } = await connectedUser(emulator(), "github");
    expect(await flashAfter(browser, await browser.post(path, { intent: "disable" }))).toContain("Disabled");
  });
});
