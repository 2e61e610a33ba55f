import type { BlockObjectRequest, CreatePageParameters, ListBlockChildrenResponse } from "@notionhq/client";
import type { QueryDatabaseParameters, QueryDatabaseResponse } from "@notionhq/client/build/src/api-endpoints";
import type { ChatPostMessageArguments, ConversationsHistoryArguments, ConversationsHistoryResponse } from "@slack/web-api";
import { beforeEach, describe, expect, it } from "vitest";
import { createEmulator, grantFor, type Emulator } from "../emulator";

// "Effectively once" delivery: before resending an attempt whose outcome is unknown, SpokeDo
// looks the delivery up at the provider by a marker it put there. These are those look-ups,
// with their consistency (lists immediate, search indexes late), and the content limits.

const EMU = "https://emu.test";
let emu: Emulator;
beforeEach(() => {
  // A search lag far longer than any test takes, so only advanceTime lets a search see an item.
  emu = createEmulator({ origin: EMU, appOrigin: "https://spokedo.test", searchIndexDelayMs: { github: 600_000, trello: 600_000 } });
});

const get = (path: string, headers: Record<string, string> = {}) => emu.handle(new Request(`${EMU}${path}`, { headers }));
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  emu.handle(
    new Request(`${EMU}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", ...headers },
    }),
  );
const marker = (id: string) => `<!-- spokedo-delivery:${id} -->`;

describe("GitHub", () => {
  const gh = (token: string) => ({ Authorization: `Bearer ${token}`, "User-Agent": "spokedo-test", Accept: "application/vnd.github+json" });

  it("GET /repos/{o}/{r}/issues finds a just-created issue by its marker at once, pull requests included", async () => {
    const { accessToken } = await grantFor(emu, "github");
    const id = crypto.randomUUID();
    const created = await post(
      "/github/api/repos/octocat/hello-world/issues",
      { title: "Disk full", body: `db-1 at 93%\n\n${marker(id)}` },
      gh(accessToken),
    );
    expect(created.status).toBe(201);
    const list = await (
      await get(
        "/github/api/repos/octocat/hello-world/issues?state=all&creator=octocat&sort=created&direction=desc&per_page=100",
        gh(accessToken),
      )
    ).json<
      {
        number: number;
        body: string | null;
        pull_request?: unknown;
        state: string;
      }[]
    >();
    expect(list[0]).toMatchObject({ number: 3, body: expect.stringContaining(marker(id)) as string });
    expect(list.some((issue) => issue.pull_request !== undefined)).toBe(true);
    const open = await (await get("/github/api/repos/octocat/hello-world/issues", gh(accessToken))).json<{ state: string }[]>();
    expect(open.every((issue) => issue.state === "open")).toBe(true);
    const since = await (
      await get(
        `/github/api/repos/octocat/hello-world/issues?state=all&since=${new Date(emu.now() + 60_000).toISOString()}`,
        gh(accessToken),
      )
    ).json<unknown[]>();
    expect(since).toEqual([]);
  });

  it("GET /search/issues lags by searchIndexDelayMs, then answers total_count, incomplete_results and items", async () => {
    const { accessToken } = await grantFor(emu, "github");
    const id = crypto.randomUUID();
    await post("/github/api/repos/octocat/spokedo-inbox/issues", { title: "Found later", body: marker(id) }, gh(accessToken));
    const query = `/github/api/search/issues?q=${encodeURIComponent(`repo:octocat/spokedo-inbox is:issue "spokedo-delivery:${id}"`)}`;
    const before = await get(query, gh(accessToken));
    expect(before.headers.get("x-ratelimit-resource")).toBe("search");
    expect(await before.json()).toMatchObject({ total_count: 0, incomplete_results: false, items: [] });
    emu.advanceTime(emu.options.searchIndexDelayMs.github);
    const after = await (await get(query, gh(accessToken))).json<{ total_count: number; items: { number: number; score: number }[] }>();
    expect(after).toMatchObject({ total_count: 1, items: [{ number: 1, score: 1 }] });
    // GitHub App user tokens must say is:issue or is:pull-request.
    expect(
      (await get(`/github/api/search/issues?q=${encodeURIComponent("repo:octocat/spokedo-inbox found")}`, gh(accessToken))).status,
    ).toBe(422);
  });

  it("refuses a body over 65,536 characters with GitHub's 422", async () => {
    const { accessToken } = await grantFor(emu, "github");
    const ok = await post("/github/api/repos/octocat/hello-world/issues", { title: "max", body: "é".repeat(65_536) }, gh(accessToken));
    expect(ok.status).toBe(201);
    const tooLong = await post(
      "/github/api/repos/octocat/hello-world/issues",
      { title: "too long", body: "x".repeat(65_537) },
      gh(accessToken),
    );
    expect(tooLong.status).toBe(422);
    expect(await tooLong.json()).toMatchObject({
      message: "Validation Failed",
      errors: [{ resource: "Issue", code: "custom", field: "body", message: "body is too long (maximum is 65536 characters)" }],
    });
    expect(emu.created.at(-1)).toMatchObject({ payload: { title: "max" } });
  });
});

describe("Slack", () => {
  const scope = "chat:write,channels:read,groups:read,channels:history,groups:history";
  const api = (method: string, token: string, body: object) => post(`/slack/api/${method}`, body, { Authorization: `Bearer ${token}` });

  it("chat.postMessage keeps metadata; conversations.history returns it to the app, and to others with include_all_metadata", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope });
    const id = crypto.randomUUID();
    const message: ChatPostMessageArguments = {
      channel: "C0ALERTS01",
      text: "*Disk full*\ndb-1 at 93%",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Disk full*" } }],
      metadata: { event_type: "spokedo_delivery", event_payload: { delivery_id: id } },
    };
    const posted = await (
      await api("chat.postMessage", accessToken, message)
    ).json<{
      ok: boolean;
      ts: string;
      message: { metadata: unknown };
    }>();
    expect(posted).toMatchObject({
      ok: true,
      message: { metadata: { event_type: "spokedo_delivery", event_payload: { delivery_id: id } } },
    });

    const history: ConversationsHistoryArguments = { channel: "C0ALERTS01", oldest: String(Number(posted.ts) - 1), limit: 10 };
    const mine = await (await api("conversations.history", accessToken, history)).json<ConversationsHistoryResponse>();
    expect(mine.ok).toBe(true);
    expect(mine.messages?.[0]).toMatchObject({ ts: posted.ts, metadata: { event_payload: { delivery_id: id } } });

    // A user token sees the metadata only when it asks for all of it.
    const user = await grantFor(emu, "slack", { scope: "chat:write", userScope: "channels:history" });
    const userToken = (user.response.authed_user as { access_token: string }).access_token;
    const plain = await (await api("conversations.history", userToken, history)).json<ConversationsHistoryResponse>();
    expect(plain.messages?.[0]?.metadata).toBeUndefined();
    const all = await (
      await api("conversations.history", userToken, { ...history, include_all_metadata: true })
    ).json<ConversationsHistoryResponse>();
    expect(all.messages?.[0]?.metadata).toMatchObject({ event_type: "spokedo_delivery" });
  });

  it("pages history newest first with has_more and next_cursor; oldest/latest with inclusive; not_in_channel for channels the bot is not in", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope });
    const stamps: string[] = [];
    for (let i = 0; i < 5; i++)
      stamps.push((await (await api("chat.postMessage", accessToken, { channel: "C0GENERAL1", text: `m${i}` })).json<{ ts: string }>()).ts);
    const page = await (
      await api("conversations.history", accessToken, { channel: "C0GENERAL1", limit: 3 })
    ).json<ConversationsHistoryResponse>();
    expect(page.messages?.map((m) => m.text)).toEqual(["m4", "m3", "m2"]);
    expect(page.has_more).toBe(true);
    const rest = await (
      await api("conversations.history", accessToken, { channel: "C0GENERAL1", limit: 100, cursor: page.response_metadata?.next_cursor })
    ).json<ConversationsHistoryResponse>();
    expect(rest.messages?.map((m) => m.text)).toEqual(["m1", "m0", "Deploy went fine", "Lunch at noon?", "Welcome to #general"]);
    expect(rest.has_more).toBe(false);
    const exclusive = await (
      await api("conversations.history", accessToken, { channel: "C0GENERAL1", oldest: stamps[1], latest: stamps[3] })
    ).json<ConversationsHistoryResponse>();
    expect(exclusive.messages?.map((m) => m.text)).toEqual(["m2"]);
    const inclusive = await (
      await api("conversations.history", accessToken, { channel: "C0GENERAL1", oldest: stamps[1], latest: stamps[3], inclusive: true })
    ).json<ConversationsHistoryResponse>();
    expect(inclusive.messages?.map((m) => m.text)).toEqual(["m3", "m2", "m1"]);
    expect(await (await api("conversations.history", accessToken, { channel: "C0RANDOM01" })).json()).toEqual({
      ok: false,
      error: "not_in_channel",
    });
  });

  it("non-Marketplace apps: history is capped at 15 messages and one call a minute", async () => {
    emu.setOptions({ slackAppDistribution: "non_marketplace" });
    const { accessToken } = await grantFor(emu, "slack", { scope });
    for (let i = 0; i < 20; i++) await api("chat.postMessage", accessToken, { channel: "C0GENERAL1", text: `m${i}` });
    const first = await (
      await api("conversations.history", accessToken, { channel: "C0GENERAL1", limit: 100 })
    ).json<ConversationsHistoryResponse>();
    expect(first.messages).toHaveLength(15);
    const second = await api("conversations.history", accessToken, { channel: "C0GENERAL1" });
    expect(second.status).toBe(429);
    expect(second.headers.get("Retry-After")).toBe("60");
    emu.advanceTime(60_000);
    expect((await api("conversations.history", accessToken, { channel: "C0GENERAL1" })).status).toBe(200);
  });

  it("enforces text (40,000), 50 blocks, section text 3,000 and metadata shape with Slack's errors", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope });
    const send = async (body: object) => (await api("chat.postMessage", accessToken, { channel: "C0GENERAL1", ...body })).json();
    expect(await send({ text: "x".repeat(40_001) })).toEqual({ ok: false, error: "msg_too_long" });
    emu.setOptions({ slackLongText: "truncate" });
    expect(((await send({ text: "x".repeat(40_001) })) as { message: { text: string } }).message.text).toHaveLength(40_000);
    const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
    expect(await send({ text: "t", blocks: Array.from({ length: 51 }, () => section("x")) })).toMatchObject({
      ok: false,
      error: "invalid_blocks",
      response_metadata: { messages: ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"] },
    });
    expect(await send({ text: "t", blocks: [section("x".repeat(3001))] })).toMatchObject({
      error: "invalid_blocks",
      response_metadata: { messages: ["[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"] },
    });
    expect(
      await send({ text: "t", blocks: Array.from({ length: 50 }, () => section("*bold* _it_ `code` <https://x.test|link>")) }),
    ).toMatchObject({ ok: true });
    expect(await send({ text: "t", metadata: { event_type: "x" } })).toEqual({ ok: false, error: "invalid_metadata_schema" });
    expect(await send({ text: "t", metadata: "{oops" })).toEqual({ ok: false, error: "invalid_metadata_format" });
  });
});

describe("Notion", () => {
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, "Notion-Version": "2022-06-28" });
  const INBOX = "d8000000-0000-4000-8000-000000000001";
  const page = (title: string, children: BlockObjectRequest[] = []): CreatePageParameters => ({
    parent: { database_id: INBOX },
    properties: { Name: { title: [{ text: { content: title } }] }, Status: { select: { name: "Inbox" } } },
    children,
  });

  it("database query finds a page by created_time and property filters; block children read back the marker", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    const id = crypto.randomUUID();
    const startedAt = new Date(emu.now()).toISOString();
    const blocks: BlockObjectRequest[] = [
      {
        object: "block",
        type: "paragraph",
        paragraph: { rich_text: [{ type: "text", text: { content: `spokedo-delivery:${id}` }, annotations: { code: true } }] },
      },
      {
        type: "heading_2",
        heading_2: { rich_text: [{ type: "text", text: { content: "Details", link: { url: "https://spokedo.test/i/1" } } }] },
      },
      { type: "code", code: { language: "typescript", rich_text: [{ type: "text", text: { content: "const x = 1;" } }] } },
      { type: "divider", divider: {} },
      { type: "to_do", to_do: { rich_text: [{ text: { content: "check" } }], checked: false } },
    ];
    const created = await (
      await post("/notion/v1/pages", page("Disk full", blocks), headers(accessToken))
    ).json<{
      id: string;
      created_time: string;
    }>();
    // Notion keeps created_time to the minute.
    expect(created.created_time).toMatch(/:00\.000Z$/);
    await post("/notion/v1/pages", page("Other"), headers(accessToken));

    const query: Omit<QueryDatabaseParameters, "database_id"> = {
      filter: {
        and: [
          { timestamp: "created_time", created_time: { on_or_after: startedAt.slice(0, 16) + ":00.000Z" } },
          { property: "Name", title: { equals: "Disk full" } },
        ],
      },
      sorts: [{ timestamp: "created_time", direction: "descending" }],
      page_size: 10,
    };
    const found = await (await post(`/notion/v1/databases/${INBOX}/query`, query, headers(accessToken))).json<QueryDatabaseResponse>();
    expect(found.results.map((result) => result.id)).toEqual([created.id]);
    expect(found).toMatchObject({ object: "list", has_more: false, next_cursor: null, type: "page_or_database" });

    const children = await (
      await get(`/notion/v1/blocks/${created.id}/children?page_size=2`, headers(accessToken))
    ).json<ListBlockChildrenResponse>();
    expect(children.has_more).toBe(true);
    expect(children.results[0]).toMatchObject({
      object: "block",
      type: "paragraph",
      has_children: false,
      paragraph: {
        rich_text: [{ plain_text: `spokedo-delivery:${id}`, annotations: { code: true, bold: false, color: "default" }, href: null }],
      },
    });
    const next = await (
      await get(`/notion/v1/blocks/${created.id}/children?start_cursor=${children.next_cursor}`, headers(accessToken))
    ).json<ListBlockChildrenResponse>();
    expect(next.results.map((block) => ("type" in block ? block.type : ""))).toEqual(["code", "divider", "to_do"]);
    expect((await get(`/notion/v1/blocks/${crypto.randomUUID()}/children`, headers(accessToken))).status).toBe(404);
  });

  it("paginates a database query with start_cursor; page_size over 100 is a validation_error", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    for (let i = 0; i < 5; i++) await post("/notion/v1/pages", page(`P${i}`), headers(accessToken));
    type Titled = Omit<QueryDatabaseResponse, "results"> & { results: { properties: { Name: { title: { plain_text: string }[] } } }[] };
    const first = await (
      await post(
        `/notion/v1/databases/${INBOX}/query`,
        { page_size: 2, sorts: [{ property: "Name", direction: "ascending" }] },
        headers(accessToken),
      )
    ).json<Titled>();
    expect(first.results.map((result) => result.properties.Name.title[0]!.plain_text)).toEqual(["P0", "P1"]);
    const second = await (
      await post(
        `/notion/v1/databases/${INBOX}/query`,
        { page_size: 2, start_cursor: first.next_cursor, sorts: [{ property: "Name", direction: "ascending" }] },
        headers(accessToken),
      )
    ).json<typeof first>();
    expect(second.results.map((result) => result.properties.Name.title[0]!.plain_text)).toEqual(["P2", "P3"]);
    expect((await post(`/notion/v1/databases/${INBOX}/query`, { page_size: 101 }, headers(accessToken))).status).toBe(400);
    const unknown = await post(
      `/notion/v1/databases/${INBOX}/query`,
      { filter: { property: "Nope", rich_text: { equals: "x" } } },
      headers(accessToken),
    );
    expect(await unknown.json()).toMatchObject({ code: "validation_error", message: "Could not find property with name or id: Nope" });
  });

  it("enforces rich text ≤ 2,000 UTF-16 units, ≤ 100 children, two levels of nesting, known types and languages; lone surrogates are invalid JSON", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    const create = async (children: unknown[]) => {
      const response = await post("/notion/v1/pages", { ...page("Limits"), children }, headers(accessToken));
      return { status: response.status, body: await response.json<{ code?: string; message?: string }>() };
    };
    const paragraph = (content: string, extra: object = {}) => ({
      type: "paragraph",
      paragraph: { rich_text: [{ type: "text", text: { content } }], ...extra },
    });
    // 1,000 emoji are 2,000 UTF-16 units: accepted; one more unit is not.
    expect((await create([paragraph("😀".repeat(1000))])).status).toBe(200);
    expect(await create([paragraph(`${"😀".repeat(1000)}x`)])).toEqual({
      status: 400,
      body: expect.objectContaining({
        code: "validation_error",
        message:
          "body failed validation: body.children[0].paragraph.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`.",
      }) as object,
    });
    expect((await create(Array.from({ length: 100 }, () => paragraph("x")))).status).toBe(200);
    expect((await create(Array.from({ length: 101 }, () => paragraph("x")))).body.message).toContain(
      "body.children.length should be ≤ `100`",
    );
    const nested = {
      type: "bulleted_list_item",
      bulleted_list_item: {
        rich_text: [{ text: { content: "1" } }],
        children: [{ type: "bulleted_list_item", bulleted_list_item: { rich_text: [{ text: { content: "2" } }] } }],
      },
    };
    expect((await create([nested])).status).toBe(200);
    const tooDeep = { type: "bulleted_list_item", bulleted_list_item: { rich_text: [{ text: { content: "1" } }], children: [nested] } };
    expect((await create([tooDeep])).body.message).toContain("children[0].bulleted_list_item.children should be not present");
    expect((await create([{ type: "code", code: { language: "klingon", rich_text: [] } }])).body.code).toBe("validation_error");
    expect((await create([{ type: "sparkles", sparkles: {} }])).body.message).toContain("Fix one:");
    expect((await create([paragraph("x", { color: "neon" })])).body.code).toBe("validation_error");
    const lone = await emu.handle(
      new Request(`${EMU}/notion/v1/pages`, {
        method: "POST",
        body: JSON.stringify({ ...page("Lone"), children: [paragraph("x")] }).replace('"content":"x"', '"content":"\\ud800"'),
        headers: { "Content-Type": "application/json", ...headers(accessToken) },
      }),
    );
    expect(await lone.json()).toMatchObject({ status: 400, code: "invalid_json" });
    // What was delivered is kept whole, for tests that check how Markdown arrived.
    expect(emu.created.filter((item) => item.provider === "notion")).toHaveLength(3);
  });
});

