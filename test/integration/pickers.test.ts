import { describe, expect, it } from "vitest";
import { CHOICES_FRESH_MS } from "~/lib/connections/choices.server";
import { connect, connectionRow, useEmulator } from "./connections-support";
import { deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { database, pageHtml, signedUpUser } from "./helpers";

// Config pickers (decision 023): every default chosen from the provider's own lists, with
// JavaScript off: GET submissions of the settings form search a list and show a parent's
// dependent choices; the lists are cached per connection in D1.

const emulator = useEmulator();

/** The option values of the select named `name` (in page order), and the selected ones. */
function select(html: string, name: string) {
  const escaped = name.replace(/[.[\]]/g, "\\$&");
  const match = new RegExp(`<select[^>]*name="${escaped}"[^>]*>([\\s\\S]*?)</select>`).exec(html);
  if (!match) return null;
  const options = [...match[1]!.matchAll(/<option([^>]*)value="([^"]*)"[^>]*>([^<]*)</g)];
  return {
    values: options.map((option) => option[2]!),
    labels: options.map((option) => option[3]!),
    selected: options.filter((option) => /selected/.test(option[1]! + option[0])).map((option) => option[2]!),
  };
}

async function settingsPage(provider: Parameters<typeof connect>[2], account?: number | string) {
  const { browser } = await signedUpUser();
  const { id } = await connect(browser, emulator(), provider, `${provider}-main`, account === undefined ? {} : { account });
  const path = `/integration-connections/${id!}/settings`;
  return { browser, id: id!, path };
}

const calls = (provider: Parameters<ReturnType<typeof emulator>["requestsTo"]>[0]) => emulator().requestsTo(provider, "list").length;

describe("settings pickers, JavaScript off", () => {
  it("GitHub: 300+ repositories paged by Link header, searched; labels and assignees after choosing a repository", async () => {
    const { browser, path } = await settingsPage("github", 1002);
    const first = await pageHtml(await browser.get(path));
    const repositories = select(first, "config.repository")!;
    // hubot sees 306 repositories; the archived ones and those with issues off are left out.
    const listed = Number(/([\d,]+) listed by GitHub/.exec(first)?.[1]?.replace(",", ""));
    expect(listed).toBeGreaterThan(280);
    expect(listed).toBeLessThan(306);
    expect(repositories.values[0], "the empty choice first").toBe("");
    expect(repositories.values).toHaveLength(101);
    expect(first).toContain("The first 100 are shown: search to find the others.");
    expect(select(first, "config.labels"), "labels wait for a repository").toBeNull();
    expect(first).toContain("Choose a repository above, then show its labels");
    expect(calls("github"), "four pages of 100").toBe(4);

    const searched = await pageHtml(
      await browser.get(`${path}?name=github-main&config.repository=&find.repository=svc-29&show=repository`),
    );
    expect(select(searched, "config.repository")!.values).toEqual(["", ...Array.from({ length: 10 }, (_, i) => `hubot/svc-29${i}`)]);
    expect(searched).toContain("match “svc-29”");
    expect(calls("github"), "searched in the cached list").toBe(4);

    const chosen = await pageHtml(await browser.get(`${path}?name=github-main&config.repository=hubot%2Fops&show=repository`));
    expect(select(chosen, "config.repository")!.selected).toEqual(["hubot/ops"]);
    expect(select(chosen, "config.labels")).not.toBeNull();
    expect(select(chosen, "config.assignee")!.values).toContain("hubot");
    expect(calls("github"), "labels and assignees of hubot/ops").toBe(6);
  });

  it("lists are cached per connection: page views do not call the provider; Refresh does, at most every few seconds", async () => {
    const { browser, path, id } = await settingsPage("slack");
    await browser.get(path);
    const listed = calls("slack");
    expect(listed).toBeGreaterThan(0);
    await browser.get(path);
    await browser.get(path);
    expect(calls("slack"), "served from D1").toBe(listed);

    await browser.get(`${path}?name=slack-main&refresh=1`);
    expect(calls("slack"), "refresh within seconds of a listing answers from the cache").toBe(listed);
    await database()
      .updateTable("provider_choices")
      .set((eb) => ({ fetched_at: eb("fetched_at", "-", 20_000) }))
      .where("connection_id", "=", id)
      .execute();
    await browser.get(`${path}?name=slack-main&refresh=1`);
    expect(calls("slack"), "Refresh from Slack asks again").toBeGreaterThan(listed);

    const again = calls("slack");
    await database()
      .updateTable("provider_choices")
      .set((eb) => ({ fetched_at: eb("fetched_at", "-", CHOICES_FRESH_MS) }))
      .where("connection_id", "=", id)
      .execute();
    await browser.get(path);
    expect(calls("slack"), "a stale list is listed again on the next view").toBeGreaterThan(again);
  });

  it("Slack: channels by cursor, archived ones left out, private ones marked; a channel typed by hand stays possible", async () => {
    const { browser, path } = await settingsPage("slack");
    const html = await pageHtml(await browser.get(path));
    const channels = select(html, "config.channel")!;
    expect(channels.values).toContain("C0ALERTS01");
    expect(channels.values).not.toContain("C0OLDNEWS1");
    expect(channels.labels.find((label) => label.startsWith("#leads"))).toContain("private");

    const typed = await pageHtml(await browser.get(`${path}?name=slack-main&type=channel`));
    expect(select(typed, "config.channel"), "a text box instead").toBeNull();
    expect(typed).toMatch(/<input[^>]*name="config.channel"/);
    expect(typed).toMatch(/<input[^>]*type="hidden"[^>]*name="typed"[^>]*value="channel"/);
    const back = await pageHtml(await browser.get(`${path}?name=slack-main&typed=channel&pick=channel`));
    expect(select(back, "config.channel")).not.toBeNull();
  });

  it("Linear: the team's workflow states after choosing a team, in the team's order", async () => {
    const { browser, path, id } = await settingsPage("linear");
    const html = await pageHtml(await browser.get(path));
    expect(select(html, "config.teamId")!.labels).toContain("Engineering — ENG");
    expect(select(html, "config.stateId")).toBeNull();
    const chosen = await pageHtml(
      await browser.get(`${path}?name=linear-main&config.teamId=7e000000-0000-4000-8000-000000000001&show=teamId`),
    );
    const states = select(chosen, "config.stateId")!;
    expect(states.labels.slice(1, 3)).toEqual(["Backlog — backlog", "Todo — unstarted"]);
    const save = await browser.post(path, {
      intent: "save",
      name: "linear-main",
      "config.teamId": "7e000000-0000-4000-8000-000000000001",
      "config.stateId": states.values[2]!,
    });
    expect(save.status).toBe(303);
    expect(JSON.parse((await connectionRow(id)).config_json)).toEqual({
      teamId: "7e000000-0000-4000-8000-000000000001",
      stateId: states.values[2],
    });
  });

  it("Trello: the board's open lists after choosing a board", async () => {
    const { browser, path } = await settingsPage("trello");
    const html = await pageHtml(await browser.get(path));
    expect(select(html, "config.boardId")!.labels).toContain("SpokeDo Inbox");
    const chosen = await pageHtml(await browser.get(`${path}?name=trello-main&config.boardId=5e1b00000000000000000001&show=boardId`));
    expect(select(chosen, "config.listId")!.labels).toEqual(["No default", "To Do", "Doing"]);
  });

  it("Notion: shared databases; their properties with types become the mapping rows' choices", async () => {
    const { browser, path } = await settingsPage("notion");
    const html = await pageHtml(await browser.get(path));
    expect(html, "150 trackers and the inbox, trashed ones left out").toMatch(/14\d listed by Notion/);
    const found = await pageHtml(await browser.get(`${path}?name=notion-main&config.databaseId=&find.databaseId=inbox&show=databaseId`));
    expect(select(found, "config.databaseId")!.labels).toEqual(["No default", "SpokeDo Inbox"]);
    const roadmap = await pageHtml(
      await browser.get(`${path}?name=notion-main&config.databaseId=&find.databaseId=roadmap&show=databaseId`),
    );
    expect(select(roadmap, "config.databaseId")!.labels, "not shared with the integration").toEqual(["No default"]);
    const chosen = await pageHtml(
      await browser.get(`${path}?name=notion-main&config.databaseId=d8000000-0000-4000-8000-000000000001&show=databaseId`),
    );
    const properties = select(chosen, "config.propertyMappings[0].key")!;
    expect(properties.labels).toEqual(["—", "Link (url)", "Notes (rich text)", "Status (select)", "Tags (multi select)"]);
    expect(chosen).toContain("one of Inbox, Triaged, Done, or a new option (Notion creates it)");
  });

  it("a refused save opens on an error summary linking to each field, focused (GOV.UK pattern)", async () => {
    const { browser, path } = await settingsPage("github");
    const refused = await browser.post(path, { intent: "save", name: "Not A Name", "config.repository": "octocat/.." });
    expect(refused.status).toBe(400);
    const html = await pageHtml(refused);
    const summary = /<div class="error-summary" role="alert" tabindex="-1" autofocus=""[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
    expect(summary).toContain("There are 2 problems");
    expect(summary).toContain('<a href="#connection-settings-name">Name: Use lowercase letters');
    expect(summary).toContain('<a href="#connection-settings-config.repository">Repository: Use owner/name');
    // The summary comes before the form's fields, and each link's target exists.
    expect(html.indexOf("error-summary")).toBeLessThan(html.indexOf('id="connection-settings-name"'));
    expect(html).toContain('id="connection-settings-config.repository"');
  });

  it("Enter in a search box searches instead of saving; Enter anywhere else saves", async () => {
    const { browser, path, id } = await settingsPage("github", 1002);
    await browser.get(path);
    const searched = await browser.post(path, {
      intent: "default",
      name: "github-main",
      "config.repository": "",
      "find.repository": "ops",
    });
    expect(searched.status).toBe(303);
    expect(searched.headers.get("Location")).toBe(`${path}?name=github-main&config.repository=&find.repository=ops`);
    expect((await connectionRow(id)).config_json, "nothing saved").toBe("{}");
    const saved = await browser.post(`${path}?find.repository=ops`, {
      intent: "default",
      name: "github-main",
      "config.repository": "hubot/ops",
      "find.repository": "ops",
    });
    expect(saved.status).toBe(303);
    expect(JSON.parse((await connectionRow(id)).config_json)).toEqual({ repository: "hubot/ops" });
  });

  it("when the provider cannot list, the field is typed by hand with the reason; an earlier list is shown as stale", async () => {
    const { browser, path, id } = await settingsPage("trello");
    emulator().failNext("trello", "list", { kind: "http", status: 503 }, 3);
    const failed = await pageHtml(await browser.get(path));
    expect(select(failed, "config.boardId")).toBeNull();
    expect(failed).toMatch(/Could not list the board from Trello: Trello could not list them just now \(HTTP 503/);
    emulator().clearFaults();
    await browser.get(path);
    await database()
      .updateTable("provider_choices")
      .set((eb) => ({ fetched_at: eb("fetched_at", "-", CHOICES_FRESH_MS) }))
      .where("connection_id", "=", id)
      .execute();
    emulator().failNext("trello", "list", { kind: "http", status: 503 }, 3);
    const stale = await pageHtml(await browser.get(path));
    expect(select(stale, "config.boardId")!.labels).toContain("SpokeDo Inbox");
    expect(stale).toContain("Not refreshed: Trello could not list them just now (HTTP 503");
  });

  it("a list is never shown for another account of the same connection, and goes with the connection", async () => {
    const { browser, path, id } = await settingsPage("github");
    await browser.get(path);
    expect(await database().selectFrom("provider_choices").select("field").where("connection_id", "=", id).execute()).not.toHaveLength(0);
    await database().updateTable("connections").set({ account_id: "someone-else" }).where("id", "=", id).execute();
    const before = calls("github");
    await browser.get(path);
    expect(calls("github"), "listed again for the new account").toBeGreaterThan(before);
    await database().deleteFrom("connections").where("id", "=", id).execute();
    expect(await database().selectFrom("provider_choices").select("field").where("connection_id", "=", id).execute()).toHaveLength(0);
  });

  it("an intent says what a field set nowhere means for its deliveries", async () => {
    const { browser, id } = await settingsPage("linear");
    await browser.post(`/integration-connections/${id}/settings`, {
      intent: "save",
      name: "linear-main",
      "config.teamId": "7e000000-0000-4000-8000-000000000001",
    });
    const created = await browser.post("/intents/new", { name: "issues", connectionId: id, enabled: "on" });
    const html = await pageHtml(await browser.get(created.headers.get("Location")!));
    expect(html).toContain("not set: issues land in the team&#x27;s first Backlog state (or Triage)");
  });

  it("intent overrides offer the same pickers, the empty choice inheriting the connection's default", async () => {
    const { browser, id } = await settingsPage("trello");
    await browser.post(`/integration-connections/${id}/settings`, {
      intent: "save",
      name: "trello-main",
      "config.boardId": "5e1b00000000000000000001",
      "config.listId": "5e1c00000000000000000001",
    });
    const created = await browser.post("/intents/new", { name: "cards", connectionId: id, enabled: "on" });
    const intentPath = created.headers.get("Location")!;
    const html = await pageHtml(await browser.get(intentPath));
    const boards = select(html, "overrides.boardId")!;
    expect(boards.labels[0]).toBe("Inherit the connection&#x27;s default");
    // The lists of the inherited board are offered without choosing it again.
    expect(select(html, "overrides.listId")!.labels).toEqual(["Inherit the connection&#x27;s default", "To Do", "Doing"]);
    const saved = await browser.post(intentPath, {
      intent: "save",
      name: "cards",
      connectionId: id,
      enabled: "on",
      "overrides.listId": "5e1c00000000000000000002",
    });
    expect(saved.status).toBe(303);
  });
});

describe("Notion mappings stored typed", () => {
  it("checked against each property's type on save, stored as numbers, booleans and option lists, delivered as such", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "notion");
    const settings = `/integration-connections/${connectionId}/settings`;
    const mappings = (rows: [string, string][]) =>
      Object.fromEntries(
        rows.flatMap(([key, value], index) => [
          [`config.propertyMappings[${index}].key`, key],
          [`config.propertyMappings[${index}].value`, value],
        ]),
      );
    const refused = await browser.post(settings, {
      intent: "save",
      name: "notion-main",
      "config.databaseId": "d8100000-0000-4000-8000-000000000001",
      ...mappings([
        ["Estimate", "n/a"],
        ["Blocked", "maybe"],
        ["Reviewer", "grace@notion.emu, Nobody Known"],
      ]),
    });
    expect(refused.status).toBe(400);
    const html = await pageHtml(refused);
    // Drawn again with the properties of the database just submitted, not of the saved one.
    expect(html).toContain('<option value="Estimate" selected="">Estimate (number)</option>');
    expect(html).toContain("Estimate is a number property; &quot;n/a&quot; is not a number.");
    expect(html).toContain("Blocked is a checkbox; use true or false, not &quot;maybe&quot;.");
    expect(html).toContain("Reviewer is a people property; &quot;Nobody Known&quot;: no one in the workspace has that name or e-mail.");

    const saved = await browser.post(settings, {
      intent: "save",
      name: "notion-main",
      "config.databaseId": "d8100000-0000-4000-8000-000000000001",
      ...mappings([
        ["Estimate", "2.5"],
        ["Blocked", "yes"],
        ["Tags", "backend, infra"],
        ["Due", "2026-12-31"],
        // By e-mail, and by a name only one person has (the workspace's 121 people come in two pages).
        ["Reviewer", "grace@notion.emu, Emu Writer 119"],
      ]),
    });
    expect(saved.status).toBe(303);
    expect((JSON.parse((await connectionRow(connectionId)).config_json) as { propertyMappings: unknown }).propertyMappings).toEqual({
      Estimate: 2.5,
      Blocked: true,
      Tags: ["backend", "infra"],
      Due: "2026-12-31",
      Reviewer: [
        { id: "a5e00000-0000-4000-8000-00000000c002", label: "grace@notion.emu" },
        { id: "a5e00000-0000-4000-8000-000000000119", label: "writer-119@notion.emu" },
      ],
    });
    // The form shows them as typed; saving them again unchanged asks Notion nothing.
    const form = await pageHtml(await browser.get(settings));
    expect(form).toMatch(
      /name="config.propertyMappings\[2\].value"[^>]*value="backend, infra"|value="backend, infra"[^>]*name="config.propertyMappings\[2\].value"/,
    );
    const before = emulator().requestsTo("notion").length;
    await browser.post(settings, {
      intent: "save",
      name: "notion-main",
      "config.databaseId": "d8100000-0000-4000-8000-000000000001",
      ...mappings([
        ["Estimate", "2.5"],
        ["Blocked", "true"],
        ["Tags", "backend, infra"],
        ["Due", "2026-12-31"],
        ["Reviewer", "grace@notion.emu, writer-119@notion.emu"],
      ]),
    });
    expect(emulator().requestsTo("notion").length, "unchanged").toBe(before);

    await sendInsight(browser, "Typed");
    await settle();
    const created = emulator().requestsTo("notion", "deliver").at(-1)!;
    expect((JSON.parse(created.body) as { properties: unknown }).properties).toMatchObject({
      Estimate: { number: 2.5 },
      Blocked: { checkbox: true },
      Tags: { multi_select: [{ name: "backend" }, { name: "infra" }] },
      Due: { date: { start: "2026-12-31" } },
      Reviewer: { people: [{ id: "a5e00000-0000-4000-8000-00000000c002" }, { id: "a5e00000-0000-4000-8000-000000000119" }] },
    });
  });
});
