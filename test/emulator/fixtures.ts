import type { Provider } from "./state";

/** The one app registered with each emulated provider: what SpokeDo is configured with. */
export const EMULATOR_CLIENTS = {
  github: { clientId: "emu-github-client", clientSecret: "emu-github-secret" },
  slack: { clientId: "emu-slack-client", clientSecret: "emu-slack-secret" },
  notion: { clientId: "emu-notion-client", clientSecret: "emu-notion-secret" },
  linear: { clientId: "emu-linear-client", clientSecret: "emu-linear-secret" },
  trello: { apiKey: "emu-trello-key", apiSecret: "emu-trello-secret" },
} as const;

export const APP_NAME = "SpokeDo";

export function registeredRedirectUri(appOrigin: string, provider: Provider) {
  return `${appOrigin}/integration-connections/callback/${provider}`;
}

// ---------- GitHub ----------

export const GITHUB_ACCOUNTS = [
  { id: 1001, login: "octocat", name: "The Octocat", email: "octocat@github.emu" },
  { id: 1002, login: "hubot", name: "Hubot", email: "hubot@github.emu" },
] as const;

/** The owner has push access; anyone may open issues on public repos, but their labels and assignees are dropped. */
export const GITHUB_REPOS = [
  { id: 2001, owner: "octocat", name: "hello-world", private: false, hasIssues: true },
  { id: 2002, owner: "octocat", name: "spokedo-inbox", private: true, hasIssues: true },
  { id: 2003, owner: "octocat", name: "archived", private: false, hasIssues: false },
  { id: 2004, owner: "hubot", name: "ops", private: true, hasIssues: true },
] as const;

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
  | "title"
  | "rich_text"
  | "number"
  | "select"
  | "multi_select"
  | "date"
  | "url"
  | "checkbox"
  | "email";

export interface NotionDataSource {
  id: string;
  properties: Record<string, NotionPropertyType>;
}

export interface NotionDatabase {
  id: string;
  title: string;
  /** Shared with the integration in the page picker. */
  shared: boolean;
  dataSources: NotionDataSource[];
}

const INBOX_SCHEMA: Record<string, NotionPropertyType> = {
  Name: "title",
  Tags: "multi_select",
  Status: "select",
  Link: "url",
  Notes: "rich_text",
};

export const NOTION_WORKSPACES: readonly {
  id: string;
  name: string;
  icon: string | null;
  botId: string;
  owner: { id: string; name: string; email: string };
  databases: NotionDatabase[];
}[] = [
  {
    id: "7c1e0000-0000-4000-8000-00000000a001",
    name: "Emu Notes",
    icon: "📝",
    botId: "b0700000-0000-4000-8000-00000000b001",
    owner: { id: "a5e00000-0000-4000-8000-00000000c001", name: "Ada Lovelace", email: "ada@notion.emu" },
    databases: [
      {
        id: "d8000000-0000-4000-8000-000000000001",
        title: "SpokeDo Inbox",
        shared: true,
        dataSources: [{ id: "d5000000-0000-4000-8000-000000000001", properties: INBOX_SCHEMA }],
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
        dataSources: [{ id: "d5000000-0000-4000-8000-000000000005", properties: INBOX_SCHEMA }],
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

export const TRELLO_MEMBERS = [
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
        ],
      },
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
] as const;

/** Everything above in one object: for tests and the admin endpoint. */
export const EMULATOR_ACCOUNTS = {
  github: { accounts: GITHUB_ACCOUNTS, repos: GITHUB_REPOS },
  slack: { appId: SLACK_APP_ID, teams: SLACK_TEAMS },
  notion: { workspaces: NOTION_WORKSPACES },
  linear: { accounts: LINEAR_ACCOUNTS },
  trello: { members: TRELLO_MEMBERS },
} as const;