describe("Linear", () => {
  it("issue(id:) finds a delivery by its client-chosen id or identifier; unknown ids are INPUT_ERROR", async () => {
    const { accessToken } = await grantFor(emu, "linear");
    const call = (query: string, variables?: object) =>
      post("/linear/api/graphql", { query, variables }, { Authorization: `Bearer ${accessToken}` });
    const id = crypto.randomUUID();
    await call("mutation C($input: IssueCreateInput!) { issueCreate(input: $input) { success } }", {
      input: { id, teamId: "7e000000-0000-4000-8000-000000000001", title: "Disk full", description: "**db-1** at 93%\n\n- [ ] check" },
    });
    const LOOKUP = "query Lookup($id: String!) { issue(id: $id) { id identifier title description url state { name type } team { key } } }";
    const byId = await (await call(LOOKUP, { id })).json<{ data: { issue: Record<string, unknown> } }>();
    expect(byId.data.issue).toMatchObject({
      id,
      identifier: "ENG-1",
      description: "**db-1** at 93%\n\n- [ ] check",
      state: { name: "Backlog", type: "backlog" },
      team: { key: "ENG" },
    });
    expect((await (await call(LOOKUP, { id: "ENG-1" })).json<typeof byId>()).data.issue.id).toBe(id);
    const missing = await call(LOOKUP, { id: crypto.randomUUID() });
    expect(await missing.json()).toMatchObject({
      data: null,
      errors: [{ message: "Entity not found: Issue", extensions: { code: "INPUT_ERROR" } }],
    });
    expect(emu.requestsTo("linear", "lookup")).toHaveLength(3);
  });
});

