import type { ProviderId } from "./state";

/** The one app registered with each emulated provider: what SpokeDo is configured with. */
export const EMULATOR_CLIENTS = {
  github: { clientId: "emu-github-client", clientSecret: "emu-github-secret" },
  slack: { clientId: "emu-slack-client", clientSecret: "emu-slack-secret" },
  notion: { clientId: "emu-notion-client", clientSecret: "emu-notion-secret" },
  linear: { clientId: "emu-linear-client", clientSecret: "emu-linear-secret" },
  trello: { apiKey: "emu-trello-key", apiSecret: "emu-trello-secret" },
} as const;

export const APP_NAME = "SpokeDo";

export function registeredRedirectUri(appOrigin: string, provider: ProviderId) {
  return `${appOrigin}/integration-connections/callback/${provider}`;
}

// ---------- GitHub ----------

export const GITHUB_ACCOUNTS = [
  { id: 1001, login: "octocat", name: "The Octocat", email: "octocat@github.emu" },
  { id: 1002, login: "hubot", name: "Hubot", email: "hubot@github.emu" },
] as const;

export type GithubRole = "read" | "triage" | "write" | "maintain" | "admin";

export interface GithubRepoFixture {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  hasIssues: boolean;
  archived?: boolean;
  description?: string | null;
  /** Outside collaborators by login; the owning user is admin, members of an owning org read. */
  collaborators?: Readonly<Record<string, GithubRole>>;
  /** Labels beyond GitHub's nine defaults. */
  labels?: readonly string[];
  createdAt?: string;
  updatedAt?: string;
  pushedAt?: string;
}

const day = (n: number) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Users who are not consent accounts: org members and collaborators (never sign in). */
export const GITHUB_USERS = Array.from({ length: 130 }, (_, i) => ({
  id: 7001 + i,
  login: `emu-dev-${String(i + 1).padStart(3, "0")}`,
  name: `Emu Developer ${i + 1}`,
}));

/** Organizations: members see every repo of the org (base permission read). */
export const GITHUB_ORGS = [{ id: 5001, login: "emu-org", members: ["hubot", ...GITHUB_USERS.map((user) => user.login)] }] as const;

/**
 * The owner has push access; anyone may open issues on public repos, but their labels and
 * assignees are dropped. hubot owns 300 more (svc-001…svc-300, every third private, every 25th
 * archived, every 40th with issues disabled) so pickers need pagination and a search box.
 */
export const GITHUB_REPOS: readonly GithubRepoFixture[] = [
  {
    id: 2001,
    owner: "octocat",
    name: "hello-world",
    private: false,
    hasIssues: true,
    description: "My first repository on GitHub!",
    labels: Array.from({ length: 111 }, (_, i) => `area/${String(i + 1).padStart(3, "0")}`),
  },
  { id: 2002, owner: "octocat", name: "spokedo-inbox", private: true, hasIssues: true },
  // Issues disabled (410); also archived, and 410 wins (see the README).
  { id: 2003, owner: "octocat", name: "archived", private: false, hasIssues: false, archived: true },
  { id: 2004, owner: "hubot", name: "ops", private: true, hasIssues: true },
  // Archived with issues on: creating an issue is 403 "Repository was archived so is read-only."
  { id: 2005, owner: "octocat", name: "legacy", private: false, hasIssues: true, archived: true },
  // Private repos shared with hubot at each role below write: visible, no push.
  { id: 2006, owner: "octocat", name: "shared-notes", private: true, hasIssues: true, collaborators: { hubot: "read" } },
  { id: 2007, owner: "octocat", name: "team-board", private: true, hasIssues: true, collaborators: { hubot: "triage" } },
  { id: 2008, owner: "octocat", name: "co-write", private: true, hasIssues: true, collaborators: { hubot: "write" } },
  {
    id: 2009,
    owner: "emu-org",
    name: "monorepo",
    private: true,
    hasIssues: true,
    collaborators: Object.fromEntries(GITHUB_USERS.map((user) => [user.login, "write" as const])),
  },
  { id: 2010, owner: "emu-org", name: "website", private: false, hasIssues: true },
  ...Array.from({ length: 300 }, (_, i): GithubRepoFixture => ({
    id: 3001 + i,
    owner: "hubot",
    name: `svc-${String(i + 1).padStart(3, "0")}`,
    private: (i + 1) % 3 === 0,
    archived: (i + 1) % 25 === 0,
    hasIssues: (i + 1) % 40 !== 0,
    description: `Service ${i + 1}`,
    createdAt: day(i),
    updatedAt: day(400 + ((i * 37) % 300)),
    pushedAt: day(400 + ((i * 53) % 300)),
  })),
];

