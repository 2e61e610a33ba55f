import { describe, expect, it } from "vitest";
import type { Provider } from "../emulator";
import { connect, useEmulator } from "./connections-support";
import { type Browser, countRows, database, pageHtml, signedUpUser } from "./helpers";

const emulator = useEmulator();

async function createIntent(browser: Browser, name: string, connectionId: string, enabled = true) {
  const response = await browser.post("/intents/new", { name, connectionId, ...(enabled ? { enabled: "on" } : {}) });
  expect(response.status, await response.clone().text()).toBe(303);
  return response.headers.get("Location")!.split("/").pop()!;
}

async function intentRow(id: string) {
  return database().selectFrom("intents").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** Per provider: connection defaults, one override, and what the intent then delivers with. */
const MATRIX: Record<
  Provider,
  { defaults: Record<string, string>; override: [string, string]; effective: Record<string, "intent" | "connection"> }
> = {
  github: {
    defaults: { "config.repository": "octocat/hello-world", "config.labels": "insight", "config.assignee": "octocat" },
    override: ["repository", "octocat/spokedo-inbox"],
    effective: { repository: "intent", labels: "connection", assignee: "connection" },
  },
  slack: {
    defaults: { "config.channel": "#general", "config.username": "SpokeDo" },
    override: ["channel", "#alerts"],
    effective: { channel: "intent", username: "connection" },
  },
  notion: {
    defaults: {
      "config.databaseId": "d8000000000040008000000000000001",
      "config.propertyMappings[0].key": "Status",
      "config.propertyMappings[0].value": "Inbox",
    },
    override: ["databaseId", "d8000000000040008000000000000003"],
    effective: { databaseId: "intent", propertyMappings: "connection" },
  },
  linear: {
    defaults: { "config.teamId": "7e000000-0000-4000-8000-000000000001" },
    override: ["stateId", "5a000000-0000-4000-8000-000000000001"],
    effective: { teamId: "connection", stateId: "intent" },
  },
  trello: {
    defaults: { "config.boardId": "5e1b00000000000000000001", "config.listId": "5e1c00000000000000000001" },
    override: ["listId", "5e1c00000000000000000002"],
    effective: { boardId: "connection", listId: "intent" },
  },
};

describe("intents inherit the connection's defaults and override field by field", () => {
  it.each(Object.keys(MATRIX) as Provider[])("%s", async (provider) => {
    const { browser } = await signedUpUser();
    const { id: connectionId } = await connect(browser, emulator(), provider, `${provider}-main`);
    const { defaults, override, effective } = MATRIX[provider];
    expect(
      (await browser.post(`/integration-connections/${connectionId}/settings`, { intent: "save", name: `${provider}-main`, ...defaults }))
        .status,
    ).toBe(303);

    const intentId = await createIntent(browser, `${provider}-intent`, connectionId!);
    let html = await pageHtml(await browser.get(`/intents/${intentId}`));
    expect(html).not.toContain("overridden by this intent");

    const [field, value] = override;
    const saved = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: `${provider}-intent`,
      connectionId: connectionId!,
      enabled: "on",
      [`overrides.${field}`]: value,
    });
    expect(saved.status).toBe(303);
    expect(JSON.parse((await intentRow(intentId)).overrides_json)).toEqual({ [field]: value });

    html = await pageHtml(await browser.get(`/intents/${intentId}`));
    for (const [name, source] of Object.entries(effective)) {
      const text = source === "intent" ? "overridden by this intent" : "inherited from the connection";
      expect(html, name).toMatch(new RegExp(`source--${source}">${text}`));
    }

    // Clearing the override goes back to inheriting.
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: `${provider}-intent`,
      connectionId: connectionId!,
      enabled: "on",
      [`overrides.${field}`]: "",
    });
    expect((await intentRow(intentId)).overrides_json).toBe("{}");
    html = await pageHtml(await browser.get(`/intents/${intentId}`));
    expect(html).not.toContain("overridden by this intent");
  });
});

