import { beforeEach, describe, expect, it } from "vitest";
import { createEmulator, grantFor, type Emulator } from "../emulator";

// Listings for configuration pickers (dynamic dropdowns): large fixtures that need pagination,
// permissions, archived items, and the providers' own errors.

const EMU = "https://emu.test";
let emu: Emulator;
beforeEach(() => {
  emu = createEmulator({ origin: EMU, appOrigin: "https://spokedo.test" });
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

/** RFC 8288 Link header → rel → URL. */
function links(response: Response) {
  return Object.fromEntries([...(response.headers.get("Link") ?? "").matchAll(/<([^>]+)>; rel="(\w+)"/g)].map((m) => [m[2]!, m[1]!]));
}

describe("GitHub", () => {
  const gh = (token: string) => ({ Authorization: `Bearer ${token}`, "User-Agent": "spokedo-test", Accept: "application/vnd.github+json" });

  it("GET /user/repos pages 300+ repositories with Link rel=next/last, per_page capped at 100", async () => {
    const { accessToken } = await grantFor(emu, "github", { account: 1002 });
    const first = await get("/github/api/user/repos?per_page=100", gh(accessToken));
    expect(first.status).toBe(200);
    const repos = await first.json<
      {
        full_name: string;
        permissions: Record<string, boolean>;
        private: boolean;
        archived: boolean;
        has_issues: boolean;
      }[]
    >();
    expect(repos).toHaveLength(100);
    // Default sort full_name, ascending.
    expect(repos.map((repo) => repo.full_name).slice(0, 3)).toEqual(["emu-org/monorepo", "emu-org/website", "hubot/ops"]);
    const rel = links(first);
    expect(rel.next).toBe(`${EMU}/github/api/user/repos?per_page=100&page=2`);
    expect(rel.last).toBe(`${EMU}/github/api/user/repos?per_page=100&page=4`);
    expect(rel.prev).toBeUndefined();

    const all: string[] = [];
    let next: string | undefined = `${EMU}/github/api/user/repos?per_page=100`;
    while (next) {
      const page = await emu.handle(new Request(next, { headers: gh(accessToken) }));
      all.push(...(await page.json<{ full_name: string }[]>()).map((repo) => repo.full_name));
      next = links(page).next;
    }
    // hubot: 301 own repos, 3 shared by octocat, 2 org repos.
    expect(all).toHaveLength(306);
    expect(new Set(all).size).toBe(306);
    const big = await get("/github/api/user/repos?per_page=500", gh(accessToken));
    expect(await big.json()).toHaveLength(100);
  });

  it("filters by affiliation and visibility, sorts, and refuses type together with visibility (422)", async () => {
    const { accessToken } = await grantFor(emu, "github", { account: 1002 });
    const names = async (query: string) =>
      (await (await get(`/github/api/user/repos?per_page=100&${query}`, gh(accessToken))).json<{ full_name: string }[]>()).map(
        (r) => r.full_name,
      );
    expect(await names("affiliation=collaborator")).toEqual(["octocat/co-write", "octocat/shared-notes", "octocat/team-board"]);
    expect(await names("affiliation=organization_member")).toEqual(["emu-org/monorepo", "emu-org/website"]);
    expect(await names("type=member")).toEqual([
      "emu-org/monorepo",
      "emu-org/website",
      "octocat/co-write",
      "octocat/shared-notes",
      "octocat/team-board",
    ]);
    const privateOwned = await names("affiliation=owner&visibility=private");
    expect(privateOwned).toContain("hubot/ops");
    expect(privateOwned.every((name) => name === "hubot/ops" || Number(name.slice(-3)) % 3 === 0)).toBe(true);
    const created = await names("affiliation=owner&sort=created&direction=asc");
    expect(created[0]).toBe("hubot/svc-001");
    const conflict = await get("/github/api/user/repos?type=owner&visibility=private", gh(accessToken));
    expect(conflict.status).toBe(422);
    expect(await conflict.json()).toMatchObject({ message: "Validation Failed" });
  });

  it("repo objects carry permissions per role; GET /repos/{o}/{r} is a 404 for an invisible repo", async () => {
    const { accessToken } = await grantFor(emu, "github", { account: 1002 });
    const repo = async (name: string) => get(`/github/api/repos/${name}`, gh(accessToken));
    expect(await (await repo("octocat/shared-notes")).json()).toMatchObject({
      private: true,
      permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
    });
    expect(await (await repo("octocat/team-board")).json()).toMatchObject({ permissions: { push: false, triage: true, pull: true } });
    expect(await (await repo("octocat/co-write")).json()).toMatchObject({ permissions: { push: true, admin: false } });
    expect(await (await repo("hubot/ops")).json()).toMatchObject({ full_name: "hubot/ops", permissions: { admin: true, push: true } });
    expect(await (await repo("octocat/legacy")).json()).toMatchObject({
      archived: true,
      has_issues: true,
      permissions: { pull: true, push: false },
    });
    const hidden = await repo("octocat/spokedo-inbox");
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toMatchObject({ message: "Not Found" });
  });

  it("labels and assignees page with Link; GET /assignees/{login} answers 204 or 404", async () => {
    const { accessToken } = await grantFor(emu, "github", { account: 1001 });
    const labels = await get("/github/api/repos/octocat/hello-world/labels?per_page=100", gh(accessToken));
    expect(await labels.json()).toHaveLength(100);
    expect(links(labels).last).toContain("page=2");
    const second = await get("/github/api/repos/octocat/hello-world/labels?per_page=100&page=2", gh(accessToken));
    expect(await second.json()).toHaveLength(20);
    expect(links(second)).toMatchObject({
      prev: expect.stringContaining("page=1") as string,
      first: expect.stringContaining("page=1") as string,
    });

    const hubot = await grantFor(emu, "github", { account: 1002 });
    const assignees = await get("/github/api/repos/emu-org/monorepo/assignees", gh(hubot.accessToken));
    expect(await assignees.json()).toHaveLength(30);
    expect(links(assignees).last).toContain("page=5");
    expect((await get("/github/api/repos/emu-org/monorepo/assignees/emu-dev-007", gh(hubot.accessToken))).status).toBe(204);
    expect((await get("/github/api/repos/octocat/hello-world/assignees/hubot", gh(accessToken))).status).toBe(404);
    expect((await get("/github/api/repos/octocat/hello-world/assignees/octocat", gh(accessToken))).status).toBe(204);
    expect((await get("/github/api/repos/octocat/spokedo-inbox/labels", gh(hubot.accessToken))).status).toBe(404);
  });

  it("creating an issue: 403 in an archived repo, 410 with issues disabled, 404 when invisible; labels dropped without push", async () => {
    const octocat = await grantFor(emu, "github", { account: 1001 });
    const hubot = await grantFor(emu, "github", { account: 1002 });
    const create = (token: string, repo: string, body: unknown) => post(`/github/api/repos/${repo}/issues`, body, gh(token));
    const archived = await create(octocat.accessToken, "octocat/legacy", { title: "x" });
    expect(archived.status).toBe(403);
    expect(await archived.json()).toMatchObject({ message: "Repository was archived so is read-only." });
    expect((await create(hubot.accessToken, "hubot/svc-040", { title: "x" })).status).toBe(410);
    expect((await create(hubot.accessToken, "octocat/spokedo-inbox", { title: "x" })).status).toBe(404);
    const triage = await create(hubot.accessToken, "octocat/team-board", { title: "x", labels: ["bug"], assignees: ["octocat"] });
    expect(await triage.json()).toMatchObject({ labels: [], assignees: [], author_association: "COLLABORATOR" });
    const writer = await create(hubot.accessToken, "octocat/co-write", { title: "x", labels: ["bug"], assignees: ["hubot"] });
    expect(await writer.json()).toMatchObject({ labels: [{ name: "bug" }], assignees: [{ login: "hubot" }] });
  });
});

describe("Slack", () => {
  const scopes = "chat:write,channels:read,groups:read,channels:history,groups:history";
  const api = (method: string, token: string, body: Record<string, unknown> = {}) =>
    post(`/slack/api/${method}`, body, { Authorization: `Bearer ${token}` });

  it("conversations.list pages 300+ channels by cursor; private ones only where the bot is a member", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope: scopes });
    const seen: { id: string; name: string; is_private: boolean; is_member: boolean; is_archived: boolean }[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const body = await (
        await api("conversations.list", accessToken, { types: "public_channel,private_channel", limit: 100, cursor })
      ).json<{
        ok: boolean;
        channels: typeof seen;
        response_metadata: { next_cursor: string };
      }>();
      expect(body.ok).toBe(true);
      seen.push(...body.channels);
      cursor = body.response_metadata.next_cursor;
      pages += 1;
    } while (cursor);
    // 5 of the named channels and 280 of the generated ones are visible to the bot.
    expect(seen).toHaveLength(285);
    expect(pages).toBe(3);
    expect(seen.find((channel) => channel.id === "G0SECRET01")).toBeUndefined();
    expect(seen.find((channel) => channel.id === "C0PRIVATE1")).toMatchObject({ name: "leads", is_private: true, is_member: true });
    expect(seen.filter((channel) => channel.is_private).every((channel) => channel.is_member)).toBe(true);
    expect(seen.find((channel) => channel.name === "random")).toMatchObject({ is_member: false, is_private: false });
    expect(seen.some((channel) => channel.is_archived)).toBe(true);

    const open = await (
      await api("conversations.list", accessToken, { exclude_archived: true, limit: 1000 })
    ).json<{
      channels: typeof seen;
    }>();
    expect(open.channels.every((channel) => !channel.is_archived && !channel.is_private)).toBe(true);
    expect(await (await api("conversations.list", accessToken, { limit: 1001 })).json()).toEqual({ ok: false, error: "invalid_limit" });
    expect(await (await api("conversations.list", accessToken, { cursor: "bm9wZQ==" })).json()).toEqual({
      ok: false,
      error: "invalid_cursor",
    });
  });

  it("answers missing_scope with needed and provided when the grant lacks the read scopes", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope: "chat:write,channels:read" });
    expect(await (await api("conversations.list", accessToken, { types: "public_channel,private_channel" })).json()).toEqual({
      ok: false,
      error: "missing_scope",
      needed: "groups:read",
      provided: "chat:write,channels:read",
    });
    expect(await (await api("conversations.info", accessToken, { channel: "C0PRIVATE1" })).json()).toMatchObject({
      error: "missing_scope",
      needed: "groups:read",
    });
    expect(await (await api("conversations.history", accessToken, { channel: "C0GENERAL1" })).json()).toMatchObject({
      error: "missing_scope",
      needed: "channels:history",
    });
  });

  it("conversations.info: channel_not_found for unknown and invisible private channels, is_archived in the object", async () => {
    const { accessToken } = await grantFor(emu, "slack", { scope: scopes });
    expect(await (await api("conversations.info", accessToken, { channel: "C0NOPE0001" })).json()).toEqual({
      ok: false,
      error: "channel_not_found",
    });
    expect(await (await api("conversations.info", accessToken, { channel: "G0SECRET01" })).json()).toEqual({
      ok: false,
      error: "channel_not_found",
    });
    expect(await (await api("conversations.info", accessToken, { channel: "C0OLDNEWS1", include_num_members: true })).json()).toMatchObject(
      {
        ok: true,
        channel: { id: "C0OLDNEWS1", is_archived: true, num_members: expect.any(Number) as number },
      },
    );
  });
});

