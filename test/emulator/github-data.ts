// GitHub's data model as the emulator keeps it: who sees which repository with which role,
// labels, issues (and fixture pull requests), and the JSON objects the REST API answers with
// (shaped after the `simple-user`, `repository`, `full-repository`, `label` and `issue` schemas
// of GitHub's OpenAPI description, which the contract tests check them against).
import type { HandlerContext } from "./context";
import { GITHUB_ACCOUNTS, GITHUB_ORGS, GITHUB_REPOS, GITHUB_USERS, type GithubRepoFixture, type GithubRole } from "./fixtures";
import type { EmulatorState } from "./state";

export interface GithubUser {
  id: number;
  login: string;
  name?: string;
  type?: "User" | "Organization";
}

const ISO = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function findUser(login: string): GithubUser | undefined {
  const lower = login.toLowerCase();
  const org = GITHUB_ORGS.find((candidate) => candidate.login === lower);
  if (org) return { id: org.id, login: org.login, type: "Organization" };
  return [...GITHUB_ACCOUNTS, ...GITHUB_USERS].find((user) => user.login.toLowerCase() === lower);
}

export function userObject(ctx: Pick<HandlerContext, "options">, user: GithubUser) {
  const api = `${ctx.options.origin}/github/api/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: `MDQ6VXNlcj${user.id}`,
    avatar_url: `${ctx.options.origin}/github/avatars/${user.login}.png`,
    gravatar_id: "",
    url: api,
    html_url: `${ctx.options.origin}/github/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type ?? "User",
    user_view_type: "public",
    site_admin: false,
  };
}

// ---------- repositories and roles ----------

export const findRepo = (owner: string, name: string) =>
  GITHUB_REPOS.find((repo) => repo.owner.toLowerCase() === owner.toLowerCase() && repo.name.toLowerCase() === name.toLowerCase());

export type Affiliation = "owner" | "collaborator" | "organization_member";

/** The login's role on a repository and how it got it; null when it has none (public repos still read). */
export function roleOf(repo: GithubRepoFixture, login: string): { role: GithubRole; via: Affiliation } | null {
  const lower = login.toLowerCase();
  if (repo.owner.toLowerCase() === lower) return { role: "admin", via: "owner" };
  const collaborator = Object.entries(repo.collaborators ?? {}).find(([name]) => name.toLowerCase() === lower)?.[1];
  if (collaborator) return { role: collaborator, via: "collaborator" };
  const org = GITHUB_ORGS.find((candidate) => candidate.login === repo.owner);
  if (org && (org.members as readonly string[]).some((member) => member.toLowerCase() === lower))
    return { role: "read", via: "organization_member" };
  return null;
}