// ---------- Slack ----------

export const SLACK_APP_ID = "A0EMUAPP01";

export interface SlackChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isMember: boolean;
  isArchived: boolean;
}

const channel = (id: string, name: string, flags: Partial<SlackChannel> = {}): SlackChannel => ({
  id,
  name,
  isPrivate: false,
  isMember: true,
  isArchived: false,
  ...flags,
});

export const SLACK_TEAMS = [
  {
    id: "T0EMU0001",
    name: "Emu Corp",
    domain: "emucorp",
    botUserId: "U0BOT0001",
    botId: "B0BOT0001",
    userId: "U0USER0001",
    userName: "emu.admin",
    channels: [
      channel("C0GENERAL1", "general"),
      channel("C0ALERTS01", "alerts"),
      // Public, bot not invited: not_in_channel unless the token has chat:write.public.
      channel("C0RANDOM01", "random", { isMember: false }),
      channel("C0OLDNEWS1", "old-news", { isArchived: true }),
      // Private, bot not invited: invisible to it, so channel_not_found.
      channel("G0SECRET01", "secret", { isPrivate: true, isMember: false }),
      // Private, bot invited.
      channel("C0PRIVATE1", "leads", { isPrivate: true }),
      // 320 more, so channel pickers need cursors and a search box: every 4th private (the bot is
      // in every 8th), every 3rd public one without the bot, every 30th archived.
      ...Array.from({ length: 320 }, (_, i) => {
        const n = i + 1;
        const isPrivate = n % 4 === 0;
        return channel(`C1P${String(n).padStart(6, "0")}`, `proj-${String(n).padStart(3, "0")}`, {
          isPrivate,
          isMember: isPrivate ? n % 8 === 0 : n % 3 !== 0,
          isArchived: n % 30 === 0,
        });
      }),
    ],
  },
  {
    id: "T0EMU0002",
    name: "Emu Labs",
    domain: "emulabs",
    botUserId: "U0BOT0002",
    botId: "B0BOT0002",
    userId: "U0USER0002",
    userName: "lab.admin",
    channels: [channel("C0GENERAL2", "general"), channel("C0LABNOTE2", "lab-notes")],
  },
] as const satisfies readonly {
  id: string;
  name: string;
  domain: string;
  botUserId: string;
  botId: string;
  userId: string;
  userName: string;
  channels: readonly SlackChannel[];
}[];

// ---------- Notion ----------

export type NotionPropertyType =
  "title" | "rich_text" | "number" | "select" | "multi_select" | "date" | "url" | "checkbox" | "email" | "status" | "people";

export interface NotionDataSource {
  id: string;
  properties: Record<string, NotionPropertyType>;
  /** Option names of select, multi_select and status properties. */
  options?: Record<string, string[]>;
}

export interface NotionDatabase {
  id: string;
  title: string;
  /** Shared with the integration in the page picker. */
  shared: boolean;
  dataSources: NotionDataSource[];
  /** Archived (moved to trash): still readable, no longer writable, left out of search. */
  archived?: boolean;
  createdTime?: string;
}

const INBOX_SCHEMA: Record<string, NotionPropertyType> = {
  Name: "title",
  Tags: "multi_select",
  Status: "select",
  Link: "url",
  Notes: "rich_text",
};

const INBOX_OPTIONS = { Tags: ["insight", "automated", "bug"], Status: ["Inbox", "Triaged", "Done"] };