describe("intent forms", () => {
  it("validates names, refuses duplicates and another workspace's connection", async () => {
    const { browser } = await signedUpUser();
    const { id: connectionId } = await connect(browser, emulator(), "github", "github-main");
    await createIntent(browser, "triage-bugs", connectionId!);
    const duplicate = await browser.post("/intents/new", { name: "triage-bugs", connectionId: connectionId! });
    expect(duplicate.status).toBe(400);
    expect(await duplicate.text()).toContain("already has an intent named triage-bugs");
    const badName = await browser.post("/intents/new", { name: "Triage Bugs", connectionId: connectionId! });
    expect(badName.status).toBe(400);

    const other = await signedUpUser();
    const foreign = await other.browser.post("/intents/new", { name: "steal", connectionId: connectionId! });
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toContain("Choose one of this workspace");
    expect(await countRows("intents" as never)).toBe(1);
  });

  it("rejects invalid overrides next to their field and writes nothing", async () => {
    const { browser } = await signedUpUser();
    const { id: connectionId } = await connect(browser, emulator(), "github", "github-main");
    const intentId = await createIntent(browser, "triage", connectionId!);
    const response = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "triage",
      connectionId: connectionId!,
      "overrides.repository": "not a repo",
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Use owner/name, like octocat/hello-world.");
    expect((await intentRow(intentId)).overrides_json).toBe("{}");
  });

  it("repoints to another connection of the same provider keeping overrides", async () => {
    const { browser } = await signedUpUser();
    const a = (await connect(browser, emulator(), "slack", "slack-a")).id!;
    const b = (await connect(browser, emulator(), "slack", "slack-b")).id!;
    const intentId = await createIntent(browser, "alerts", a);
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "alerts",
      connectionId: b,
      enabled: "on",
      "overrides.channel": "#alerts",
    });
    expect(await intentRow(intentId)).toMatchObject({ connection_id: b, overrides_json: JSON.stringify({ channel: "#alerts" }) });
  });

  it("repointing to another provider re-validates overrides and drops those it has no field for", async () => {
    const { browser } = await signedUpUser();
    const github = (await connect(browser, emulator(), "github", "github-main")).id!;
    const slack = (await connect(browser, emulator(), "slack", "slack-main")).id!;
    const intentId = await createIntent(browser, "notify", github);
    await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "notify",
      connectionId: github,
      enabled: "on",
      "overrides.repository": "octocat/hello-world",
    });
    const response = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "notify",
      connectionId: slack,
      enabled: "on",
      "overrides.repository": "octocat/hello-world",
      "overrides.channel": "#alerts",
    });
    const page = await pageHtml(await browser.get(response.headers.get("Location")!));
    expect(page).toContain("now delivers through slack-main. Dropped overrides Slack has no field for: repository.");
    expect(await intentRow(intentId)).toMatchObject({ connection_id: slack, overrides_json: JSON.stringify({ channel: "#alerts" }) });

    const invalid = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "notify",
      connectionId: slack,
      "overrides.channel": "not a channel",
    });
    expect(invalid.status).toBe(400);
  });

  it("disables and deletes an intent", async () => {
    const { browser } = await signedUpUser();
    const connectionId = (await connect(browser, emulator(), "trello", "trello-main")).id!;
    const intentId = await createIntent(browser, "cards", connectionId);
    await browser.post(`/intents/${intentId}`, { intent: "save", name: "cards", connectionId });
    expect((await intentRow(intentId)).enabled).toBe(0);
    // Deleting asks first, on a page of its own.
    const confirm = await pageHtml(await browser.get(`/intents/${intentId}/delete`));
    expect(confirm).toContain("Delete cards?");
    expect(confirm).toContain(`href="/intents/${intentId}">Cancel</a>`);
    const deleted = await browser.post(`/intents/${intentId}/delete`, {});
    expect(deleted.headers.get("Location")).toBe("/intents");
    expect(await countRows("intents" as never)).toBe(0);
  });

  it("answers 404 for another workspace's intent on every route and action", async () => {
    const { browser } = await signedUpUser();
    const connectionId = (await connect(browser, emulator(), "github", "github-main")).id!;
    const intentId = await createIntent(browser, "private", connectionId);
    const mallory = await signedUpUser();
    expect((await mallory.browser.get(`/intents/${intentId}`)).status).toBe(404);
    expect((await mallory.browser.post(`/intents/${intentId}`, { intent: "save", name: "stolen", connectionId })).status).toBe(404);
    expect((await mallory.browser.get(`/intents/${intentId}/delete`)).status).toBe(404);
    expect((await mallory.browser.post(`/intents/${intentId}/delete`, {})).status).toBe(404);
    expect(await intentRow(intentId)).toMatchObject({ name: "private" });
  });
});