describe("Notion", () => {
  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, "Notion-Version": "2022-06-28" });

  it("GET /v1/users pages the workspace's people and its bot by start_cursor; pages refuse people who are not in it", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    type Users = {
      object: string;
      type: string;
      results: { id: string; type: string; person?: { email: string } }[];
      next_cursor: string | null;
      has_more: boolean;
    };
    const first = await (await get("/notion/v1/users", headers(accessToken))).json<Users>();
    expect(first).toMatchObject({ object: "list", type: "user", has_more: true });
    expect(first.results).toHaveLength(100);
    expect(first.results[0]).toMatchObject({ type: "person", person: { email: "ada@notion.emu" } });
    const second = await (await get(`/notion/v1/users?start_cursor=${first.next_cursor}`, headers(accessToken))).json<Users>();
    expect(second.has_more).toBe(false);
    expect(second.results.map((user) => user.type)).toEqual([...Array<string>(21).fill("person"), "bot"]);
    expect((await get("/notion/v1/users?page_size=101", headers(accessToken))).status).toBe(400);

    const page = (people: unknown) =>
      post(
        "/notion/v1/pages",
        {
          parent: { database_id: "d8100000-0000-4000-8000-000000000001" },
          properties: { Name: { title: [{ text: { content: "x" } }] }, Reviewer: { people } },
        },
        headers(accessToken),
      );
    expect((await page([{ id: "a5e00000-0000-4000-8000-00000000c002" }])).status).toBe(200);
    const stranger = await page([{ id: "a5e00000-0000-4000-8000-00000000ffff" }]);
    expect(stranger.status).toBe(400);
    expect(await stranger.json()).toMatchObject({
      code: "validation_error",
      message: "Could not find user with ID: a5e00000-0000-4000-8000-00000000ffff.",
    });
  });

  it("POST /v1/search pages the shared databases (page_size ≤ 100), finds them by title, leaves archived ones out", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    type Page = {
      object: string;
      results: { object: string; id: string; archived: boolean }[];
      next_cursor: string | null;
      has_more: boolean;
      type: string;
    };
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      // Annotated: the request reads `cursor`, which is assigned from `body` further down the loop.
      const body: Page = await (
        await post(
          "/notion/v1/search",
          { filter: { property: "object", value: "database" }, page_size: 100, ...(cursor ? { start_cursor: cursor } : {}) },
          headers(accessToken),
        )
      ).json();
      expect(body).toMatchObject({ object: "list", type: "page_or_database" });
      expect(body.results.every((result) => result.object === "database" && !result.archived)).toBe(true);
      ids.push(...body.results.map((result) => result.id));
      cursor = body.next_cursor;
      expect(body.has_more).toBe(cursor !== null);
    } while (cursor);
    // 2 shared originals + 150 trackers − 6 archived; the unshared one never shows.
    expect(ids).toHaveLength(146);
    expect(ids).not.toContain("d8000000-0000-4000-8000-000000000002");

    const found = await (
      await post("/notion/v1/search", { query: "tracker 01", filter: { property: "object", value: "database" } }, headers(accessToken))
    ).json<{ results: { title: { plain_text: string }[] }[] }>();
    expect(found.results.map((result) => result.title[0]!.plain_text).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `Project Tracker 01${i}`),
    );
    const tooBig = await post("/notion/v1/search", { page_size: 101 }, headers(accessToken));
    expect(tooBig.status).toBe(400);
    expect(await tooBig.json()).toMatchObject({ object: "error", code: "validation_error" });
    const wrongFilter = await post("/notion/v1/search", { filter: { property: "object", value: "data_source" } }, headers(accessToken));
    expect(wrongFilter.status).toBe(400);
  });

  it("GET /v1/databases/{id} carries select, status and multi_select options; unshared is object_not_found; archived still reads", async () => {
    const { accessToken } = await grantFor(emu, "notion");
    const tracker = await (
      await get("/notion/v1/databases/d8100000-0000-4000-8000-000000000001", headers(accessToken))
    ).json<{
      properties: Record<string, Record<string, unknown>>;
    }>();
    expect(tracker.properties.Status).toMatchObject({
      type: "status",
      status: { options: [{ name: "Not started" }, { name: "In progress" }, { name: "Done" }], groups: expect.any(Array) as unknown[] },
    });
    expect(tracker.properties.Priority).toMatchObject({
      type: "select",
      select: { options: [{ name: "High" }, { name: "Medium" }, { name: "Low" }] },
    });
    expect(tracker.properties.Tags).toMatchObject({
      type: "multi_select",
      multi_select: { options: [{ name: "frontend" }, { name: "backend" }, { name: "infra" }] },
    });
    const hidden = await get("/notion/v1/databases/d8000000-0000-4000-8000-000000000002", headers(accessToken));
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toMatchObject({ code: "object_not_found" });
    expect(await (await get("/notion/v1/databases/d8100000-0000-4000-8000-000000000025", headers(accessToken))).json()).toMatchObject({
      archived: true,
      in_trash: true,
    });
    const write = await post(
      "/notion/v1/pages",
      { parent: { database_id: "d8100000-0000-4000-8000-000000000025" }, properties: { Name: { title: [{ text: { content: "x" } }] } } },
      headers(accessToken),
    );
    expect(write.status).toBe(400);
    expect(await write.json()).toMatchObject({ code: "validation_error", message: expect.stringContaining("archived") as string });
  });
});

