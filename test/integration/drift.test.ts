import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { scheduleHealthChecks } from "~/lib/connections/health.server";
import { checkConfigDrift, runConnectionCheck, TARGETS_PER_CHECK } from "~/lib/delivery/drift.server";
import type { Provider } from "../emulator";
import { connectionRow, makeHealthCheckDue, PROVIDERS, useEmulator } from "./connections-support";
import { createApiKey, deliveringSetup, deliveryDeps } from "./deliveries-support";
import { database, pageHtml } from "./helpers";

const emulator = useEmulator();

async function intentRow(id: string) {
  return database().selectFrom("intents").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

const problemsOf = (json: string | null) => (json === null ? null : (JSON.parse(json) as { field: string; message: string }[]));

/** One scheduled run, as the cron and the health queue do it together. */
async function scheduledRun(connectionId: string) {
  await makeHealthCheckDue(connectionId);
  const deps = await deliveryDeps();
  return scheduleHealthChecks(deps, null, { run: (message) => runConnectionCheck(deps, message) });
}

/**
 * For each provider: an intent override pointing at something that exists no more (or never did),
 * as stored, and what must be said. Saving refuses such targets, so the tests write them as they
 * are after the provider changed under a saved intent.
 */
const BROKEN: Record<Provider, { overrides: Record<string, unknown>; problems: { field: string; message: RegExp }[] }> = {
  github: {
    overrides: { repository: "octocat/legacy", assignee: "not-a-collaborator" },
    problems: [
      { field: "repository", message: /octocat\/legacy is archived/ },
      { field: "assignee", message: /not-a-collaborator cannot be assigned issues in octocat\/legacy/ },
    ],
  },
  slack: {
    overrides: { channel: "C0OLDNEWS1" },
    problems: [{ field: "channel", message: /#old-news is archived/ }],
  },
  notion: {
    overrides: {
      databaseId: "d8100000-0000-4000-8000-000000000001",
      propertyMappings: { Due: "tomorrow", Status: "Blocked", Owner: "ada" },
    },
    problems: [
      { field: "propertyMappings", message: /Due is a date property; "tomorrow" is not an ISO 8601 date/ },
      { field: "propertyMappings", message: /Status has no status named "Blocked"/ },
      { field: "propertyMappings", message: /no property named Owner/ },
    ],
  },
  linear: {
    // The Operations team's first workflow state, under the Engineering team.
    overrides: { stateId: "5a000000-0000-4000-8000-000000000101" },
    problems: [{ field: "stateId", message: /belongs to team Operations, not this one/ }],
  },
  trello: {
    overrides: { listId: "5e1c00000000000000000004" },
    problems: [{ field: "listId", message: /List Old ideas is archived/ }],
  },
};

/** A connected provider with a working intent whose target then broke at the provider. */
async function brokenSetup(provider: Provider) {
  const setup = await deliveringSetup(emulator(), provider);
  await database()
    .updateTable("intents")
    .set({ overrides_json: JSON.stringify(BROKEN[provider].overrides) })
    .where("id", "=", setup.intentId)
    .execute();
  return setup;
}

describe("config drift", () => {
  it.each(PROVIDERS)("%s: the defaults and an intent that point at what exists are checked and found fine", async (provider) => {
    const { connectionId, intentId } = await deliveringSetup(emulator(), provider);
    await scheduledRun(connectionId);
    const row = await connectionRow(connectionId);
    expect(row.health_outcome).toBe("ok");
    expect(problemsOf(row.drift_json)).toEqual([]);
    expect(row.drift_checked_at).toBeGreaterThan(Date.now() - 60_000);
    expect(problemsOf((await intentRow(intentId)).drift_json)).toEqual([]);
    expect(emulator().requestsTo(provider, "deliver")).toHaveLength(0);
  });

  it.each(PROVIDERS)(
    "%s: an intent pointing at something unusable is flagged on the intent and the connection's page, before any delivery",
    async (provider) => {
      const { browser, connectionId, intentId } = await brokenSetup(provider);
      await scheduledRun(connectionId);

      const connection = await connectionRow(connectionId);
      expect(connection.status).toBe("active");
      expect(problemsOf(connection.drift_json), "the defaults are fine").toEqual([]);
      const problems = problemsOf((await intentRow(intentId)).drift_json)!;
      expect(problems).toHaveLength(BROKEN[provider].problems.length);
      for (const [index, expected] of BROKEN[provider].problems.entries()) {
        expect(problems[index]!.field).toBe(expected.field);
        expect(problems[index]!.message).toMatch(expected.message);
      }
      expect(emulator().requestsTo(provider, "deliver"), "no delivery was needed to find it").toHaveLength(0);

      const intentPage = await pageHtml(await browser.get(`/intents/${intentId}`));
      expect(intentPage).toContain("What this intent points at does not work any more");
      const connectionPage = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
      expect(connectionPage).toMatch(/1 intent points(<!-- -->)? at something that does not work any more<\/a>/);
      expect(connectionPage).toContain("Settings problem");
      expect(connectionPage).toContain(">Fix the intents</a>");
      expect(await pageHtml(await browser.get("/intents"))).toContain("Settings problem");
    },
  );

  it("defaults that point at something gone are shown in the status box with Fix settings as its action, and in the read API", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    // The repository was deleted after the defaults were saved.
    await database()
      .updateTable("connections")
      .set({ config_json: JSON.stringify({ repository: "octocat/no-such-repository" }) })
      .where("id", "=", connectionId)
      .execute();
    await scheduledRun(connectionId);

    expect(problemsOf((await connectionRow(connectionId)).drift_json)).toEqual([
      { field: "repository", message: "octocat/no-such-repository does not exist, or this account can no longer see it." },
    ]);
    const page = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(page).toContain("The defaults point at something that does not work any more");
    expect(page).toContain("Repository: octocat/no-such-repository does not exist");
    expect(page).toMatch(/href="\/integration-connections\/[^"]+\/settings"[^>]*>Fix settings<\/a>/);

    const key = await createApiKey(browser);
    const api = await exports.default.fetch(
      new Request("https://spokedo.test/api/v1/connections", { headers: { Authorization: `Bearer ${key}` } }),
    );
    const body = await api.json<{ data: { id: string; drift: { checkedAt: string | null; problems: unknown[] } }[] }>();
    const listed = body.data.find((connection) => connection.id === connectionId)!;
    expect(listed.drift.checkedAt).not.toBeNull();
    expect(listed.drift.problems).toEqual([
      { field: "repository", message: "octocat/no-such-repository does not exist, or this account can no longer see it." },
    ]);
  });

  it("saving new defaults checks them on save, forgets the intents' verdicts and brings their check round at the next cron run", async () => {
    const { browser, connectionId, intentId } = await brokenSetup("trello");
    await scheduledRun(connectionId);
    expect(problemsOf((await intentRow(intentId)).drift_json)).toHaveLength(1);
    const before = await connectionRow(connectionId);
    expect(before.health_due_at).toBeGreaterThan(Date.now() + 60 * 60_000);

    await browser.post(`/integration-connections/${connectionId}/settings`, {
      intent: "save",
      name: "trello-main",
      "config.boardId": "5e1b00000000000000000001",
      "config.listId": "5e1c00000000000000000002",
    });
    const after = await connectionRow(connectionId);
    expect(problemsOf(after.drift_json), "verified on save").toEqual([]);
    expect(after.drift_checked_at).toBeGreaterThan(Date.now() - 60_000);
    expect(after.health_due_at).toBeLessThanOrEqual(Date.now());
    expect((await intentRow(intentId)).drift_json, "the intent inherits the defaults: unknown again").toBeNull();

    // Renaming alone asks the provider nothing and changes nothing that was checked.
    await scheduledRun(connectionId);
    const calls = emulator().requestsTo("trello").length;
    await browser.post(`/integration-connections/${connectionId}/settings`, {
      intent: "save",
      name: "trello-renamed",
      "config.boardId": "5e1b00000000000000000001",
      "config.listId": "5e1c00000000000000000002",
    });
    expect(emulator().requestsTo("trello")).toHaveLength(calls);
    expect(problemsOf((await connectionRow(connectionId)).drift_json)).toEqual([]);
    expect(problemsOf((await intentRow(intentId)).drift_json), "its own override is still the archived list").toHaveLength(1);
  });

  it("editing an intent checks its new target on save: refused next to the field when unusable, recorded as fine when not", async () => {
    const { browser, connectionId, intentId } = await brokenSetup("slack");
    await scheduledRun(connectionId);
    expect(problemsOf((await intentRow(intentId)).drift_json)).toHaveLength(1);
    const refused = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "slack-intent",
      connectionId,
      enabled: "on",
      "overrides.channel": "#no-such-channel",
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("#no-such-channel does not exist, or the app cannot see it.");
    expect(JSON.parse((await intentRow(intentId)).overrides_json)).toEqual(BROKEN.slack.overrides);

    const saved = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "slack-intent",
      connectionId,
      enabled: "on",
      "overrides.channel": "C0ALERTS01",
    });
    expect(saved.status).toBe(303);
    expect(problemsOf((await intentRow(intentId)).drift_json)).toEqual([]);
  });

  it("an outage while checking keeps the last verdict, leaves the status alone and says the settings could not be checked", async () => {
    const { browser, connectionId, intentId } = await brokenSetup("github");
    await scheduledRun(connectionId);
    const verdict = (await intentRow(intentId)).drift_json;
    expect(problemsOf(verdict)).toHaveLength(2);

    emulator().failNext("github", "list", { kind: "http", status: 503 }, 10);
    const report = await checkConfigDrift(await deliveryDeps(), await connectionRow(connectionId));
    expect(report?.unverified).toContain("503");
    expect((await intentRow(intentId)).drift_json).toBe(verdict);
    expect((await connectionRow(connectionId)).status).toBe("active");

    // Test connection says so too.
    emulator().failNext("github", "list", { kind: "http", status: 503 }, 10);
    const tested = await browser.post(`/integration-connections/${connectionId}`, { intent: "test" });
    const page = await pageHtml(await browser.get(tested.headers.get("Location")!));
    expect(page).toContain("The settings could not be checked (HTTP 503");
  });

  it("Test connection checks the settings too and says what it found", async () => {
    const { browser, connectionId } = await brokenSetup("notion");
    const tested = await browser.post(`/integration-connections/${connectionId}`, { intent: "test" });
    const page = await pageHtml(await browser.get(tested.headers.get("Location")!));
    expect(page).toContain("The settings have 3 problems: see below.");
    expect(page).toMatch(/1 intent points(<!-- -->)? at something/);
  });

  it("asks the provider about a bounded number of distinct targets per check, however many intents there are", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "trello");
    const { workspace_id: workspaceId } = await connectionRow(connectionId);
    const now = Date.now();
    // 40 intents over 40 distinct lists (on no board this account has), inserted 10 at a time (D1 binds 100 values a statement).
    for (let chunk = 0; chunk < 4; chunk++) {
      await database()
        .insertInto("intents")
        .values(
          Array.from({ length: 10 }, (_, j) => ({
            id: crypto.randomUUID(),
            workspace_id: workspaceId,
            connection_id: connectionId,
            name: `many-${chunk * 10 + j}`,
            enabled: 1,
            overrides_json: JSON.stringify({ listId: `5e1c0200000000000000${String(chunk * 10 + j).padStart(4, "0")}` }),
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    const before = emulator().requestsTo("trello").length;
    await checkConfigDrift(await deliveryDeps(), await connectionRow(connectionId));
    const asked = emulator().requestsTo("trello").length - before;
    // Board and list per target at most.
    expect(asked).toBeLessThanOrEqual(TARGETS_PER_CHECK * 2);
    const unchecked = async () =>
      (
        await database()
          .selectFrom("intents")
          .select("id")
          .where("connection_id", "=", connectionId)
          .where("drift_json", "is", null)
          .execute()
      ).length;
    // The defaults and the first intent share a target: 1 + 19 of the 40 others per check.
    expect(await unchecked()).toBe(41 - TARGETS_PER_CHECK);
    // Each next check takes the ones not checked yet first, until every one has a verdict.
    await checkConfigDrift(await deliveryDeps(), await connectionRow(connectionId));
    expect(await unchecked()).toBe(41 - TARGETS_PER_CHECK - (TARGETS_PER_CHECK - 1));
    await checkConfigDrift(await deliveryDeps(), await connectionRow(connectionId));
    expect(await unchecked()).toBe(0);
  });

  it("a Trello board or list the member cannot see is a settings problem, never a revoked token", async () => {
    const { connectionId } = await deliveringSetup(emulator(), "trello");
    // Another member's board and its list.
    await database()
      .updateTable("intents")
      .set({ overrides_json: JSON.stringify({ boardId: "5e1b00000000000000000002", listId: "5e1c00000000000000000003" }) })
      .where("connection_id", "=", connectionId)
      .execute();
    await scheduledRun(connectionId);
    const row = await connectionRow(connectionId);
    expect(row.status).toBe("active");
    const intent = await database().selectFrom("intents").selectAll().where("connection_id", "=", connectionId).executeTakeFirstOrThrow();
    expect(problemsOf(intent.drift_json)!.map((problem) => problem.field)).toEqual(["boardId", "listId"]);
  });
});

describe("settings checked with the provider on save", () => {
  it("refuses defaults whose targets are unusable, next to their fields, and writes nothing", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "notion");
    const before = (await connectionRow(connectionId)).config_json;
    const response = await browser.post(`/integration-connections/${connectionId}/settings`, {
      intent: "save",
      name: "notion-main",
      "config.databaseId": "d8100000-0000-4000-8000-000000000001",
      "config.propertyMappings[0].key": "Due",
      "config.propertyMappings[0].value": "tomorrow",
      "config.propertyMappings[1].key": "Priority",
      "config.propertyMappings[1].value": "High",
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Due is a date property; &quot;tomorrow&quot; is not an ISO 8601 date");
    expect((await connectionRow(connectionId)).config_json).toBe(before);

    const gone = await browser.post(`/integration-connections/${connectionId}/settings`, {
      intent: "save",
      name: "notion-main",
      "config.databaseId": "d8000000-0000-4000-8000-000000000002",
    });
    expect(gone.status).toBe(400);
    expect(await gone.text()).toContain("is no longer shared with the integration");
  });

  it("saves during a provider outage, marked not verified yet until the next check says otherwise", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    emulator().failNext("github", "list", { kind: "http", status: 503 });
    const response = await browser.post(`/integration-connections/${connectionId}/settings`, {
      intent: "save",
      name: "github-main",
      "config.repository": "octocat/spokedo-inbox",
    });
    expect(response.status).toBe(303);
    const row = await connectionRow(connectionId);
    expect(JSON.parse(row.config_json)).toEqual({ repository: "octocat/spokedo-inbox" });
    expect(row.drift_json).toBeNull();
    const page = await pageHtml(await browser.get(response.headers.get("Location")!));
    expect(page).toContain("Settings saved, not verified yet: GitHub could not be asked (HTTP 503");
    expect(page).toContain("Not verified with GitHub yet");

    await scheduledRun(connectionId);
    const checked = await connectionRow(connectionId);
    expect(checked.drift_json).not.toBeNull();
    expect(await pageHtml(await browser.get(`/integration-connections/${connectionId}`))).not.toContain("Not verified with GitHub yet");
  });

  it("refuses an intent override the provider says is unusable, and saves one whose only problem is inherited", async () => {
    const { browser, connectionId, intentId } = await deliveringSetup(emulator(), "linear");
    const refused = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "linear-intent",
      connectionId,
      enabled: "on",
      "overrides.stateId": "5a000000-0000-4000-8000-000000000101",
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("belongs to team Operations, not this one");

    // The connection's default team was archived since; the intent picks one of that team's states.
    await database()
      .updateTable("connections")
      .set({ config_json: JSON.stringify({ teamId: "7e000000-0000-4000-8000-000000000120" }) })
      .where("id", "=", connectionId)
      .execute();
    const saved = await browser.post(`/intents/${intentId}`, {
      intent: "save",
      name: "linear-intent",
      connectionId,
      enabled: "on",
      "overrides.stateId": "5a000000-0000-4000-8000-000000002101",
    });
    expect(saved.status).toBe(303);
    expect(problemsOf((await intentRow(intentId)).drift_json)).toEqual([{ field: "teamId", message: "Team Squad 020 is archived." }]);
  });
});
