import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, GITHUB_ACCOUNTS, GITHUB_REPOS, type GithubRepoFixture } from "./fixtures";
import {
  allIssues,
  assignableUsers,
  canPush,
  canSee,
  ensureLabel,
  findRepo,
  fullRepositoryObject,
  issueObject,
  issuesOf,
  labelObject,
  labelsOf,
  nextIssueNumber,
  repositoryObject,
  roleOf,
  userObject,
  type IssueRecord,
} from "./github-data";
import {
  appendParams,
  asText,
  authorizationToken,
  escapeHtml,
  formEncoded,
  html,
  json,
  malformedJson,
  rawHttpFault,
  randomBase62,
  randomHex,
  redirect,
  splitScopes,
  text,
} from "./http";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";
import { buildGitHubWebhookRequest, githubAppAuthorizationRevoked } from "./webhooks";

const CLIENT = EMULATOR_CLIENTS.github;
const ACCESS_TOKEN_TTL_S = 28800;
// providers.md: documented as 15811200, observed 15897600; the brief pins the observed value.
const REFRESH_TOKEN_TTL_S = 15897600;
const DOCS = "https://docs.github.com";
const TROUBLESHOOTING = `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors`;

type GithubAccount = (typeof GITHUB_ACCOUNTS)[number];

const accountById = (id: string) => GITHUB_ACCOUNTS.find((account) => String(account.id) === id);

// ---------- authorize ----------