/** 150 more shared databases, so database pickers need cursors and a search box; every 25th archived. */
const TRACKERS: NotionDatabase[] = Array.from({ length: 150 }, (_, i) => ({
  id: `d8100000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
  title: `Project Tracker ${String(i + 1).padStart(3, "0")}`,
  shared: true,
  archived: (i + 1) % 25 === 0,
  createdTime: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString().replace(/:\d{2}\.\d{3}Z$/, ":00.000Z"),
  dataSources: [
    {
      id: `d5100000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      properties: {
        Name: "title",
        Status: "status",
        Priority: "select",
        Tags: "multi_select",
        Due: "date",
        Estimate: "number",
        Blocked: "checkbox",
        Reviewer: "people",
      },
      options: {
        Status: ["Not started", "In progress", "Done"],
        Priority: ["High", "Medium", "Low"],
        Tags: ["frontend", "backend", "infra"],
      },
    },
  ],
}));

export const NOTION_WORKSPACES: readonly {
  id: string;
  name: string;
  icon: string | null;
  botId: string;
  owner: { id: string; name: string; email: string };
  /** The workspace's other people (GET /v1/users pages them with the owner and the bot). */
  members?: { id: string; name: string; email: string }[];
  databases: NotionDatabase[];
}[] = [
  {
    id: "7c1e0000-0000-4000-8000-00000000a001",
    name: "Emu Notes",
    icon: "📝",
    botId: "b0700000-0000-4000-8000-00000000b001",
    owner: { id: "a5e00000-0000-4000-8000-00000000c001", name: "Ada Lovelace", email: "ada@notion.emu" },
    // 121 people with the owner, so GET /v1/users needs its cursor.
    members: [
      { id: "a5e00000-0000-4000-8000-00000000c002", name: "Grace Hopper", email: "grace@notion.emu" },
      ...Array.from({ length: 119 }, (_, i) => ({
        id: `a5e00000-0000-4000-8000-0000000${String(i + 1).padStart(5, "0")}`,
        name: `Emu Writer ${String(i + 1).padStart(3, "0")}`,
        email: `writer-${String(i + 1).padStart(3, "0")}@notion.emu`,
      })),
    ],
    databases: [
      {
        id: "d8000000-0000-4000-8000-000000000001",
        title: "SpokeDo Inbox",
        shared: true,
        dataSources: [{ id: "d5000000-0000-4000-8000-000000000001", properties: INBOX_SCHEMA, options: INBOX_OPTIONS }],
      },
      {
        id: "d8000000-0000-4000-8000-000000000002",
        title: "Private Roadmap",
        shared: false,
        dataSources: [{ id: "d5000000-0000-4000-8000-000000000002", properties: { Name: "title" } }],
      },
      {
        // Two data sources: only reachable by data_source_id (Notion-Version 2025-09-03+).
        id: "d8000000-0000-4000-8000-000000000003",
        title: "Team Tasks",
        shared: true,
        dataSources: [
          { id: "d5000000-0000-4000-8000-000000000003", properties: { Task: "title", Done: "checkbox" } },
          { id: "d5000000-0000-4000-8000-000000000004", properties: { Task: "title", Due: "date" } },
        ],
      },
      ...TRACKERS,
    ],
  },
  {
    id: "7c1e0000-0000-4000-8000-00000000a002",
    name: "Emu Labs Wiki",
    icon: null,
    botId: "b0700000-0000-4000-8000-00000000b002",
    owner: { id: "a5e00000-0000-4000-8000-00000000c002", name: "Grace Hopper", email: "grace@notion.emu" },
    databases: [
      {
        id: "d8000000-0000-4000-8000-000000000005",
        title: "Lab Log",
        shared: true,
        dataSources: [{ id: "d5000000-0000-4000-8000-000000000005", properties: INBOX_SCHEMA, options: INBOX_OPTIONS }],
      },
    ],
  },
];

// ---------- Linear ----------

