import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, GITHUB_ACCOUNTS, GITHUB_REPOS } from "./fixtures";
import {
  appendParams,
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

const CLIENT = EMULATOR_CLIENTS.github;
const ACCESS_TOKEN_TTL_S = 28800;
// providers.md: documented as 15811200, observed 15897600; the brief pins the observed value.
const REFRESH_TOKEN_TTL_S = 15897600;
const DOCS = "https://docs.github.com";
const TROUBLESHOOTING = `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors`;

type GithubAccount = (typeof GITHUB_ACCOUNTS)[number];

const accountById = (id: string) => GITHUB_ACCOUNTS.find((account) => String(account.id) === id);

// ---------- authorize ----------

async function authorize(ctx: HandlerContext): Promise<Response> {
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

const badVerificationCode = (ctx: HandlerContext) =>
  tokenError(ctx, "bad_verification_code", "The code passed is incorrect or expired.");

const badRefreshToken = (ctx: HandlerContext) =>
  tokenError(ctx, "bad_refresh_token", "The refresh token passed is incorrect or expired.");

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

/** Rate-limit headers GitHub puts on every API response. */
function rateLimitHeaders(ctx: HandlerContext, token: IssuedToken | null, remainingOverride?: number) {
  const used = token ? ctx.state.next(`github:ratelimit:${token.accessToken}`) : 1;
  const remaining = remainingOverride ?? Math.max(0, 5000 - used);
  return {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-used": String(5000 - remaining),
    "x-ratelimit-reset": String(Math.floor(ctx.state.now() / 1000) + 3600),
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

type Authenticated = { ok: true; token: IssuedToken; account: GithubAccount } | { ok: false; response: Response };

function authenticate(ctx: HandlerContext, documentationUrl: string): Authenticated {
  const value = authorizationToken(ctx.headers, ["Bearer", "token"]);
  if (!value) return { ok: false, response: apiError(401, "Requires authentication", documentationUrl) };
  const check = ctx.state.checkAccessToken("github", value, ctx.fault);
  if (!check.ok) return { ok: false, response: apiError(401, "Bad credentials") };
  return { ok: true, token: check.token, account: accountById(check.token.accountId)! };
}

function userObject(ctx: HandlerContext, account: GithubAccount) {
  return {
    login: account.login,
    id: account.id,
    node_id: `MDQ6VXNlcj${account.id}`,
    avatar_url: `${ctx.options.origin}/github/avatars/${account.login}.png`,
    url: `${ctx.options.origin}/github/api/users/${account.login}`,
    html_url: `${ctx.options.origin}/github/${account.login}`,
    type: "User",
    site_admin: false,
  };
}

function getUser(ctx: HandlerContext) {
  if (!ctx.headers.get("User-Agent")) return userAgentRequired();
  const auth = authenticate(ctx, `${DOCS}/rest/users/users#get-the-authenticated-user`);
  if (!auth.ok) return auth.response;
  const { token, account } = auth;
  const headers = rateLimitHeaders(ctx, token);
  if (token.extra.style === "oauth-app") {
    // Only OAuth App tokens carry scopes, and so only they get these headers.
    Object.assign(headers, { "X-OAuth-Scopes": token.scopes.join(", "), "X-Accepted-OAuth-Scopes": "" });
  }
  return json(
    {
      ...userObject(ctx, account),
      name: account.name,
      company: null,
      blog: "",
      location: null,
      email: account.email,
      bio: null,
      public_repos: GITHUB_REPOS.filter((repo) => repo.owner === account.login && !repo.private).length,
      created_at: "2011-01-25T18:44:36Z",
      updated_at: "2026-01-01T00:00:00Z",
    },
    200,
    headers,
  );
}

const ISSUE_DOCS = `${DOCS}/rest/issues/issues#create-an-issue`;

async function createIssue(ctx: HandlerContext, owner: string, name: string) {
  if (!ctx.headers.get("User-Agent")) return userAgentRequired();
  const auth = authenticate(ctx, ISSUE_DOCS);
  if (!auth.ok) return auth.response;
  const { token, account } = auth;
  const headers = rateLimitHeaders(ctx, token);
  const fail = (response: Response) => withHeaders(response, headers);

  const repo = GITHUB_REPOS.find(
    (candidate) => candidate.owner.toLowerCase() === owner.toLowerCase() && candidate.name.toLowerCase() === name.toLowerCase(),
  );
  const canPush = repo?.owner === account.login;
  const oauthScopeOk =
    token.extra.style !== "oauth-app" ||
    token.scopes.includes("repo") ||
    (repo !== undefined && !repo.private && token.scopes.includes("public_repo"));
  // A repo you cannot see (or may not write with this token) is a 404, never a 403.
  if (!repo || (repo.private && !canPush) || !oauthScopeOk) {
    const response = apiError(404, "Not Found", ISSUE_DOCS);
    if (token.extra.style === "oauth-app") response.headers.set("X-Accepted-OAuth-Scopes", "repo");
    return fail(response);
  }
  if (!repo.hasIssues) return fail(apiError(410, "Issues are disabled for this repo", `${DOCS}/v3/issues/`));

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
    return fail(
      apiError(422, "Validation Failed", ISSUE_DOCS, { errors: [{ resource: "Issue", code: "missing_field", field: "title" }] }),
    );
  }

  // Without push access GitHub silently drops labels, assignees and milestone.
  const labelNames = canPush && Array.isArray(body.labels)
    ? body.labels.map((label) => (typeof label === "object" && label ? String((label as { name?: unknown }).name ?? "") : String(label))).filter(Boolean)
    : [];
  const assignees = canPush && Array.isArray(body.assignees) ? body.assignees.map(String) : [];
  const invalid = assignees.filter((login) => login.toLowerCase() !== account.login.toLowerCase());
  if (invalid.length) {
    return fail(
      apiError(422, "Validation Failed", ISSUE_DOCS, {
        errors: invalid.map((value) => ({ value, resource: "Issue", field: "assignees", code: "invalid" })),
      }),
    );
  }
  if (canPush && body.milestone !== undefined && body.milestone !== null) {
    return fail(
      apiError(422, "Validation Failed", ISSUE_DOCS, {
        errors: [{ value: body.milestone, resource: "Issue", field: "milestone", code: "invalid" }],
      }),
    );
  }

  const number = ctx.state.next(`github:issues:${repo.owner}/${repo.name}`);
  const id = 3_000_000 + ctx.state.next("github:issue-ids");
  const apiBase = `${ctx.options.origin}/github/api/repos/${repo.owner}/${repo.name}`;
  const now = new Date(ctx.state.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const issue = {
    id,
    node_id: `I_kwDO${randomBase62(14)}`,
    url: `${apiBase}/issues/${number}`,
    repository_url: apiBase,
    html_url: `${ctx.options.origin}/github/${repo.owner}/${repo.name}/issues/${number}`,
    number,
    state: "open",
    state_reason: null,
    title,
    body: typeof body.body === "string" ? body.body : null,
    user: userObject(ctx, account),
    labels: labelNames.map((labelName) => ({
      id: 4_000_000 + ctx.state.next("github:label-ids"),
      node_id: `LA_kwDO${randomBase62(14)}`,
      url: `${apiBase}/labels/${encodeURIComponent(labelName)}`,
      name: labelName,
      color: "ededed",
      default: false,
      description: null,
    })),
    assignee: assignees.length ? userObject(ctx, account) : null,
    assignees: assignees.length ? [userObject(ctx, account)] : [],
    milestone: null,
    locked: false,
    comments: 0,
    created_at: now,
    updated_at: now,
    closed_at: null,
    author_association: canPush ? "OWNER" : "NONE",
  };
  ctx.state.created.push({
    provider: "github",
    kind: "issue",
    id: String(id),
    url: issue.html_url,
    accountId: String(account.id),
    payload: body,
    at: ctx.state.now(),
  });
  return json(issue, 201, { ...headers, Location: issue.url });
}

async function revokeApplicationToken(ctx: HandlerContext, clientId: string, scope: "token" | "grant") {
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

// ---------- routing and faults ----------

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/login/oauth/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (path === "/login/oauth/access_token" && method === "POST") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: accessToken };
  }
  if (path === "/api/user" && method === "GET") return { endpoint: "identity", handle: getUser };
  const issues = /^\/api\/repos\/([^/]+)\/([^/]+)\/issues\/?$/.exec(path);
  if (issues && method === "POST") {
    return { endpoint: "deliver", handle: (ctx) => createIssue(ctx, decodeURIComponent(issues[1]!), decodeURIComponent(issues[2]!)) };
  }
  const revoke = /^\/api\/applications\/([^/]+)\/(token|grant)$/.exec(path);
  if (revoke && method === "DELETE") {
    return { endpoint: "revoke", handle: (ctx) => revokeApplicationToken(ctx, decodeURIComponent(revoke[1]!), revoke[2] as "token" | "grant") };
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
        return redirect(appendParams(redirectUriFor(ctx, "github"), { error: fault.code, error_description: fault.description, state: ctx.param("state") ?? undefined }));
      }
      if (onWebHost) return tokenError(ctx, fault.code, fault.description ?? fault.code);
      return apiError(400, fault.description ?? fault.code);
    case "rate_limited": {
      const status = fault.status ?? 403;
      const retryAfter = fault.retryAfterSeconds ?? 60;
      if (onWebHost) return text("Too many requests\n", 429, { "Retry-After": String(retryAfter) });
      const headers = rateLimitHeaders(ctx, null);
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
      const userId = ctx.state.tokens.find((t) => t.accessToken === authorizationToken(ctx.headers, ["Bearer", "token"]))?.accountId;
      return withHeaders(
        apiError(
          status,
          userId ? `API rate limit exceeded for user ID ${userId}.` : "API rate limit exceeded.",
          `${DOCS}/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit`,
        ),
        {
          ...rateLimitHeaders(ctx, null, 0),
          "x-ratelimit-reset": String(Math.floor(ctx.state.now() / 1000) + retryAfter),
        },
      );
    }
  }
}

export const github: ProviderModule = { provider: "github", route, notFound, faultResponse };