function authorize(ctx: HandlerContext): Response {
  const clientId = ctx.param("client_id");
  if (clientId !== CLIENT.clientId) {
    return renderErrorPage("GitHub", "404: Not Found", "There is no OAuth application with that client_id.", 404);
  }
  const registered = redirectUriFor(ctx, "github");
  const redirectUri = ctx.param("redirect_uri");
  const state = ctx.param("state") ?? undefined;
  // GitHub does not show an error page for a foreign redirect_uri: it sends the
  // user to the registered callback with the error in the query.
  if (redirectUri !== null && redirectUri !== registered) {
    return redirect(
      appendParams(registered, {
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch`,
        state,
      }),
    );
  }
  const target = redirectUri ?? registered;
  const challenge = ctx.param("code_challenge");
  const method = ctx.param("code_challenge_method") ?? (challenge ? "S256" : null);
  if (challenge && method !== "S256") {
    // PKCE on GitHub is S256 only.
    return redirect(
      appendParams(target, {
        error: "invalid_request",
        error_description: "code_challenge_method must be S256.",
        state,
      }),
    );
  }

  const decision = consentDecision(ctx);
  if (decision.decided && !decision.approve) {
    return redirect(
      appendParams(target, {
        error: "access_denied",
        error_description: "The user has denied your application access.",
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied`,
        state,
      }),
    );
  }
  const scopes = splitScopes(ctx.param("scope"));
  if (decision.decided) {
    const account = accountById(decision.accountId ?? "") ?? GITHUB_ACCOUNTS[0];
    const code = issueCode(
      ctx,
      {
        provider: "github",
        clientId,
        redirectUri,
        scopes,
        rawScope: ctx.param("scope") ?? "",
        codeChallenge: challenge,
        codeChallengeMethod: challenge ? "S256" : null,
        accountId: String(account.id),
      },
      () => randomHex(10),
    );
    return redirect(appendParams(target, { code: code.code, state }));
  }

  const appStyle = ctx.options.githubTokenStyle === "github-app";
  const login = ctx.param("login");
  const hidden: Record<string, string> = { client_id: clientId };
  for (const name of ["redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "login", "allow_signup", "prompt"]) {
    const value = ctx.param(name);
    if (value !== null) hidden[name] = value;
  }
  return renderConsentPage({
    providerLabel: "GitHub",
    action: ctx.url.pathname,
    scopeHeading: appStyle ? "Repository permissions" : "Requested scopes",
    scopes: appStyle ? ["issues: read and write", "metadata: read-only"] : scopes,
    notes: appStyle && scopes.length ? ["GitHub Apps ignore the scope parameter."] : [],
    accounts: GITHUB_ACCOUNTS.map((account) => ({ id: String(account.id), label: account.login, detail: account.name })),
    selectedAccountId: String(GITHUB_ACCOUNTS.find((account) => account.login === login)?.id ?? GITHUB_ACCOUNTS[0].id),
    hidden,
  });
}

// ---------- token endpoint ----------

/** GitHub answers form-encoded unless asked for JSON (or XML). */
function tokenEndpointResponse(ctx: HandlerContext, values: Record<string, string | number>) {
  const accept = (ctx.headers.get("Accept") ?? "").toLowerCase();
  if (accept.includes("application/json")) return json(values);
  if (accept.includes("application/xml")) {
    const body = Object.entries(values)
      .map(([key, value]) => `<${key}>${escapeHtml(String(value))}</${key}>`)
      .join("");
    return new Response(`<OAuth>${body}</OAuth>`, { headers: { "Content-Type": "application/xml; charset=utf-8" } });
  }
  return formEncoded(values);
}

function tokenError(ctx: HandlerContext, error: string, description: string, anchor = error.replaceAll("_", "-")) {
  // Token-endpoint errors are HTTP 200 on GitHub.
  return tokenEndpointResponse(ctx, { error, error_description: description, error_uri: `${TROUBLESHOOTING}/#${anchor}` });
}

const badVerificationCode = (ctx: HandlerContext) => tokenError(ctx, "bad_verification_code", "The code passed is incorrect or expired.");

const badRefreshToken = (ctx: HandlerContext) => tokenError(ctx, "bad_refresh_token", "The refresh token passed is incorrect or expired.");

function issueTokens(ctx: HandlerContext, input: { accountId: string; scopes: string[]; grantId: string }) {
  const now = ctx.state.now();
  if (ctx.options.githubTokenStyle === "oauth-app") {
    const token = ctx.state.addToken({
      provider: "github",
      clientId: CLIENT.clientId,
      accountId: input.accountId,
      accessToken: `gho_${randomBase62(36)}`,
      scopes: input.scopes,
      grantId: input.grantId,
      kind: "default",
      extra: { style: "oauth-app" },
    });
    return tokenEndpointResponse(ctx, { access_token: token.accessToken, token_type: "bearer", scope: token.scopes.join(",") });
  }
  const token = ctx.state.addToken({
    provider: "github",
    clientId: CLIENT.clientId,
    accountId: input.accountId,
    accessToken: `ghu_${randomBase62(36)}`,
    refreshToken: `ghr_${randomBase62(76)}`,
    scopes: [],
    expiresAt: now + ACCESS_TOKEN_TTL_S * 1000,
    refreshExpiresAt: now + REFRESH_TOKEN_TTL_S * 1000,
    grantId: input.grantId,
    kind: "default",
    extra: { style: "github-app" },
  });
  return tokenEndpointResponse(ctx, {
    access_token: token.accessToken,
    expires_in: ACCESS_TOKEN_TTL_S,
    refresh_token: token.refreshToken!,
    refresh_token_expires_in: REFRESH_TOKEN_TTL_S,
    scope: "",
    token_type: "bearer",
  });
}

async function accessToken(ctx: HandlerContext): Promise<Response> {
  // The docs list the credentials as parameters; Arctic sends HTTP Basic. Both work.
  const credentials = clientCredentials(ctx, { basic: true, body: true });
  if (credentials.id !== CLIENT.clientId || credentials.secret !== CLIENT.clientSecret) {
    return tokenError(ctx, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
  }
  const grantType = ctx.param("grant_type") ?? "authorization_code";
  if (grantType === "refresh_token") return refresh(ctx);
  if (grantType !== "authorization_code") {
    return tokenError(ctx, "unsupported_grant_type", `The grant type ${grantType} is not supported.`);
  }
  const result = await redeemCode(ctx, "github", {
    code: ctx.param("code"),
    clientId: CLIENT.clientId,
    redirectUri: ctx.param("redirect_uri"),
    codeVerifier: ctx.param("code_verifier"),
    redirectUriOptional: true,
  });
  if (!result.ok) {
    switch (result.problem) {
      case "redirect_mismatch":
        return tokenError(ctx, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
      case "pkce_missing":
      case "pkce_mismatch":
        // GitHub's PKCE error is undocumented; an RFC 6749 invalid_grant in its 200 shape.
        return tokenError(ctx, "invalid_grant", "The code_verifier does not match the code_challenge.", "bad-verification-code");
      default:
        return badVerificationCode(ctx);
    }
  }
  return issueTokens(ctx, { accountId: result.code.accountId, scopes: result.code.scopes, grantId: newGrantId() });
}

function refresh(ctx: HandlerContext) {
  if (ctx.fault?.kind === "invalid_code") return badRefreshToken(ctx);
  const old = ctx.state.usableRefreshToken("github", ctx.param("refresh_token"), CLIENT.clientId);
  if (!old) return badRefreshToken(ctx);
  // "Once you use a refresh token, that refresh token and the old user access token will no longer work."
  old.refreshUsed = true;
  if (ctx.options.revokeAccessTokenOnRefresh.github) old.revoked = true;
  return issueTokens(ctx, { accountId: old.accountId, scopes: old.scopes, grantId: old.grantId });
}

// ---------- REST API ----------

function apiError(status: number, message: string, documentationUrl = `${DOCS}/rest`, extra: Record<string, unknown> = {}) {
  return json({ message, ...extra, documentation_url: documentationUrl, status: String(status) }, status);
}

type RateResource = "core" | "search";

/**
 * Counts the request against the token's budget for `resource` (fixed windows that reset at
 * x-ratelimit-reset) and returns the headers GitHub sends on every API response.
 */
function takeRate(ctx: HandlerContext, token: IssuedToken, resource: RateResource) {
  const budget = ctx.options.rateLimits.github[resource];
  // GitHub App user tokens and OAuth tokens of one user share the user's budget.
  const taken = ctx.limits.takeWindow(`github:${resource}:${token.accountId}`, budget, ctx.state.now(), ctx.options.rateLimits.enabled);
  return {
    taken,
    headers: {
      "x-ratelimit-limit": String(taken.limit),
      "x-ratelimit-remaining": String(taken.remaining),
      "x-ratelimit-used": String(taken.used),
      "x-ratelimit-reset": String(Math.ceil(taken.resetAt / 1000)),
      "x-ratelimit-resource": resource,
      "x-github-api-version-selected": "2022-11-28",
      "x-github-request-id": randomBase62(8).toUpperCase(),
    } as Record<string, string>,
  };
}

/** Headers for answers that count nothing (refusals before authentication, faults). */
function peekRateHeaders(ctx: HandlerContext, accountId: string | null, remainingOverride?: number) {
  const budget = ctx.options.rateLimits.github.core;
  const window = accountId
    ? ctx.limits.peekWindow(`github:core:${accountId}`, budget, ctx.state.now())
    : { limit: budget.limit, used: 0, remaining: budget.limit, resetAt: ctx.state.now() + budget.windowMs };
  const remaining = remainingOverride ?? window.remaining;
  return {
    "x-ratelimit-limit": String(window.limit),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-used": String(window.limit - remaining),
    "x-ratelimit-reset": String(Math.ceil(window.resetAt / 1000)),
    "x-ratelimit-resource": "core",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": randomBase62(8).toUpperCase(),
  };
}

function withHeaders(response: Response, headers: Record<string, string>) {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

function userAgentRequired() {
  return text(
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header " +
      "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). " +
      "Check https://developer.github.com for other possible causes.\n",
    403,
  );
}

interface Session {
  token: IssuedToken;
  account: GithubAccount;
  headers: Record<string, string>;
  /** Adds the rate-limit headers to an answer. */
  send(response: Response): Response;
}

/**
 * User-Agent, credentials, then the token's budget: a refused budget answers 403 (or 429,
 * per `githubRateLimitedStatus`) with x-ratelimit-remaining: 0, as the primary limit does.
 */
function authenticate(
  ctx: HandlerContext,
  documentationUrl: string,
  resource: RateResource = "core",
): { ok: true; session: Session } | { ok: false; response: Response } {
  if (!ctx.headers.get("User-Agent")) return { ok: false, response: userAgentRequired() };
  const value = authorizationToken(ctx.headers, ["Bearer", "token"]);
  if (!value) return { ok: false, response: apiError(401, "Requires authentication", documentationUrl) };
  const check = ctx.state.checkAccessToken("github", value, ctx.fault);
  if (!check.ok) return { ok: false, response: apiError(401, "Bad credentials", `${DOCS}/rest`) };
  const { taken, headers } = takeRate(ctx, check.token, resource);
  if (!taken.allowed) {
    const response = apiError(
      ctx.options.githubRateLimitedStatus,
      `API rate limit exceeded for user ID ${check.token.accountId}.`,
      `${DOCS}/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit`,
    );
    return { ok: false, response: withHeaders(response, headers) };
  }
  const session: Session = {
    token: check.token,
    account: accountById(check.token.accountId)!,
    headers,
    send: (response) => withHeaders(response, headers),
  };
  return { ok: true, session };
}

/** OAuth App tokens reach private repositories only with `repo`; GitHub App user tokens reach the user's. */
function tokenReaches(token: IssuedToken, repo: GithubRepoFixture) {
  if (token.extra.style !== "oauth-app") return true;
  return token.scopes.includes("repo") || !repo.private;
}

/** The repository as this session sees it: undefined for one it cannot see (always a 404, never a 403). */
function visibleRepo(session: Session, owner: string, name: string) {
  const repo = findRepo(owner, name);
  if (!repo || !canSee(repo, session.account.login) || !tokenReaches(session.token, repo)) return undefined;
  return repo;
}

function notFoundFor(session: Session, documentationUrl: string) {
  const response = apiError(404, "Not Found", documentationUrl);
  if (session.token.extra.style === "oauth-app") response.headers.set("X-Accepted-OAuth-Scopes", "repo");
  return session.send(response);
}

/** per_page (default 30, at most 100) and page (default 1), as GitHub reads them. */
function pagination(url: URL) {
  const perPage = Math.min(100, Math.max(1, Math.floor(Number(url.searchParams.get("per_page") ?? "30")) || 30));
  const page = Math.max(1, Math.floor(Number(url.searchParams.get("page") ?? "1")) || 1);
  return { perPage, page };
}

/** One page of `items`, and the Link header (prev, next, last, first) GitHub sends with it. */
function paginate<T>(ctx: HandlerContext, items: T[], apiPath: string) {
  const { perPage, page } = pagination(ctx.url);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number) => {
    const target = new URL(`${ctx.options.origin}/github/api${apiPath}`);
    for (const [key, value] of ctx.url.searchParams) if (key !== "page") target.searchParams.append(key, value);
    target.searchParams.set("page", String(n));
    return target.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${pageUrl(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`);
  return { slice: items.slice((page - 1) * perPage, page * perPage), link: links.length ? links.join(", ") : null };
}

function listResponse(session: Session, body: unknown, link: string | null) {
  const response = json(body);
  if (link) response.headers.set("Link", link);
  return session.send(response);
}

function getUser(ctx: HandlerContext) {
  const auth = authenticate(ctx, `${DOCS}/rest/users/users#get-the-authenticated-user`);
  if (!auth.ok) return auth.response;
  const { token, account } = auth.session;
  const response = json({
    ...userObject(ctx, account),
    // The authenticated user's own profile is the private view.
    user_view_type: "private",
    name: account.name,
    company: null,
    blog: "",
    location: null,
    email: account.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: GITHUB_REPOS.filter((repo) => repo.owner === account.login && !repo.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2011-01-25T18:44:36Z",
    updated_at: "2026-01-01T00:00:00Z",
    private_gists: 0,
    total_private_repos: GITHUB_REPOS.filter((repo) => repo.owner === account.login && repo.private).length,
    owned_private_repos: GITHUB_REPOS.filter((repo) => repo.owner === account.login && repo.private).length,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  });
  if (token.extra.style === "oauth-app") {
    // Only OAuth App tokens carry scopes, and so only they get these headers.
    Object.assign(auth.session.headers, { "X-OAuth-Scopes": token.scopes.join(", "), "X-Accepted-OAuth-Scopes": "" });
  }
  return auth.session.send(response);
}

const openIssueCount = (ctx: HandlerContext, repo: GithubRepoFixture) =>
  issuesOf(ctx.state, repo).filter((issue) => issue.state === "open").length;

const FALLBACK_TIME = "2021-03-04T05:06:07Z";
const LIST_REPOS_DOCS = `${DOCS}/rest/repos/repos#list-repositories-for-the-authenticated-user`;

/** GET /user/repos */
function listRepos(ctx: HandlerContext) {
  const auth = authenticate(ctx, LIST_REPOS_DOCS);
  if (!auth.ok) return auth.response;
  const { session } = auth;
  const login = session.account.login;
  const params = ctx.url.searchParams;
  const type = params.get("type");
  if (type !== null && (params.has("visibility") || params.has("affiliation"))) {
    // Documented: type together with visibility or affiliation is a 422.
    return session.send(
      apiError(422, "Validation Failed", LIST_REPOS_DOCS, { errors: [{ resource: "Repository", code: "invalid", field: "type" }] }),
    );
  }
  let affiliations: string[] = (params.get("affiliation") ?? "owner,collaborator,organization_member")
    .split(",")
    .map((value) => value.trim());
  let visibility = params.get("visibility") ?? "all";
  if (type === "owner") affiliations = ["owner"];
  if (type === "member") affiliations = ["collaborator", "organization_member"];
  if (type === "public" || type === "private") visibility = type;
  const since = Date.parse(params.get("since") ?? "");
  const before = Date.parse(params.get("before") ?? "");
  const repos = GITHUB_REPOS.filter((repo) => {
    const role = roleOf(repo, login);
    if (!role || !affiliations.includes(role.via) || !tokenReaches(session.token, repo)) return false;
    if (visibility === "public" && repo.private) return false;
    if (visibility === "private" && !repo.private) return false;
    const updated = Date.parse(repo.updatedAt ?? FALLBACK_TIME);
    if (!Number.isNaN(since) && updated <= since) return false;
    if (!Number.isNaN(before) && updated >= before) return false;
    return true;
  });
  const sort = params.get("sort") ?? "full_name";
  const direction = params.get("direction") ?? (sort === "full_name" ? "asc" : "desc");
  const key = (repo: GithubRepoFixture) =>
    sort === "created"
      ? (repo.createdAt ?? FALLBACK_TIME)
      : sort === "updated"
        ? (repo.updatedAt ?? FALLBACK_TIME)
        : sort === "pushed"
          ? (repo.pushedAt ?? FALLBACK_TIME)
          : `${repo.owner}/${repo.name}`.toLowerCase();
  repos.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id) * (direction === "asc" ? 1 : -1));
  const { slice, link } = paginate(ctx, repos, "/user/repos");
  return listResponse(
    session,
    slice.map((repo) => repositoryObject(ctx, repo, login, openIssueCount(ctx, repo))),
    link,
  );
}

/** GET /repos/{owner}/{repo} */
function getRepo(ctx: HandlerContext, owner: string, name: string) {
  const docs = `${DOCS}/rest/repos/repos#get-a-repository`;
  const auth = authenticate(ctx, docs);
  if (!auth.ok) return auth.response;
  const repo = visibleRepo(auth.session, owner, name);
  if (!repo) return notFoundFor(auth.session, docs);
  return auth.session.send(json(fullRepositoryObject(ctx, repo, auth.session.account.login, openIssueCount(ctx, repo))));
}

/** GET /repos/{owner}/{repo}/labels */
function listLabels(ctx: HandlerContext, owner: string, name: string) {
  const docs = `${DOCS}/rest/issues/labels#list-labels-for-a-repository`;
  const auth = authenticate(ctx, docs);
  if (!auth.ok) return auth.response;
  const repo = visibleRepo(auth.session, owner, name);
  if (!repo) return notFoundFor(auth.session, docs);
  const labels = [...labelsOf(ctx.state, repo)].sort((a, b) => a.name.localeCompare(b.name));
  const { slice, link } = paginate(ctx, labels, `/repos/${repo.owner}/${repo.name}/labels`);
  return listResponse(
    auth.session,
    slice.map((label) => labelObject(ctx, repo, label)),
    link,
  );
}

/** GET /repos/{owner}/{repo}/assignees */
function listAssignees(ctx: HandlerContext, owner: string, name: string) {
  const docs = `${DOCS}/rest/issues/assignees#list-assignees`;
  const auth = authenticate(ctx, docs);
  if (!auth.ok) return auth.response;
  const repo = visibleRepo(auth.session, owner, name);
  if (!repo) return notFoundFor(auth.session, docs);
  const { slice, link } = paginate(ctx, assignableUsers(repo), `/repos/${repo.owner}/${repo.name}/assignees`);
  return listResponse(
    auth.session,
    slice.map((user) => userObject(ctx, user)),
    link,
  );
}

/** GET /repos/{owner}/{repo}/assignees/{assignee}: 204 when assignable, else 404. */
function checkAssignee(ctx: HandlerContext, owner: string, name: string, login: string) {
  const docs = `${DOCS}/rest/issues/assignees#check-if-a-user-can-be-assigned`;
  const auth = authenticate(ctx, docs);
  if (!auth.ok) return auth.response;
  const repo = visibleRepo(auth.session, owner, name);
  if (!repo) return notFoundFor(auth.session, docs);
  const assignable = assignableUsers(repo).some((user) => user.login.toLowerCase() === login.toLowerCase());
  if (!assignable) return auth.session.send(apiError(404, "Not Found", docs));
  return auth.session.send(new Response(null, { status: 204 }));
}

const LIST_ISSUES_DOCS = `${DOCS}/rest/issues/issues#list-repository-issues`;

/** GET /repos/{owner}/{repo}/issues: immediately consistent, pull requests included (they carry `pull_request`). */
function listIssues(ctx: HandlerContext, owner: string, name: string) {
  const auth = authenticate(ctx, LIST_ISSUES_DOCS);
  if (!auth.ok) return auth.response;
  const repo = visibleRepo(auth.session, owner, name);
  if (!repo) return notFoundFor(auth.session, LIST_ISSUES_DOCS);
  if (!repo.hasIssues) return auth.session.send(apiError(410, "Issues are disabled for this repo", `${DOCS}/v3/issues/`));
  const params = ctx.url.searchParams;
  const state = params.get("state") ?? "open";
  const creator = params.get("creator")?.toLowerCase();
  const assignee = params.get("assignee")?.toLowerCase();
  const since = Date.parse(params.get("since") ?? "");
  const labelNames = (params.get("labels") ?? "")
    .split(",")
    .map((label) => label.trim().toLowerCase())
    .filter(Boolean);
  const labels = labelsOf(ctx.state, repo);
  const issues = issuesOf(ctx.state, repo).filter((issue) => {
    if (state !== "all" && issue.state !== state) return false;
    if (creator && issue.author.toLowerCase() !== creator) return false;
    if (assignee === "none" && issue.assignees.length) return false;
    if (assignee === "*" && !issue.assignees.length) return false;
    if (assignee && assignee !== "none" && assignee !== "*" && !issue.assignees.some((login) => login.toLowerCase() === assignee))
      return false;
    if (!Number.isNaN(since) && issue.updatedAt < since) return false;
    const names = issue.labels.map((id) => labels.find((label) => label.id === id)?.name.toLowerCase());
    return labelNames.every((label) => names.includes(label));
  });
  const sort = params.get("sort") ?? "created";
  const direction = params.get("direction") ?? "desc";
  const key = (issue: IssueRecord) => (sort === "updated" ? issue.updatedAt : sort === "comments" ? 0 : issue.createdAt);
  issues.sort((a, b) => (key(a) - key(b) || a.number - b.number) * (direction === "asc" ? 1 : -1));
  const { slice, link } = paginate(ctx, issues, `/repos/${repo.owner}/${repo.name}/issues`);
  return listResponse(
    auth.session,
    slice.map((issue) => issueObject(ctx, repo, issue)),
    link,
  );
}

const SEARCH_DOCS = `${DOCS}/rest/search/search#search-issues-and-pull-requests`;

interface SearchQuery {
  terms: string[];
  repos: string[];
  isIssue: boolean | null;
  state: string | null;
  author: string | null;
  labels: string[];
  inFields: ("title" | "body")[];
}

/** The qualifiers SpokeDo can use: repo:, is:/type: issue|pr|open|closed, state:, author:, label:, in:; the rest are words. */
function parseSearchQuery(q: string): SearchQuery {
  const query: SearchQuery = { terms: [], repos: [], isIssue: null, state: null, author: null, labels: [], inFields: [] };
  for (const match of q.matchAll(/(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)) {
    const [, qualifier, rawValue, phrase, word] = match;
    if (qualifier) {
      const value = rawValue!.replace(/^"|"$/g, "");
      const lower = value.toLowerCase();
      if (qualifier === "repo") query.repos.push(lower);
      else if ((qualifier === "is" || qualifier === "type") && (lower === "issue" || lower === "pr" || lower === "pull-request"))
        query.isIssue = lower === "issue";
      else if ((qualifier === "is" || qualifier === "state") && (lower === "open" || lower === "closed")) query.state = lower;
      else if (qualifier === "author") query.author = lower;
      else if (qualifier === "label") query.labels.push(lower);
      else if (qualifier === "in")
        query.inFields = lower.split(",").filter((field): field is "title" | "body" => field === "title" || field === "body");
      else query.terms.push(`${qualifier}:${value}`.toLowerCase());
    } else {
      query.terms.push((phrase ?? word!).toLowerCase());
    }
  }
  return query;
}

/**
 * GET /search/issues: eventually consistent. An issue shows up `searchIndexDelayMs.github`
 * after it was created (emulator clock); the text is matched against the raw Markdown body,
 * HTML comments included.
 */
function searchIssues(ctx: HandlerContext) {
  const auth = authenticate(ctx, SEARCH_DOCS, "search");
  if (!auth.ok) return auth.response;
  const { session } = auth;
  const q = ctx.url.searchParams.get("q");
  if (!q || !q.trim()) {
    return session.send(apiError(422, "Validation Failed", SEARCH_DOCS, { errors: [{ resource: "Search", field: "q", code: "missing" }] }));
  }
  const query = parseSearchQuery(q);
  if (session.token.extra.style !== "oauth-app" && query.isIssue === null) {
    // Documented for GitHub App user tokens: issues and pull requests need separate queries.
    return session.send(
      apiError(422, "Query must include 'is:issue' or 'is:pull-request'", SEARCH_DOCS, {
        errors: [{ resource: "Search", field: "q", code: "invalid", message: "Query must include 'is:issue' or 'is:pull-request'" }],
      }),
    );
  }
  const indexedBefore = ctx.state.now() - ctx.options.searchIndexDelayMs.github;
  const matches: { repo: GithubRepoFixture; issue: IssueRecord }[] = [];
  for (const issue of allIssues(ctx.state)) {
    const repo = GITHUB_REPOS.find((candidate) => candidate.id === issue.repoId)!;
    if (issue.createdAt > indexedBefore) continue;
    if (!canSee(repo, session.account.login) || !tokenReaches(session.token, repo)) continue;
    if (query.repos.length && !query.repos.includes(`${repo.owner}/${repo.name}`.toLowerCase())) continue;
    if (query.isIssue !== null && issue.isPullRequest === query.isIssue) continue;
    if (query.state && issue.state !== query.state) continue;
    if (query.author && issue.author.toLowerCase() !== query.author) continue;
    const labelNames = issue.labels.map((id) =>
      labelsOf(ctx.state, repo)
        .find((label) => label.id === id)
        ?.name.toLowerCase(),
    );
    if (!query.labels.every((label) => labelNames.includes(label))) continue;
    const fields = query.inFields.length ? query.inFields : (["title", "body"] as const);
    const haystack = fields
      .map((field) => (field === "title" ? issue.title : (issue.body ?? "")))
      .join("\n")
      .toLowerCase();
    if (!query.terms.every((term) => haystack.includes(term))) continue;
    matches.push({ repo, issue });
  }
  const sort = ctx.url.searchParams.get("sort");
  const order = ctx.url.searchParams.get("order") ?? "desc";
  if (sort === "created" || sort === "updated") {
    const key = (entry: { issue: IssueRecord }) => (sort === "created" ? entry.issue.createdAt : entry.issue.updatedAt);
    matches.sort((a, b) => (key(a) - key(b)) * (order === "asc" ? 1 : -1));
  } else {
    matches.sort((a, b) => b.issue.createdAt - a.issue.createdAt);
  }
  const { perPage, page } = pagination(ctx.url);
  // Search serves at most the first 1,000 results.
  const capped = matches.slice(0, 1000);
  const { link } = paginate(ctx, capped, "/search/issues");
  const items = capped
    .slice((page - 1) * perPage, page * perPage)
    .map(({ repo, issue }) => ({ ...issueObject(ctx, repo, issue), score: 1 }));
  return listResponse(session, { total_count: matches.length, incomplete_results: false, search_type: "lexical", items }, link);
}

const ISSUE_DOCS = `${DOCS}/rest/issues/issues#create-an-issue`;
/** GitHub's limits on an issue, counted in characters (code points). */
const MAX_BODY = 65_536;
const MAX_TITLE = 256;
const characters = (value: string) => [...value].length;

function createIssue(ctx: HandlerContext, owner: string, name: string) {
  const auth = authenticate(ctx, ISSUE_DOCS);
  if (!auth.ok) return auth.response;
  const { session } = auth;
  const { account, token } = session;
  const fail = (response: Response) => session.send(response);

  const repo = findRepo(owner, name);
  const oauthScopeOk =
    token.extra.style !== "oauth-app" ||
    token.scopes.includes("repo") ||
    (repo !== undefined && !repo.private && token.scopes.includes("public_repo"));
  // A repo you cannot see (or may not write with this token) is a 404, never a 403.
  if (!repo || !canSee(repo, account.login) || !oauthScopeOk) {
    const response = apiError(404, "Not Found", ISSUE_DOCS);
    if (token.extra.style === "oauth-app") response.headers.set("X-Accepted-OAuth-Scopes", "repo");
    return fail(response);
  }
  if (!repo.hasIssues) return fail(apiError(410, "Issues are disabled for this repo", `${DOCS}/v3/issues/`));
  if (repo.archived) return fail(apiError(403, "Repository was archived so is read-only.", ISSUE_DOCS));

  if (ctx.body.invalidJson || (ctx.body.kind !== "json" && ctx.bodyText.trim() !== "")) {
    return fail(apiError(400, "Problems parsing JSON", ISSUE_DOCS));
  }
  const input = ctx.body.json;
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    return fail(apiError(400, "Body should be a JSON object", ISSUE_DOCS));
  }
  const body = input as Record<string, unknown>;
  if (typeof body.title !== "string" && typeof body.title !== "number") {
    return fail(apiError(422, 'Invalid request.\n\n"title" wasn\'t supplied.', ISSUE_DOCS));
  }
  const title = String(body.title);
  if (title.trim() === "") {
    return fail(apiError(422, "Validation Failed", ISSUE_DOCS, { errors: [{ resource: "Issue", code: "missing_field", field: "title" }] }));
  }
  const issueBody = typeof body.body === "string" ? body.body : null;
  const tooLong = [
    ...(characters(title) > MAX_TITLE
      ? [{ resource: "Issue", code: "custom", field: "title", message: `title is too long (maximum is ${MAX_TITLE} characters)` }]
      : []),
    ...(issueBody !== null && characters(issueBody) > MAX_BODY
      ? [{ resource: "Issue", code: "custom", field: "body", message: `body is too long (maximum is ${MAX_BODY} characters)` }]
      : []),
  ];
  if (tooLong.length) return fail(apiError(422, "Validation Failed", ISSUE_DOCS, { errors: tooLong }));

  // Without push access GitHub silently drops labels, assignees and milestone.
  const pushing = canPush(repo, account.login);
  const labelNames =
    pushing && Array.isArray(body.labels)
      ? body.labels
          .map((label) => (typeof label === "object" && label ? asText((label as { name?: unknown }).name ?? "") : String(label)))
          .filter(Boolean)
      : [];
  const assignees = pushing && Array.isArray(body.assignees) ? body.assignees.map(String) : [];
  const assignable = assignableUsers(repo);
  const invalid = assignees.filter((login) => !assignable.some((user) => user.login.toLowerCase() === login.toLowerCase()));
  if (invalid.length) {
    return fail(
      apiError(422, "Validation Failed", ISSUE_DOCS, {
        errors: invalid.map((value) => ({ value, resource: "Issue", field: "assignees", code: "invalid" })),
      }),
    );
  }
  if (pushing && body.milestone !== undefined && body.milestone !== null) {
    return fail(
      apiError(422, "Validation Failed", ISSUE_DOCS, {
        errors: [{ value: body.milestone, resource: "Issue", field: "milestone", code: "invalid" }],
      }),
    );
  }

  const now = ctx.state.now();
  const record: IssueRecord = {
    repoId: repo.id,
    id: 3_000_000 + ctx.state.next("github:issue-ids"),
    number: nextIssueNumber(ctx.state, repo),
    title,
    body: issueBody,
    state: "open",
    author: account.login,
    labels: labelNames.map((labelName) => ensureLabel(ctx.state, repo, labelName).id),
    assignees: assignees.map((login) => assignable.find((user) => user.login.toLowerCase() === login.toLowerCase())!.login),
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    isPullRequest: false,
    authorAssociation:
      roleOf(repo, account.login)?.via === "owner"
        ? "OWNER"
        : roleOf(repo, account.login)?.via === "collaborator"
          ? "COLLABORATOR"
          : roleOf(repo, account.login)
            ? "MEMBER"
            : "NONE",
  };
  allIssues(ctx.state).push(record);
  const issue = issueObject(ctx, repo, record);
  ctx.state.created.push({
    provider: "github",
    kind: "issue",
    id: String(record.id),
    url: issue.html_url,
    accountId: String(account.id),
    payload: body,
    at: now,
  });
  return session.send(json(issue, 201, { Location: issue.url }));
}

function revokeApplicationToken(ctx: HandlerContext, clientId: string, scope: "token" | "grant") {
  if (!ctx.headers.get("User-Agent")) return userAgentRequired();
  const docs = `${DOCS}/rest/apps/oauth-applications#delete-an-app-${scope === "token" ? "token" : "authorization"}`;
  const credentials = clientCredentials(ctx, { basic: true, body: false });
  if (!credentials.id) return apiError(401, "Requires authentication", docs);
  if (credentials.id !== CLIENT.clientId || credentials.secret !== CLIENT.clientSecret) return apiError(401, "Bad credentials");
  if (clientId !== credentials.id) return apiError(404, "Not Found", docs);
  const value = ctx.param("access_token");
  const check = ctx.state.checkAccessToken("github", value, ctx.fault);
  // An expired token can still be revoked; a revoked or unknown one no longer exists.
  const token = check.ok ? check.token : check.problem === "expired" ? ctx.state.tokens.find((t) => t.accessToken === value) : undefined;
  if (!token || token.clientId !== clientId) {
    return apiError(422, "Validation Failed", docs, { errors: [{ resource: "Application", field: "access_token", code: "invalid" }] });
  }
  if (scope === "grant") ctx.state.revokeTokensOf("github", token.accountId);
  else token.revoked = true;
  return new Response(null, { status: 204 });
}

// ---------- webhooks ----------

/** A user revoked their authorization of the GitHub App: `github_app_authorization` with action `revoked`. */
async function revocationWebhooks(input: Parameters<NonNullable<ProviderModule["revocationWebhooks"]>>[0]) {
  const account = accountById(input.accountId);
  if (!account) return [];
  const payload = githubAppAuthorizationRevoked(userObject({ options: input.options }, account));
  const request = await buildGitHubWebhookRequest(
    input.target.url,
    input.target.secret,
    { event: "github_app_authorization", payload },
    { nowMs: input.now },
  );
  return [{ event: "github_app_authorization", request }];
}

// ---------- routing and faults ----------

const decode = decodeURIComponent;

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/login/oauth/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (path === "/login/oauth/access_token" && method === "POST") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: accessToken };
  }
  if (path === "/api/user" && method === "GET") return { endpoint: "identity", handle: getUser };
  if (path === "/api/user/repos" && method === "GET") return { endpoint: "list", handle: listRepos };
  if (path === "/api/search/issues" && method === "GET") return { endpoint: "lookup", handle: searchIssues };
  const repoPath = /^\/api\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (repoPath) {
    const [owner, name, rest = ""] = [decode(repoPath[1]!), decode(repoPath[2]!), repoPath[3]];
    if (/^\/issues\/?$/.test(rest) && method === "POST") return { endpoint: "deliver", handle: (ctx) => createIssue(ctx, owner, name) };
    if (/^\/issues\/?$/.test(rest) && method === "GET") return { endpoint: "lookup", handle: (ctx) => listIssues(ctx, owner, name) };
    if (rest === "" && method === "GET") return { endpoint: "list", handle: (ctx) => getRepo(ctx, owner, name) };
    if (rest === "/labels" && method === "GET") return { endpoint: "list", handle: (ctx) => listLabels(ctx, owner, name) };
    if (rest === "/assignees" && method === "GET") return { endpoint: "list", handle: (ctx) => listAssignees(ctx, owner, name) };
    const assignee = /^\/assignees\/([^/]+)$/.exec(rest);
    if (assignee && method === "GET") return { endpoint: "list", handle: (ctx) => checkAssignee(ctx, owner, name, decode(assignee[1]!)) };
  }
  const revoke = /^\/api\/applications\/([^/]+)\/(token|grant)$/.exec(path);
  if (revoke && method === "DELETE") {
    return { endpoint: "revoke", handle: (ctx) => revokeApplicationToken(ctx, decode(revoke[1]!), revoke[2] as "token" | "grant") };
  }
  return null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/api/")) return apiError(404, "Not Found");
  return html("<!doctype html><title>Page not found · GitHub (emulated)</title><h1>404</h1>", 404);
}

function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
  const onWebHost = endpoint === "authorize" || endpoint === "token" || endpoint === "refresh";
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(onWebHost ? '{"access_token":"ghu_' : '{"login":"octocat","id":10');
    case "oauth_error":
      if (endpoint === "authorize") {
        return redirect(
          appendParams(redirectUriFor(ctx, "github"), {
            error: fault.code,
            error_description: fault.description,
            state: ctx.param("state") ?? undefined,
          }),
        );
      }
      if (onWebHost) return tokenError(ctx, fault.code, fault.description ?? fault.code);
      return apiError(400, fault.description ?? fault.code);
    case "rate_limited": {
      const status = fault.status ?? 403;
      const retryAfter = fault.retryAfterSeconds ?? 60;
      if (onWebHost) return text("Too many requests\n", 429, { "Retry-After": String(retryAfter) });
      const userId =
        ctx.state.tokens.find((t) => t.accessToken === authorizationToken(ctx.headers, ["Bearer", "token"]))?.accountId ?? null;
      const headers = peekRateHeaders(ctx, userId);
      const secondary = fault.variant === "secondary" || (fault.variant === undefined && fault.retryAfterSeconds !== undefined);
      if (secondary) {
        // Secondary limits leave the primary quota alone and may (not always) say when to retry.
        return withHeaders(
          apiError(
            status,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
              `If you reach out to GitHub Support for help, please include the request ID ${headers["x-github-request-id"]}.`,
            `${DOCS}/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          ),
          { ...headers, ...(fault.retryAfterSeconds !== undefined ? { "retry-after": String(retryAfter) } : {}) },
        );
      }
      return withHeaders(
        apiError(
          status,
          userId ? `API rate limit exceeded for user ID ${userId}.` : "API rate limit exceeded.",
          `${DOCS}/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit`,
        ),
        { ...peekRateHeaders(ctx, userId, 0), "x-ratelimit-reset": String(Math.floor(ctx.state.now() / 1000) + retryAfter) },
      );
    }
  }
}

export const github: ProviderModule = {
  provider: "github",
  label: "GitHub",
  bases: { web: "", api: "/api" },
  route,
  notFound,
  faultResponse,
  revocationWebhooks,
};