export const LINEAR_ACCOUNTS = [
  {
    viewer: { id: "1e000000-0000-4000-8000-000000000001", name: "Linus Emu", displayName: "linus", email: "linus@linear.emu" },
    /** The viewer of actor=app installs: the app's user in that workspace. */
    appUser: { id: "1a000000-0000-4000-8000-000000000001", name: APP_NAME, displayName: "spokedo", email: "spokedo-app@linear.emu" },
    organization: { id: "0e000000-0000-4000-8000-000000000001", name: "Emu Inc", urlKey: "emu" },
    teams: [
      { id: "7e000000-0000-4000-8000-000000000001", key: "ENG", name: "Engineering" },
      { id: "7e000000-0000-4000-8000-000000000002", key: "OPS", name: "Operations" },
      // 118 more, so team pickers need cursors (Linear pages 50 by default); every 20th archived.
      ...Array.from({ length: 118 }, (_, i) => ({
        id: `7e000000-0000-4000-8000-${String(101 + i).padStart(12, "0")}`,
        key: `T${String(i + 1).padStart(3, "0")}`,
        name: `Squad ${String(i + 1).padStart(3, "0")}`,
        archived: (i + 1) % 20 === 0,
      })),
    ],
  },
  {
    viewer: { id: "1e000000-0000-4000-8000-000000000002", name: "Grace Emu", displayName: "grace", email: "grace@linear.emu" },
    appUser: { id: "1a000000-0000-4000-8000-000000000002", name: APP_NAME, displayName: "spokedo", email: "spokedo-app2@linear.emu" },
    organization: { id: "0e000000-0000-4000-8000-000000000002", name: "Emu Labs", urlKey: "emulabs" },
    teams: [{ id: "7e000000-0000-4000-8000-000000000003", key: "LAB", name: "Lab" }],
  },
] as const;

// ---------- Trello ----------

export interface TrelloListFixture {
  id: string;
  name: string;
  closed?: boolean;
}

export interface TrelloBoardFixture {
  id: string;
  name: string;
  shortLink: string;
  closed?: boolean;
  lists: readonly TrelloListFixture[];
}

const hex24 = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(24 - prefix.length, "0")}`;

/** 60 more boards for emutrello (every 10th closed), each with three open lists and an archived one. */
const TRELLO_BOARDS: TrelloBoardFixture[] = Array.from({ length: 60 }, (_, i) => ({
  id: hex24("5e1b01", i + 1),
  name: `Team Board ${String(i + 1).padStart(2, "0")}`,
  shortLink: `EmuB${String(i + 1).padStart(4, "0")}`,
  closed: (i + 1) % 10 === 0,
  lists: [
    { id: hex24("5e1c01", (i + 1) * 10 + 1), name: "Backlog" },
    { id: hex24("5e1c01", (i + 1) * 10 + 2), name: "Doing" },
    { id: hex24("5e1c01", (i + 1) * 10 + 3), name: "Done" },
    { id: hex24("5e1c01", (i + 1) * 10 + 4), name: "Archive", closed: true },
  ],
}));

export const TRELLO_MEMBERS: readonly { id: string; username: string; fullName: string; boards: readonly TrelloBoardFixture[] }[] = [
  {
    id: "5e1a00000000000000000001",
    username: "emutrello",
    fullName: "Emu Trello",
    boards: [
      {
        id: "5e1b00000000000000000001",
        name: "SpokeDo Inbox",
        shortLink: "EmuInbx1",
        lists: [
          { id: "5e1c00000000000000000001", name: "To Do" },
          { id: "5e1c00000000000000000002", name: "Doing" },
          // Archived list: still readable by id, left out of filter=open.
          { id: "5e1c00000000000000000004", name: "Old ideas", closed: true },
        ],
      },
      ...TRELLO_BOARDS,
    ],
  },
  {
    id: "5e1a00000000000000000002",
    username: "trellomate",
    fullName: "Trello Mate",
    boards: [
      {
        id: "5e1b00000000000000000002",
        name: "Side Project",
        shortLink: "EmuSide2",
        lists: [{ id: "5e1c00000000000000000003", name: "Ideas" }],
      },
    ],
  },
];

/** Everything above in one object: for tests and the admin endpoint. */
export const EMULATOR_ACCOUNTS = {
  github: { accounts: GITHUB_ACCOUNTS, repos: GITHUB_REPOS },
  slack: { appId: SLACK_APP_ID, teams: SLACK_TEAMS },
  notion: { workspaces: NOTION_WORKSPACES },
  linear: { accounts: LINEAR_ACCOUNTS },
  trello: { members: TRELLO_MEMBERS },
} as const;