const RANK: Record<GithubRole, number> = { read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

export function permissionsOf(repo: GithubRepoFixture, login: string) {
  const role = roleOf(repo, login)?.role ?? (repo.private ? null : "read");
  const rank = role ? RANK[role] : 0;
  return { admin: rank >= 5, maintain: rank >= 4, push: rank >= 3, triage: rank >= 2, pull: rank >= 1 };
}

export const canSee = (repo: GithubRepoFixture, login: string) => !repo.private || roleOf(repo, login) !== null;
export const canPush = (repo: GithubRepoFixture, login: string) => permissionsOf(repo, login).push;

/**
 * Who can be assigned: the owner, collaborators with write or more, and members of an owning
 * organization (GitHub also allows earlier commenters; the emulator has no comments).
 */
export function assignableUsers(repo: GithubRepoFixture): GithubUser[] {
  const logins = new Set<string>();
  const owner = findUser(repo.owner);
  if (owner?.type !== "Organization") logins.add(repo.owner);
  for (const [login, role] of Object.entries(repo.collaborators ?? {})) if (RANK[role] >= RANK.write) logins.add(login);
  const org = GITHUB_ORGS.find((candidate) => candidate.login === repo.owner);
  for (const member of org?.members ?? []) logins.add(member);
  return [...logins]
    .map((login) => findUser(login))
    .filter((user): user is GithubUser => user !== undefined)
    .sort((a, b) => a.login.localeCompare(b.login));
}

const FALLBACK_TIME = "2021-03-04T05:06:07Z";

export function repositoryObject(ctx: Pick<HandlerContext, "options">, repo: GithubRepoFixture, viewer: string | null, openIssues = 0) {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${ctx.options.origin}/github/api/repos/${fullName}`;
  const html = `${ctx.options.origin}/github/${fullName}`;
  const owner = findUser(repo.owner) ?? { id: 0, login: repo.owner };
  return {
    id: repo.id,
    node_id: `R_kgDO${String(repo.id).padStart(8, "0")}`,
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: userObject(ctx, owner),
    html_url: html,
    description: repo.description ?? null,
    fork: false,
    license: null,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${new URL(ctx.options.origin).host}/${fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${new URL(ctx.options.origin).host}:${fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 0,
    default_branch: "main",
    open_issues_count: openIssues,
    is_template: false,
    topics: [],
    has_issues: repo.hasIssues,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: repo.archived ?? false,
    disabled: false,
    visibility: repo.private ? "private" : "public",
    pushed_at: repo.pushedAt ?? FALLBACK_TIME,
    created_at: repo.createdAt ?? FALLBACK_TIME,
    updated_at: repo.updatedAt ?? FALLBACK_TIME,
    ...(viewer ? { permissions: permissionsOf(repo, viewer) } : {}),
    allow_forking: true,
    web_commit_signoff_required: false,
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
  };
}

/** GET /repos/{owner}/{repo} adds these to a repository (the `full-repository` schema). */
export function fullRepositoryObject(ctx: Pick<HandlerContext, "options">, repo: GithubRepoFixture, viewer: string, openIssues: number) {
  return { ...repositoryObject(ctx, repo, viewer, openIssues), network_count: 0, subscribers_count: 0 };
}

// ---------- labels ----------

/** The nine labels every new repository gets. */
export const DEFAULT_LABELS: readonly [string, string, string][] = [
  ["bug", "d73a4a", "Something isn't working"],
  ["documentation", "0075ca", "Improvements or additions to documentation"],
  ["duplicate", "cfd3d7", "This issue or pull request already exists"],
  ["enhancement", "a2eeef", "New feature or request"],
  ["good first issue", "7057ff", "Good for newcomers"],
  ["help wanted", "008672", "Extra attention is needed"],
  ["invalid", "e4e669", "This doesn't seem right"],
  ["question", "d876e3", "Further information is requested"],
  ["wontfix", "ffffff", "This will not be worked on"],
];

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

/** The repository's labels; issue creation adds unknown names, as GitHub does. */
export function labelsOf(state: EmulatorState, repo: GithubRepoFixture): LabelRecord[] {
  const store = state.collection<{ repoId: number; labels: LabelRecord[] }>("github:labels");
  let entry = store.find((candidate) => candidate.repoId === repo.id);
  if (!entry) {
    const labels: LabelRecord[] = DEFAULT_LABELS.map(([name, color, description], index) => ({
      id: repo.id * 1000 + index,
      name,
      color,
      description,
      default: true,
    }));
    for (const [index, name] of (repo.labels ?? []).entries()) {
      labels.push({ id: repo.id * 1000 + 100 + index, name, color: "c5def5", description: null, default: false });
    }
    entry = { repoId: repo.id, labels };
    store.push(entry);
  }
  return entry.labels;
}

export function ensureLabel(state: EmulatorState, repo: GithubRepoFixture, name: string): LabelRecord {
  const labels = labelsOf(state, repo);
  const existing = labels.find((label) => label.name.toLowerCase() === name.toLowerCase());
  if (existing) return existing;
  const created: LabelRecord = { id: 4_000_000 + state.next("github:label-ids"), name, color: "ededed", description: null, default: false };
  labels.push(created);
  return created;
}

export function labelObject(ctx: Pick<HandlerContext, "options">, repo: GithubRepoFixture, label: LabelRecord) {
  return {
    id: label.id,
    node_id: `LA_kwDO${String(label.id).padStart(10, "0")}`,
    url: `${ctx.options.origin}/github/api/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: label.default,
    description: label.description,
  };
}

// ---------- issues ----------

export interface IssueRecord {
  repoId: number;
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  author: string;
  labels: number[];
  assignees: string[];
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  isPullRequest: boolean;
  authorAssociation: string;
}