describe("repoint all intents from a connection, then delete it", () => {
  it("moves every dependent intent to another connection of the same provider", async () => {
    const { browser } = await signedUpUser();
    const old = (await connect(browser, emulator(), "github", "github-old")).id!;
    const fresh = (await connect(browser, emulator(), "github", "github-new")).id!;
    const slack = (await connect(browser, emulator(), "slack", "slack-main")).id!;
    await createIntent(browser, "one", old);
    await createIntent(browser, "two", old);

    const detail = await pageHtml(await browser.get(`/integration-connections/${old}`));
    expect(detail).toContain("Move all of them to");
    expect(detail).toContain(">github-new</option>");
    expect(detail).not.toContain(">slack-main</option>");

    const wrong = await browser.post(`/integration-connections/${old}`, { intent: "repoint-intents", targetConnectionId: slack });
    expect(await pageHtml(await browser.get(wrong.headers.get("Location")!))).toContain(
      "Intents can only move to another GitHub connection.",
    );
    expect((await browser.post(`/integration-connections/${old}/delete`, {})).status).toBe(303);
    expect(await countRows("connections" as never)).toBe(3);

    const moved = await browser.post(`/integration-connections/${old}`, { intent: "repoint-intents", targetConnectionId: fresh });
    expect(await pageHtml(await browser.get(moved.headers.get("Location")!))).toContain(
      "Moved 2 intents; this connection can now be deleted.",
    );
    const rows = await database().selectFrom("intents").select("connection_id").execute();
    expect(rows.every((row) => row.connection_id === fresh)).toBe(true);

    await browser.post(`/integration-connections/${old}/delete`, {});
    expect(await countRows("connections" as never)).toBe(2);
  });
});

describe("scope pre-flight", () => {
  it("warns on the intent, with a one-click Re-authorize, when the connection lacks a scope the intent's config needs", async () => {
    const { browser } = await signedUpUser();
    const { id: slackId } = await connect(browser, emulator(), "slack", "slack-main");
    const saved = await browser.post(`/integration-connections/${slackId!}/settings`, {
      intent: "save",
      name: "slack-main",
      "config.channel": "#alerts",
      "config.username": "Ops bot",
    });
    expect(saved.status).toBe(303);
    const intentId = await createIntent(browser, "alerts", slackId!);

    // Granted everything SpokeDo asks for: no warning.
    expect(await pageHtml(await browser.get(`/intents/${intentId}`))).not.toContain("was not granted");

    // The workspace admin removed chat:write.customize from the app: posting as "Ops bot" needs it.
    await database()
      .updateTable("connections")
      .set({ scopes: "chat:write,chat:write.public,channels:history" })
      .where("id", "=", slackId!)
      .execute();
    const page = await pageHtml(await browser.get(`/intents/${intentId}`));
    expect(page).toContain("slack-main was not granted what this intent needs");
    expect(page).toMatch(/posting under a custom name: needs\s*<span><code>chat:write\.customize<\/code><\/span>/);
    expect(page).toContain(`action="/integration-connections/${slackId!}"`);
    expect(page).toContain("Re-authorize slack-main with Slack");

    // Without a custom name the intent needs nothing more.
    await browser.post(`/integration-connections/${slackId!}/settings`, {
      intent: "save",
      name: "slack-main",
      "config.channel": "#alerts",
    });
    expect(await pageHtml(await browser.get(`/intents/${intentId}`))).not.toContain("was not granted");
  });

  it("names any scope that would do, and says nothing for a connection that reports no scopes", async () => {
    const { browser } = await signedUpUser();
    const { id: linearId } = await connect(browser, emulator(), "linear", "linear-main");
    const intentId = await createIntent(browser, "triage", linearId!);
    await database().updateTable("connections").set({ scopes: "read" }).where("id", "=", linearId!).execute();
    expect(await pageHtml(await browser.get(`/intents/${intentId}`))).toMatch(
      /creating issues: needs\s*<span><code>issues:create<\/code><\/span><span> or <code>write<\/code><\/span>/,
    );
    await database().updateTable("connections").set({ scopes: "" }).where("id", "=", linearId!).execute();
    expect(await pageHtml(await browser.get(`/intents/${intentId}`))).not.toContain("was not granted");
  });
});
