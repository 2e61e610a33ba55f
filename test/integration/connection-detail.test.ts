import { describe, expect, it } from "vitest";
import { submitConsent, type Provider } from "../emulator";
import { connect, connectedUser, connectionRow, flashAfter, returnToApp, storedTokens, useEmulator } from "./connections-support";
import { type Browser, countRows, database, inputTag, pageHtml, signedUpUser } from "./helpers";

const emulator = useEmulator();

function connected(provider: Provider = "github", name = `${provider}-main`) {
  return connectedUser(emulator(), provider, { name });
}

describe("settings", () => {
  // What exists at the emulated providers: saving checks it there.
  const valid: Record<Provider, Record<string, string>> = {
    github: { "config.repository": "octocat/hello-world", "config.labels": "insight, triage", "config.assignee": "octocat" },
    slack: { "config.channel": "#alerts", "config.username": "SpokeDo bot" },
    notion: {
      "config.databaseId": "d8000000-0000-4000-8000-000000000001",
      "config.propertyMappings[0].key": "Status",
      "config.propertyMappings[0].value": "Inbox",
      "config.propertyMappings[1].key": "",
      "config.propertyMappings[1].value": "",
    },
    linear: { "config.teamId": "7e000000-0000-4000-8000-000000000001", "config.stateId": "" },
    trello: { "config.boardId": "5e1b00000000000000000001", "config.listId": "5e1c00000000000000000001" },
  };
  const stored: Record<Provider, Record<string, unknown>> = {
    github: { repository: "octocat/hello-world", labels: ["insight", "triage"], assignee: "octocat" },
    slack: { channel: "#alerts", username: "SpokeDo bot" },
    notion: { databaseId: "d8000000-0000-4000-8000-000000000001", propertyMappings: { Status: "Inbox" } },
    linear: { teamId: "7e000000-0000-4000-8000-000000000001" },
    trello: { boardId: "5e1b00000000000000000001", listId: "5e1c00000000000000000001" },
  };
  const invalid: Record<Provider, [Record<string, string>, string[]]> = {
    github: [
      {
        "config.repository": "not a repo",
        "config.assignee": "-bad-",
        "config.labels": Array.from({ length: 11 }, (_, i) => `l${i}`).join(","),
      },
      ["Use owner/name", "Use a GitHub username", "at most 10 values"],
    ],
    slack: [{ "config.channel": "alerts channel", "config.username": "u".repeat(81) }, ["Use a channel ID", "at most 80 characters"]],
    notion: [
      { "config.databaseId": "xyz", "config.propertyMappings[0].key": "", "config.propertyMappings[0].value": "orphan value" },
      ["Use the database ID", "Every row needs a property name"],
    ],
    linear: [{ "config.teamId": "ENG", "config.stateId": "todo" }, ["Use the team&#x27;s ID", "Use the workflow state&#x27;s ID"]],
    trello: [{ "config.boardId": "board", "config.listId": "12345" }, ["Use the board&#x27;s ID", "Use the list&#x27;s ID"]],
  };

  describe.each(Object.keys(valid) as Provider[])("%s", (provider) => {
    it("saves valid defaults and the name, keeping tokens and status", async () => {
      const { browser, id, path } = await connected(provider);
      const before = await connectionRow(id);
      const response = await browser.post(`${path}/settings`, { intent: "save", name: `${provider}-renamed`, ...valid[provider] });
      expect(await flashAfter(browser, response)).toContain("Settings saved: ");
      expect(
        await flashAfter(
          browser,
          await browser.post(`${path}/settings`, { intent: "save", name: `${provider}-renamed`, ...valid[provider] }),
        ),
      ).toContain("Settings saved.");
      const row = await connectionRow(id);
      expect(JSON.parse(row.drift_json!), "checked with the provider on save").toEqual([]);
      expect(row.name).toBe(`${provider}-renamed`);
      expect(JSON.parse(row.config_json)).toEqual(stored[provider]);
      expect(row.access_token_ct).toBe(before.access_token_ct);
      expect(row.status).toBe("active");
    });

    it("rejects invalid defaults next to their fields with 400 and writes nothing", async () => {
      const { browser, id, path } = await connected(provider);
      const [fields, messages] = invalid[provider];
      const response = await browser.post(`${path}/settings`, { intent: "save", name: `${provider}-main`, ...fields });
      expect(response.status).toBe(400);
      const html = await response.text();
      for (const message of messages) expect(html).toContain(message);
      expect((await connectionRow(id)).config_json).toBe("{}");
    });
  });

  it("refuses a name another connection has", async () => {
    const { browser, path } = await connected("github", "github-a");
    await connect(browser, emulator(), "slack", "slack-b");
    const response = await browser.post(`${path}/settings`, { intent: "save", name: "slack-b" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("already has a connection named slack-b");
  });

  it("re-renders sparse or malformed mapping rows with field errors, never a 500 (found by fuzzing)", async () => {
    const { browser, path } = await connected("notion");
    const submissions: Record<string, string>[] = [
      { "config.propertyMappings[0].value": "" },
      { "config.propertyMappings[3].value": "x" },
      { "config.propertyMappings": "abc" },
    ];
    for (const fields of submissions) {
      const response = await browser.post(`${path}/settings`, { intent: "save", ...fields });
      expect(response.status).toBe(400);
      await response.body?.cancel();
    }
  });

  it("renders Notion mappings as key/value rows with spare rows for adding more", async () => {
    const { browser, path } = await connected("notion");
    await browser.post(`${path}/settings`, { intent: "save", name: "notion-main", ...valid.notion });
    const html = await pageHtml(await browser.get(`${path}/settings`));
    // Property names are chosen from the database's own properties (decision 023).
    expect(html).toMatch(/<select[^>]*name="config.propertyMappings\[0\].key"[^>]*>.*?<option value="Status" selected="">/s);
    expect(inputTag(html, "config.propertyMappings[0].value")).toContain('value="Inbox"');
    expect(html).toMatch(/<select[^>]*name="config.propertyMappings\[2\].key"[^>]*>\s*<option value="" selected="">/);
  });
});

describe("page order", () => {
  it("leads with the status and the defaults, folds the token details, and ends with the danger zone", async () => {
    const { browser, path } = await connected("github");
    const html = await pageHtml(await browser.get(path));
    const order = [
      "<h2>Status</h2>",
      "<h2>Defaults for intents</h2>",
      "<h2>Deliveries</h2>",
      "<h2>Account and tokens</h2>",
      "Danger zone</h2>",
    ].map((heading) => html.indexOf(heading));
    expect(order.every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toMatch(/<details class="token-details"><summary>Token details, scopes and rate limit<\/summary><dl class="facts">/);
    expect(html.indexOf("Delete connection…")).toBeGreaterThan(html.indexOf("Danger zone</h2>"));
  });
});

describe("test connection", () => {
  it("keeps a working connection active", async () => {
    const { browser, path, id } = await connected("slack");
    expect(await flashAfter(browser, await browser.post(path, { intent: "test" }))).toContain("confirmed the connection works");
    expect((await connectionRow(id)).status).toBe("active");
    expect(emulator().requestsTo("slack", "identity").length).toBeGreaterThanOrEqual(2);
  });

  it.each(["github", "slack", "notion", "linear", "trello"] as const)(
    "%s: a token revoked at the provider marks the connection revoked",
    async (provider) => {
      const { browser, path, id } = await connected(provider);
      const row = await connectionRow(id);
      const accountId = emulator().tokens(provider).at(-1)!.accountId;
      await emulator().revokeTokensOf(provider, accountId);
      const refreshes = emulator().requestsTo(provider, "refresh").length;
      const flash = await flashAfter(browser, await browser.post(path, { intent: "test" }));
      // Where a refresh token is held, SpokeDo tries it once before giving up on the connection.
      if (provider === "trello") expect(flash).toContain("Trello no longer accepts the token");
      else expect(flash).toMatch(/refused to refresh the token \(.+\)\. Re-authorize to restore access\./);
      expect(emulator().requestsTo(provider, "refresh").length - refreshes).toBe(provider === "trello" ? 0 : 1);
      const after = await connectionRow(id);
      expect(after.status).toBe("revoked");
      expect(after.status_reason).toContain("Re-authorize");
      expect(after.status_changed_at).toBeGreaterThanOrEqual(row.status_changed_at);
    },
  );

  it("refreshes once when the provider says the token expired early, and the connection stays active", async () => {
    const slack = await connected("slack");
    const before = await connectionRow(slack.id);
    emulator().failNext("slack", "identity", { kind: "expired_token" });
    const flash = await flashAfter(slack.browser, await slack.browser.post(slack.path, { intent: "test" }));
    expect(flash).toContain("Slack confirmed the connection works");
    const after = await connectionRow(slack.id);
    expect(after.status).toBe("active");
    expect(after.token_version).toBe(before.token_version + 1);
    expect(emulator().requestsTo("slack", "refresh")).toHaveLength(1);
  });

  it("marks an expired token expired when it cannot be refreshed (provider says so, or its known expiry passed)", async () => {
    const slack = await connected("slack");
    emulator().failNext("slack", "identity", { kind: "expired_token" });
    emulator().failNext("slack", "refresh", { kind: "invalid_code" });
    await slack.browser.post(slack.path, { intent: "test" });
    expect((await connectionRow(slack.id)).status).toBe("revoked");

    const trello = await connected("trello");
    emulator().failNext("trello", "identity", { kind: "expired_token" });
    await trello.browser.post(trello.path, { intent: "test" });
    expect((await connectionRow(trello.id)).status).toBe("expired");

    // The refresh token's own known expiry passed: the refusal means expired, not revoked.
    const github = await connected("github");
    emulator().expireAccessTokens("github");
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: Date.now() - 1000, refresh_token_expires_at: Date.now() - 1000 })
      .where("id", "=", github.id)
      .execute();
    emulator().failNext("github", "refresh", { kind: "invalid_code" });
    await github.browser.post(github.path, { intent: "test" });
    const row = await connectionRow(github.id);
    expect(row.status).toBe("expired");
    expect(row.status_reason).toContain("The refresh token expired");
  });

  it("marks other provider failures error with the reason, and a later success restores active", async () => {
    const { browser, path, id } = await connected("notion");
    emulator().failNext("notion", "identity", { kind: "http", status: 503, body: "upstream unavailable" });
    const flash = await flashAfter(browser, await browser.post(path, { intent: "test" }));
    expect(flash).toContain("HTTP 503");
    let row = await connectionRow(id);
    expect(row).toMatchObject({ status: "error" });
    expect(row.last_error).toContain("HTTP 503");

    await browser.post(path, { intent: "test" });
    row = await connectionRow(id);
    expect(row).toMatchObject({ status: "active", last_error: null, status_reason: null });
  });

  it("marks rate limits and timeouts error without losing the tokens", async () => {
    const { browser, path, id } = await connected("github");
    const before = await connectionRow(id);
    emulator().failNext("github", "identity", { kind: "rate_limited", retryAfterSeconds: 30 });
    await browser.post(path, { intent: "test" });
    const row = await connectionRow(id);
    expect(row.status).toBe("error");
    expect(row.access_token_ct).toBe(before.access_token_ct);
  });

  it("fails closed when the stored ciphertext belongs to another row or field", async () => {
    const { browser, path, id } = await connected("github", "github-a");
    const other = (await connect(browser, emulator(), "slack", "slack-b")).id!;
    const donor = await connectionRow(other);
    await database().updateTable("connections").set({ access_token_ct: donor.access_token_ct }).where("id", "=", id).execute();
    const flash = await flashAfter(browser, await browser.post(path, { intent: "test" }));
    expect(flash).toContain("could not be decrypted");
    expect((await connectionRow(id)).status).toBe("error");

    const self = await connectionRow(other);
    await database().updateTable("connections").set({ access_token_ct: self.refresh_token_ct! }).where("id", "=", other).execute();
    await browser.post(`/integration-connections/${other}`, { intent: "test" });
    expect((await connectionRow(other)).status).toBe("error");
  });
});

describe("re-authorize", () => {
  async function reauthorize(browser: Browser, path: string, choice: { account?: string | number; decision?: "approve" | "deny" } = {}) {
    const start = await browser.post(path, { intent: "reauthorize" });
    expect(start.status).toBe(303);
    const callback = await submitConsent(emulator(), start.headers.get("Location")!, choice);
    return returnToApp(browser, callback);
  }

  it("replaces the tokens in place: same id, name and config; active again; failure fields cleared", async () => {
    const { browser, path, id } = await connected("github");
    await browser.post(`${path}/settings`, { intent: "save", name: "github-main", "config.repository": "octocat/hello-world" });
    await database()
      .updateTable("connections")
      .set({ status: "revoked", status_reason: "gone", last_error: "Bad credentials", last_error_insight_id: "insight-1" })
      .where("id", "=", id)
      .execute();
    const before = await connectionRow(id);
    const oldTokens = await storedTokens(before);

    const response = await reauthorize(browser, path);
    expect(response.headers.get("Location")).toBe(path);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    const after = await connectionRow(id);
    expect(after).toMatchObject({
      id,
      name: "github-main",
      config_json: before.config_json,
      status: "active",
      status_reason: null,
      last_error: null,
      last_error_insight_id: null,
    });
    expect(after.token_version).toBe(before.token_version + 1);
    const newTokens = await storedTokens(after);
    expect(newTokens.accessToken).not.toBe(oldTokens.accessToken);
    expect(newTokens.accessToken).toBe(emulator().tokens("github").at(-1)!.accessToken);
    expect(await countRows("connections" as never)).toBe(1);
  });

  it.each(["slack", "notion", "linear", "trello"] as const)("%s re-authorizes in place too", async (provider) => {
    const { browser, path, id } = await connected(provider);
    const before = await connectionRow(id);
    const response = await reauthorize(browser, path);
    expect(response.headers.get("Location")).toBe(path);
    const after = await connectionRow(id);
    expect(after.access_token_ct).not.toBe(before.access_token_ct);
    expect((await storedTokens(after)).accessToken).toBe(emulator().tokens(provider).at(-1)!.accessToken);
  });

  it("changes nothing when the user cancels at the provider", async () => {
    const { browser, path, id } = await connected("linear");
    await database().updateTable("connections").set({ status: "expired", status_reason: "expired" }).where("id", "=", id).execute();
    const before = await connectionRow(id);
    const response = await reauthorize(browser, path, { decision: "deny" });
    expect(await flashAfter(browser, response)).toContain("You cancelled the authorization");
    expect(await connectionRow(id)).toEqual(before);
  });

  it("changes nothing when the provider fails the exchange", async () => {
    const { browser, path, id } = await connected("slack");
    const before = await connectionRow(id);
    emulator().failNext("slack", "token", { kind: "invalid_code" });
    const response = await reauthorize(browser, path);
    expect(await flashAfter(browser, response)).toContain("invalid_code");
    expect(await connectionRow(id)).toEqual(before);
  });

  it("stops when the provider returns another account, and switches only after confirmation", async () => {
    const { browser, path, id } = await connected("github");
    const before = await connectionRow(id);
    const response = await reauthorize(browser, path, { account: 1002 });
    expect(response.headers.get("Location")).toBe(path);
    expect(await connectionRow(id)).toEqual(before);
    const page = await pageHtml(await browser.get(path));
    expect(page).toContain("You authorized a different GitHub account");
    expect(page).toContain("hubot");

    const confirmed = await browser.post(path, { intent: "confirm-account" });
    expect(await flashAfter(browser, confirmed)).toContain("now uses the other account");
    const after = await connectionRow(id);
    expect(after).toMatchObject({ id, name: before.name, account_label: "hubot", account_id: "1002", status: "active" });
    expect(await countRows("pending_reauthorizations" as never)).toBe(0);
  });

  it("keeps the current account when the user declines the switch", async () => {
    const { browser, path, id } = await connected("github");
    const before = await connectionRow(id);
    await reauthorize(browser, path, { account: 1002 });
    const kept = await browser.post(path, { intent: "cancel-account" });
    expect(await flashAfter(browser, kept)).toContain("Kept the current account");
    expect(await connectionRow(id)).toEqual(before);
    expect(await countRows("pending_reauthorizations" as never)).toBe(0);
    expect((await browser.post(path, { intent: "confirm-account" })).status).toBe(303);
    expect(await connectionRow(id)).toEqual(before);
  });
});

describe("delete", () => {
  async function addIntent(workspaceId: string, connectionId: string, name: string) {
    const now = Date.now();
    await database()
      .insertInto("intents")
      .values({
        id: crypto.randomUUID(),
        workspace_id: workspaceId,
        connection_id: connectionId,
        name,
        enabled: 1,
        overrides_json: "{}",
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  it("is blocked while intents depend on the connection, showing their count and names", async () => {
    const { browser, path, id, workspaceId } = await connected("github");
    await addIntent(workspaceId, id, "triage-bugs");
    await addIntent(workspaceId, id, "weekly-report");
    const detail = await pageHtml(await browser.get(path));
    expect(detail).toContain("2 intents depend");
    expect(detail).toContain("triage-bugs");

    const page = await pageHtml(await browser.get(`${path}/delete`));
    expect(page).toContain("2 intents depend on this connection");
    expect(page).toContain("weekly-report");
    expect(page).not.toContain("Delete github-main</button>");

    const response = await browser.post(`${path}/delete`, {});
    expect(await flashAfter(browser, response)).toContain("cannot be deleted: 2 intents use it. Repoint or delete them first.");
    expect(await countRows("connections" as never)).toBe(1);
    expect(emulator().requestsTo("github", "revoke")).toHaveLength(0);
  });

  it("deletes after a confirmation step once no intent depends on it, and revokes at the provider", async () => {
    const { browser, path, id, workspaceId } = await connected("github");
    await addIntent(workspaceId, id, "triage-bugs");
    await database().deleteFrom("intents").execute();

    const confirm = await pageHtml(await browser.get(`${path}/delete`));
    expect(confirm).toContain("Delete github-main?");
    const response = await browser.post(`${path}/delete`, {});
    expect(response.headers.get("Location")).toBe("/integration-connections");
    expect(await flashAfter(browser, response)).toContain("Deleted github-main. The token, refresh token included, was revoked at GitHub.");
    expect(await countRows("connections" as never)).toBe(0);
    expect(emulator().requestsTo("github", "revoke")).toHaveLength(1);
    expect(emulator().tokens("github").at(-1)!.revoked).toBe(true);
  });

  it.each(["slack", "notion", "linear", "trello"] as const)("%s: revokes the token when deleting", async (provider) => {
    const { browser, path } = await connected(provider);
    const response = await browser.post(`${path}/delete`, {});
    expect(await flashAfter(browser, response)).toMatch(/The token(, refresh token included,)? was revoked/);
    expect(emulator().tokens(provider).at(-1)!.revoked).toBe(true);
  });

  it("still deletes when the provider's revocation fails, and says so", async () => {
    const { browser, path } = await connected("notion");
    emulator().failNext("notion", "revoke", { kind: "http", status: 500 });
    const response = await browser.post(`${path}/delete`, {});
    const flash = await flashAfter(browser, response);
    expect(flash).toContain("Deleted notion-main.");
    expect(flash).toContain("did not confirm the revocation");
    expect(await countRows("connections" as never)).toBe(0);
  });
});

describe("another workspace's connection", () => {
  it("answers 404 on every route and action, writing nothing", async () => {
    const victim = await connected("github");
    const mallory = await signedUpUser({ workspaceName: "Mallory" });
    const snapshot = async () => ({
      connections: await database().selectFrom("connections").selectAll().execute(),
      flows: await countRows("oauth_flows" as never),
      pending: await countRows("pending_reauthorizations" as never),
    });
    const before = await snapshot();
    const requests = emulator().requests.length;

    expect((await mallory.browser.get(victim.path)).status).toBe(404);
    expect((await mallory.browser.get(`${victim.path}/delete`)).status).toBe(404);
    expect((await mallory.browser.get(`${victim.path}/settings`)).status).toBe(404);
    expect((await mallory.browser.post(`${victim.path}/settings`, { intent: "save", name: "stolen" })).status).toBe(404);
    for (const intent of ["test", "reauthorize", "confirm-account", "cancel-account"]) {
      const response = await mallory.browser.post(victim.path, { intent, name: "stolen" });
      expect(response.status, intent).toBe(404);
    }
    expect((await mallory.browser.post(`${victim.path}/delete`, {})).status).toBe(404);
    expect(await snapshot()).toEqual(before);
    expect(emulator().requests).toHaveLength(requests);
    const index = await (await mallory.browser.get("/integration-connections")).text();
    expect(index).not.toContain("github-main");
  });

  it("answers 404 for ids that do not exist at all", async () => {
    const { browser } = await signedUpUser();
    expect((await browser.get("/integration-connections/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await browser.get(`/integration-connections/${"x".repeat(300)}`)).status).toBe(404);
  });
});