describe("Trello", () => {
  it("GET /1/lists/{id}/cards finds a card at once; GET /1/search only after the index delay", async () => {
    const { accessToken } = await grantFor(emu, "trello");
    const auth = `key=emu-trello-key&token=${accessToken}`;
    const id = crypto.randomUUID();
    await post(`/trello/api/1/cards?${auth}`, {
      idList: "5e1c00000000000000000001",
      name: "Disk full",
      desc: `db-1 at 93%\n\nspokedo-delivery:${id}`,
    });
    const cards = await (
      await get(`/trello/api/1/lists/5e1c00000000000000000001/cards?fields=name,desc&${auth}`)
    ).json<
      {
        desc: string;
      }[]
    >();
    expect(cards).toHaveLength(1);
    expect(cards[0]!.desc).toContain(id);
    const search = `/trello/api/1/search?${auth}&modelTypes=cards&idBoards=5e1b00000000000000000001&query=${encodeURIComponent(`"spokedo-delivery:${id}"`)}`;
    expect(await (await get(search)).json()).toMatchObject({ cards: [] });
    emu.advanceTime(emu.options.searchIndexDelayMs.trello);
    expect(await (await get(search)).json()).toMatchObject({ cards: [{ name: "Disk full" }], options: { modelTypes: ["cards"] } });
    const tooLong = await post(`/trello/api/1/cards?${auth}`, { idList: "5e1c00000000000000000001", name: "x", desc: "x".repeat(16_385) });
    expect([tooLong.status, await tooLong.text()]).toEqual([400, "invalid value for desc"]);
  });
});