/** Fixture history, so that issue lists contain a closed issue and a pull request, as real repos do. */
function seedIssues(state: EmulatorState): IssueRecord[] {
  const issues = state.collection<IssueRecord>("github:issues");
  if (!state.collection<boolean>("github:seeded").length) {
    state.collection<boolean>("github:seeded").push(true);
    const base = Date.UTC(2026, 0, 5, 10, 0, 0);
    issues.push(
      {
        repoId: 2001,
        id: 1_000_001,
        number: 1,
        title: "Found a bug",
        body: "It breaks on Tuesdays.",
        state: "closed",
        author: "hubot",
        labels: [2001 * 1000],
        assignees: [],
        createdAt: base,
        updatedAt: base + 86_400_000,
        closedAt: base + 86_400_000,
        isPullRequest: false,
        authorAssociation: "NONE",
      },
      {
        repoId: 2001,
        id: 1_000_002,
        number: 2,
        title: "Add a README",
        body: "Explains the project.",
        state: "open",
        author: "octocat",
        labels: [],
        assignees: [],
        createdAt: base + 2 * 86_400_000,
        updatedAt: base + 2 * 86_400_000,
        closedAt: null,
        isPullRequest: true,
        authorAssociation: "OWNER",
      },
    );
  }
  return issues;
}

export const issuesOf = (state: EmulatorState, repo: GithubRepoFixture) => seedIssues(state).filter((issue) => issue.repoId === repo.id);
export const allIssues = (state: EmulatorState) => seedIssues(state);

/** Issue and pull request numbers share one sequence per repository, as on GitHub; O(1) per issue. */
export function nextIssueNumber(state: EmulatorState, repo: GithubRepoFixture) {
  const numbers = state.collection<{ repoId: number; last: number }>("github:issue-numbers");
  let entry = numbers.find((candidate) => candidate.repoId === repo.id);
  if (!entry) {
    entry = { repoId: repo.id, last: issuesOf(state, repo).reduce((max, issue) => Math.max(max, issue.number), 0) };
    numbers.push(entry);
  }
  entry.last += 1;
  return entry.last;
}

export function issueObject(ctx: Pick<HandlerContext, "options" | "state">, repo: GithubRepoFixture, issue: IssueRecord) {
  const apiBase = `${ctx.options.origin}/github/api/repos/${repo.owner}/${repo.name}`;
  const url = `${apiBase}/issues/${issue.number}`;
  const htmlBase = `${ctx.options.origin}/github/${repo.owner}/${repo.name}`;
  const labels = labelsOf(ctx.state, repo);
  const assignees = issue.assignees.map((login) => findUser(login)).filter((user): user is GithubUser => user !== undefined);
  return {
    id: issue.id,
    node_id: `${issue.isPullRequest ? "PR" : "I"}_kwDO${String(issue.id).padStart(10, "0")}`,
    url,
    repository_url: apiBase,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${htmlBase}/${issue.isPullRequest ? "pull" : "issues"}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.state === "closed" ? "completed" : null,
    title: issue.title,
    body: issue.body,
    user: userObject(ctx, findUser(issue.author) ?? { id: 0, login: issue.author }),
    labels: issue.labels
      .map((id) => labels.find((label) => label.id === id))
      .filter((label): label is LabelRecord => label !== undefined)
      .map((label) => labelObject(ctx, repo, label)),
    assignee: assignees[0] ? userObject(ctx, assignees[0]) : null,
    assignees: assignees.map((user) => userObject(ctx, user)),
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: 0,
    ...(issue.isPullRequest
      ? {
          pull_request: {
            url: `${apiBase}/pulls/${issue.number}`,
            html_url: `${htmlBase}/pull/${issue.number}`,
            diff_url: `${htmlBase}/pull/${issue.number}.diff`,
            patch_url: `${htmlBase}/pull/${issue.number}.patch`,
            merged_at: null,
          },
        }
      : {}),
    closed_at: issue.closedAt === null ? null : ISO(issue.closedAt),
    created_at: ISO(issue.createdAt),
    updated_at: ISO(issue.updatedAt),
    closed_by: null,
    author_association: issue.authorAssociation,
    reactions: {
      url: `${url}/reactions`,
      total_count: 0,
      "+1": 0,
      "-1": 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
    timeline_url: `${url}/timeline`,
  };
}

export const isoSeconds = ISO;