describe("Linear", () => {
  const graphql = (token: string, query: string, variables?: Record<string, unknown>) =>
    post("/linear/api/graphql", { query, variables }, { Authorization: `Bearer ${token}` });
  const TEAMS =
    "query Teams($first: Int, $after: String, $filter: TeamFilter) { teams(first: $first, after: $after, filter: $filter) { nodes { id key name } pageInfo { hasNextPage endCursor } } }";

  it("teams(first, after) pages with pageInfo; archived teams are left out; a filter narrows by name", async () => {
    const { accessToken } = await grantFor(emu, "linear");
    type Page = { data: { teams: { nodes: { key: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
    const keys: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      // Annotated: the request reads `after`, which is assigned from `page` further down the loop.
      const page: Page = await (await graphql(accessToken, TEAMS, { first: 50, after })).json();
      keys.push(...page.data.teams.nodes.map((team) => team.key));
      after = page.data.teams.pageInfo.hasNextPage ? page.data.teams.pageInfo.endCursor : null;
      pages += 1;
    } while (after);
    expect(pages).toBe(3);
    expect(keys).toHaveLength(120 - 5);
    expect(keys).not.toContain("T020");
    const filtered = await (await graphql(accessToken, TEAMS, { filter: { name: { containsIgnoreCase: "squad 10" } } })).json<Page>();
    // Squad 100 is archived.
    expect(filtered.data.teams.nodes.map((team) => team.key)).toEqual([
      "T101",
      "T102",
      "T103",
      "T104",
      "T105",
      "T106",
      "T107",
      "T108",
      "T109",
    ]);
  });

  it("team(id:) with its workflow states; workflowStates(filter: team) returns the same", async () => {
    const { accessToken } = await grantFor(emu, "linear");
    const team = await (
      await graphql(
        accessToken,
        'query { team(id: "7e000000-0000-4000-8000-000000000001") { key states { nodes { id name type position } } } }',
      )
    ).json<{
      data: { team: { key: string; states: { nodes: { id: string; name: string; type: string; position: number }[] } } };
    }>();
    expect(team.data.team.key).toBe("ENG");
    expect(team.data.team.states.nodes.map((state) => [state.name, state.type])).toEqual([
      ["Backlog", "backlog"],
      ["Todo", "unstarted"],
      ["In Progress", "started"],
      ["In Review", "started"],
      ["Done", "completed"],
      ["Canceled", "canceled"],
      ["Duplicate", "canceled"],
    ]);
    expect(team.data.team.states.nodes[0]!.id).toBe("5a000000-0000-4000-8000-000000000001");
    const states = await (
      await graphql(
        accessToken,
        'query S($team: ID) { workflowStates(filter: { team: { id: { eq: $team } }, type: { eq: "started" } }) { nodes { name } } }',
        { team: "7e000000-0000-4000-8000-000000000001" },
      )
    ).json<{
      data: { workflowStates: { nodes: { name: string }[] } };
    }>();
    expect(states.data.workflowStates.nodes.map((state) => state.name)).toEqual(["In Progress", "In Review"]);
    const missing = await graphql(accessToken, 'query { team(id: "nope") { id } }');
    expect(await missing.json()).toMatchObject({
      errors: [{ message: "Entity not found: Team", extensions: { code: "INPUT_ERROR" } }],
      data: null,
    });
  });

  it("answers queries that do not validate against Linear's schema with GraphQL errors", async () => {
    const { accessToken } = await grantFor(emu, "linear");
    const bad = await graphql(accessToken, 'query { teams(first: "ten") { nodes { id } } }');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      errors: [{ message: expect.stringContaining("Int cannot represent") as string, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }],
    });
    const unmodelled = await graphql(accessToken, "query { viewer { id timezone } }");
    expect(await unmodelled.json()).toMatchObject({ errors: [{ message: "The emulator does not model User.timezone" }] });
  });
});

describe("Trello", () => {
  const auth = (token: string) => `key=emu-trello-key&token=${token}`;

  it("GET /1/members/me/boards: filter=open and fields; 60+ boards for a search box", async () => {
    const { accessToken } = await grantFor(emu, "trello");
    const all = await (
      await get(`/trello/api/1/members/me/boards?${auth(accessToken)}`)
    ).json<
      {
        id: string;
        closed: boolean;
        name: string;
      }[]
    >();
    expect(all).toHaveLength(61);
    const open = await (
      await get(`/trello/api/1/members/me/boards?filter=open&fields=name,closed&${auth(accessToken)}`)
    ).json<Record<string, unknown>[]>();
    expect(open).toHaveLength(55);
    expect(Object.keys(open[0]!).sort()).toEqual(["closed", "id", "name"]);
    expect((await get(`/trello/api/1/members/me/boards?filter=nope&${auth(accessToken)}`)).status).toBe(400);
  });

  it("boards and lists: 401 for someone else's, 404 unknown, 400 malformed; filter=open hides closed lists that still read by id", async () => {
    const { accessToken } = await grantFor(emu, "trello");
    expect(await (await get(`/trello/api/1/boards/5e1b00000000000000000001?fields=name&${auth(accessToken)}`)).json()).toEqual({
      id: "5e1b00000000000000000001",
      name: "SpokeDo Inbox",
    });
    const foreign = await get(`/trello/api/1/boards/5e1b00000000000000000002?${auth(accessToken)}`);
    expect([foreign.status, await foreign.text()]).toEqual([401, "unauthorized permission requested"]);
    expect((await get(`/trello/api/1/boards/5e1b0000000000000000ffff?${auth(accessToken)}`)).status).toBe(404);
    expect((await get(`/trello/api/1/boards/nope?${auth(accessToken)}`)).status).toBe(400);
    const lists = await (
      await get(`/trello/api/1/boards/5e1b00000000000000000001/lists?filter=open&${auth(accessToken)}`)
    ).json<
      {
        name: string;
      }[]
    >();
    expect(lists.map((list) => list.name)).toEqual(["To Do", "Doing"]);
    const closed = await (
      await get(`/trello/api/1/boards/5e1b00000000000000000001/lists?filter=closed&${auth(accessToken)}`)
    ).json<
      {
        name: string;
      }[]
    >();
    expect(closed.map((list) => list.name)).toEqual(["Old ideas"]);
    expect(await (await get(`/trello/api/1/lists/5e1c00000000000000000004?${auth(accessToken)}`)).json()).toMatchObject({
      closed: true,
      idBoard: "5e1b00000000000000000001",
    });
  });
});
