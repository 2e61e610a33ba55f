import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, LINEAR_ACCOUNTS } from "./fixtures";
import { appendParams, authorizationToken, json, malformedJson, rawHttpFault, randomHex, redirect, slugify, text } from "./http";
import {
  GraphQLSyntaxError,
  GraphQLValidationError,
  parseOperation,
  project,
  validateSelections,
  type FieldNode,
  type Operation,
  type SchemaSlice,
} from "./linear-graphql";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";

const CLIENT = EMULATOR_CLIENTS.linear;
const ACCESS_TOKEN_TTL_S = 86399;
const KNOWN_SCOPES = ["read", "write", "issues:create", "comments:create", "timeSchedule:write", "admin", "app:assignable", "app:mentionable"];

type LinearAccount = (typeof LINEAR_ACCOUNTS)[number];

const accountById = (id: string) => LINEAR_ACCOUNTS.find((account) => account.viewer.id === id);

function tokenError(status: number, error: string, description: string) {
  return json({ error, error_description: description }, status);
}

// ---------- authorize ----------

function authorize(ctx: HandlerContext): Response {
  const clientId = ctx.param("client_id");
  if (clientId !== CLIENT.clientId) return renderErrorPage("Linear", "Invalid OAuth request", "Invalid client_id.");
  const registered = redirectUriFor(ctx, "linear");
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri !== registered) {
    return renderErrorPage("Linear", "Invalid OAuth request", "Invalid redirect_uri: it must match one of the application's callback URLs.");
  }
  const state = ctx.param("state") ?? undefined;
  const fail = (error: string, description: string) => redirect(appendParams(registered, { error, error_description: description, state }));
  if (ctx.param("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
  const rawScope = ctx.param("scope") ?? "read";
  const requested = rawScope.split(/[\s,]+/).filter(Boolean);
  const unknown = requested.filter((scope) => !KNOWN_SCOPES.includes(scope) && !/^(customer|initiative):/.test(scope));
  if (unknown.length) return fail("invalid_scope", `Invalid scope: ${unknown.join(", ")}`);
  const actor = ctx.param("actor") ?? "user";
  if (actor !== "user" && actor !== "app") return fail("invalid_request", "actor must be user or app");
  if (actor === "app" && requested.includes("admin")) return fail("invalid_scope", "actor=app cannot request the admin scope");
  const challenge = ctx.param("code_challenge");
  const method = challenge ? (ctx.param("code_challenge_method") ?? "plain") : null;
  if (method !== null && method !== "S256" && method !== "plain") return fail("invalid_request", "code_challenge_method must be S256 or plain");

  const decision = consentDecision(ctx);
  if (decision.decided && !decision.approve) return redirect(appendParams(registered, { error: "access_denied", state }));
  if (decision.decided) {
    const account = accountById(decision.accountId ?? "") ?? LINEAR_ACCOUNTS[0];
    // `read` is always granted; the scope string is echoed with the delimiter the app used.
    const scopes = requested.includes("read") ? requested : ["read", ...requested];
    const delimiter = rawScope.includes(",") ? "," : " ";
    const code = issueCode(
      ctx,
      {
        provider: "linear",
        clientId,
        redirectUri,
        scopes,
        rawScope: scopes.join(delimiter),
        codeChallenge: challenge,
        codeChallengeMethod: method as "S256" | "plain" | null,
        accountId: account.viewer.id,
        extra: { actor },
      },
      () => randomHex(32),
    );
    return redirect(appendParams(registered, { code: code.code, state }));
  }

  const hidden: Record<string, string> = { client_id: clientId };
  for (const name of ["redirect_uri", "response_type", "scope", "state", "actor", "prompt", "code_challenge", "code_challenge_method"]) {
    const value = ctx.param(name);
    if (value !== null) hidden[name] = value;
  }
  return renderConsentPage({
    providerLabel: "Linear",
    action: ctx.url.pathname,
    scopeHeading: actor === "app" ? "Scopes (installed as an app)" : "Scopes",
    scopes: requested.includes("read") ? requested : ["read", ...requested],
    accounts: LINEAR_ACCOUNTS.map((account) => ({
      id: account.viewer.id,
      label: account.organization.name,
      detail: `${account.viewer.name} <${account.viewer.email}>`,
    })),
    hidden,
  });
}

// ---------- token, revoke ----------

function issueTokens(ctx: HandlerContext, input: { accountId: string; scopes: string[]; rawScope: string; grantId: string; extra: Record<string, string> }) {
  const token = ctx.state.addToken({
    provider: "linear",
    clientId: CLIENT.clientId,
    accountId: input.accountId,
    accessToken: `lin_oauth_${randomHex(32)}`,
    refreshToken: `lin_refresh_${randomHex(32)}`,
    scopes: input.scopes,
    expiresAt: ctx.state.now() + ACCESS_TOKEN_TTL_S * 1000,
    grantId: input.grantId,
    kind: "default",
    extra: { ...input.extra, rawScope: input.rawScope },
  });
  return json({
    access_token: token.accessToken,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL_S,
    scope: input.rawScope,
    refresh_token: token.refreshToken,
  });
}

async function token(ctx: HandlerContext): Promise<Response> {
  if (ctx.body.kind !== "form") {
    return tokenError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  const credentials = clientCredentials(ctx, { basic: true, body: true });
  // RFC 6749 §5.2: a client that tried HTTP Basic gets 401, one that used the body 400.
  const invalidClient = () => tokenError(credentials.via === "basic" ? 401 : 400, "invalid_client", "Client authentication failed");
  if (credentials.id !== CLIENT.clientId) return invalidClient();
  if (credentials.secret !== null && credentials.secret !== CLIENT.clientSecret) return invalidClient();
  const grantType = ctx.param("grant_type");

  if (grantType === "refresh_token") {
    const old = ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("linear", ctx.param("refresh_token"), CLIENT.clientId);
    // An unknown or used refresh token is invalid_grant whoever asks; only tokens obtained with
    // PKCE may then be refreshed without the secret.
    if (!old) return tokenError(400, "invalid_grant", "The refresh token is invalid or has been revoked");
    if (credentials.secret === null && old.extra.pkce !== "1") return invalidClient();
    old.refreshUsed = true;
    if (ctx.options.revokeAccessTokenOnRefresh.linear) old.revoked = true;
    return issueTokens(ctx, { accountId: old.accountId, scopes: old.scopes, rawScope: old.extra.rawScope ?? old.scopes.join(" "), grantId: old.grantId, extra: old.extra });
  }
  if (grantType === "client_credentials") {
    // The one error body Linear documents, word for word.
    return tokenError(400, "Error", "Client does not support the client_credentials grant type");
  }
  if (grantType !== "authorization_code") {
    return tokenError(400, "unsupported_grant_type", `Unsupported grant type: ${grantType ?? "(none)"}`);
  }
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri === null) return tokenError(400, "invalid_request", "redirect_uri is required");
  const verifier = ctx.param("code_verifier");
  if (credentials.secret === null && verifier === null) return invalidClient();
  const result = await redeemCode(ctx, "linear", { code: ctx.param("code"), clientId: CLIENT.clientId, redirectUri, codeVerifier: verifier });
  if (!result.ok) {
    const description = {
      unknown: "Invalid authorization code",
      used: "Authorization code has already been used",
      expired: "Authorization code has expired",
      client_mismatch: "Invalid authorization code",
      redirect_mismatch: "redirect_uri does not match the one used in the authorization request",
      pkce_missing: "code_verifier is required",
      pkce_mismatch: "code_verifier does not match the code_challenge",
    }[result.problem];
    return tokenError(400, "invalid_grant", description);
  }
  const { code } = result;
  return issueTokens(ctx, {
    accountId: code.accountId,
    scopes: code.scopes,
    rawScope: code.rawScope,
    grantId: newGrantId(),
    extra: { actor: code.extra.actor ?? "user", pkce: code.codeChallenge ? "1" : "0" },
  });
}

/** Bearer access token, or a form `access_token` / `refresh_token` (not RFC 7009's `token`). */
function revoke(ctx: HandlerContext) {
  const bearer = authorizationToken(ctx.headers);
  const accessField = ctx.body.fields.get("access_token") ?? null;
  const refreshField = ctx.body.fields.get("refresh_token") ?? null;
  const value = bearer ?? accessField ?? refreshField;
  if (!value) return tokenError(400, "invalid_request", "No token provided");
  const token = ctx.state.tokens.find(
    (t) => t.provider === "linear" && (t.accessToken === value || (bearer === null && t.refreshToken === value)),
  );
  if (!token) return bearer ? tokenError(401, "invalid_token", "Could not authenticate with the token") : tokenError(400, "invalid_request", "Could not revoke the token");
  if (token.revoked || ctx.fault?.kind === "revoked_token") return tokenError(400, "invalid_request", "Token has already been revoked");
  ctx.state.revokeGrant(token.grantId);
  return new Response(null, { status: 200 });
}

// ---------- GraphQL ----------

const SCHEMA: SchemaSlice = {
  Query: { viewer: "User!", organization: "Organization!", teams: "TeamConnection!" },
  Mutation: { issueCreate: "IssuePayload!" },
  User: {
    id: "ID!",
    name: "String!",
    displayName: "String!",
    email: "String!",
    active: "Boolean!",
    admin: "Boolean!",
    app: "Boolean!",
    url: "String!",
    avatarUrl: "String",
    createdAt: "DateTime!",
    organization: "Organization!",
  },
  Organization: { id: "ID!", name: "String!", urlKey: "String!", logoUrl: "String", createdAt: "DateTime!", teams: "TeamConnection!" },
  TeamConnection: { nodes: "[Team!]!" },
  Team: { id: "ID!", key: "String!", name: "String!", description: "String", organization: "Organization!" },
  IssuePayload: { success: "Boolean!", lastSyncId: "Float!", issue: "Issue" },
  Issue: {
    id: "ID!",
    identifier: "String!",
    number: "Float!",
    title: "String!",
    description: "String",
    priority: "Float!",
    url: "String!",
    createdAt: "DateTime!",
    team: "Team!",
    state: "WorkflowState!",
  },
  WorkflowState: { id: "ID!", name: "String!", type: "String!" },
};

interface GraphQLError {
  message: string;
  type: string;
  code: string;
  statusCode: number;
  userPresentableMessage?: string;
  path?: string[];
  location?: { line: number; column: number };
}

function graphqlErrors(status: number, errors: GraphQLError[], headers: HeadersInit = {}) {
  return json(
    {
      errors: errors.map((error) => ({
        message: error.message,
        ...(error.location ? { locations: [error.location] } : {}),
        ...(error.path ? { path: error.path } : {}),
        extensions: {
          type: error.type,
          code: error.code,
          statusCode: error.statusCode,
          userError: true,
          ...(error.userPresentableMessage ? { userPresentableMessage: error.userPresentableMessage } : {}),
        },
      })),
      data: null,
    },
    status,
    headers,
  );
}

function rateLimitHeaders(ctx: HandlerContext, remaining: number) {
  return {
    "X-RateLimit-Requests-Limit": "1200",
    "X-RateLimit-Requests-Remaining": String(remaining),
    // Linear gives this reset in epoch milliseconds.
    "X-RateLimit-Requests-Reset": String(ctx.state.now() + 3600_000),
  };
}

const authenticationError = (ctx: HandlerContext) =>
  graphqlErrors(ctx.options.linearAuthErrorStatus, [
    {
      message: "Authentication required, not authenticated",
      type: "authentication error",
      code: "AUTHENTICATION_ERROR",
      statusCode: 401,
      userPresentableMessage: "You need to authenticate to access this operation.",
    },
  ]);

function userValue(ctx: HandlerContext, account: LinearAccount, token: IssuedToken) {
  const isApp = token.extra.actor === "app";
  const user = isApp ? account.appUser : account.viewer;
  return {
    ...user,
    active: true,
    admin: !isApp,
    app: isApp,
    url: `${ctx.options.origin}/linear/${account.organization.urlKey}/profiles/${user.displayName}`,
    avatarUrl: null,
    createdAt: "2024-01-01T00:00:00.000Z",
    organization: () => organizationValue(ctx, account),
  };
}

function teamValue(ctx: HandlerContext, account: LinearAccount, team: LinearAccount["teams"][number]) {
  return { ...team, description: null, organization: () => organizationValue(ctx, account) };
}

function organizationValue(ctx: HandlerContext, account: LinearAccount) {
  return {
    ...account.organization,
    logoUrl: null,
    createdAt: "2023-06-01T00:00:00.000Z",
    teams: () => ({ nodes: account.teams.map((team) => teamValue(ctx, account, team)) }),
  };
}

function resolveArg(field: FieldNode, name: string, variables: Record<string, unknown>) {
  const arg = field.args.get(name);
  if (!arg) return { provided: false, value: undefined } as const;
  if (arg.kind === "literal") return { provided: true, value: arg.value } as const;
  return { provided: arg.name in variables, value: variables[arg.name], variable: arg.name } as const;
}

type IssueCreateResult = { error: GraphQLError; status: number } | { value: Record<string, unknown> };

function issueCreate(
  ctx: HandlerContext,
  account: LinearAccount,
  token: IssuedToken,
  field: FieldNode,
  variables: Record<string, unknown>,
): IssueCreateResult {
  const arg = resolveArg(field, "input", variables);
  const location = { line: field.line, column: field.column };
  if (!arg.provided || !arg.value || typeof arg.value !== "object") {
    const where = "variable" in arg ? `Variable "$${arg.variable}" of required type "IssueCreateInput!" was not provided.` : 'Field "issueCreate" argument "input" of type "IssueCreateInput!" is required, but it was not provided.';
    return { error: { message: where, type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400, location } satisfies GraphQLError, status: 400 };
  }
  const input = arg.value as Record<string, unknown>;
  if (typeof input.teamId !== "string") {
    const message = "variable" in arg
      ? `Variable "$${arg.variable}" got invalid value ${JSON.stringify(input)}; Field "teamId" of required type "String!" was not provided.`
      : 'Field "IssueCreateInput.teamId" of required type "String!" was not provided.';
    return { error: { message, type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400, location } satisfies GraphQLError, status: 400 };
  }
  if (!token.scopes.some((scope) => scope === "write" || scope === "issues:create" || scope === "admin")) {
    return {
      error: {
        message: "Invalid scope: `write` required",
        type: "forbidden",
        code: "FORBIDDEN",
        statusCode: 403,
        userPresentableMessage: "You don't have permission to create issues with this token.",
        path: [field.alias ?? field.name],
      } satisfies GraphQLError,
      status: 200,
    };
  }
  const team = account.teams.find((candidate) => candidate.id === input.teamId);
  if (!team) {
    return {
      error: {
        message: "Entity not found: Team",
        type: "invalid input",
        code: "INPUT_ERROR",
        statusCode: 400,
        userPresentableMessage: "Could not find referenced Team.",
        path: [field.alias ?? field.name],
      } satisfies GraphQLError,
      status: 200,
    };
  }
  const title = typeof input.title === "string" ? input.title : "";
  const priority = input.priority === undefined ? 0 : input.priority;
  if (title.trim() === "" || typeof priority !== "number" || !Number.isInteger(priority) || priority < 0 || priority > 4) {
    return {
      error: {
        message: "Argument Validation Error",
        type: "invalid input",
        code: "INPUT_ERROR",
        statusCode: 400,
        userPresentableMessage: title.trim() === "" ? "Title is required." : "Priority must be an integer between 0 and 4.",
        path: [field.alias ?? field.name],
      } satisfies GraphQLError,
      status: 200,
    };
  }
  // IssueCreateInput.id: a client-chosen UUID, which makes a retried create detectable.
  if (input.id !== undefined) {
    if (typeof input.id !== "string" || !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(input.id)) {
      return {
        error: { message: "Argument Validation Error", type: "invalid input", code: "INPUT_ERROR", statusCode: 400, userPresentableMessage: "id must be a UUID v4.", path: [field.alias ?? field.name] } satisfies GraphQLError,
        status: 200,
      };
    }
    if (ctx.state.created.some((item) => item.provider === "linear" && item.id === input.id)) {
      return {
        error: { message: "Entity already exists", type: "invalid input", code: "INPUT_ERROR", statusCode: 400, userPresentableMessage: "An issue with this id already exists.", path: [field.alias ?? field.name] } satisfies GraphQLError,
        status: 200,
      };
    }
  }
  const number = ctx.state.next(`linear:issues:${team.id}`);
  const identifier = `${team.key}-${number}`;
  const id = typeof input.id === "string" ? input.id : crypto.randomUUID();
  const url = `${ctx.options.origin}/linear/${account.organization.urlKey}/issue/${identifier}/${slugify(title)}`;
  ctx.state.created.push({ provider: "linear", kind: "issue", id, url, accountId: account.viewer.id, payload: input, at: ctx.state.now() });
  return {
    value: {
      success: true,
      lastSyncId: 1_000_000 + ctx.state.next("linear:sync"),
      issue: {
        id,
        identifier,
        number,
        title,
        description: typeof input.description === "string" ? input.description : null,
        priority,
        url,
        createdAt: new Date(ctx.state.now()).toISOString(),
        team: teamValue(ctx, account, team),
        state: { id: `${team.id.slice(0, 8)}-backlog`, name: "Backlog", type: "backlog" },
      },
    },
  };
}

function graphql(ctx: HandlerContext) {
  const raw = authorizationToken(ctx.headers) ?? ctx.headers.get("Authorization");
  const check = ctx.state.checkAccessToken("linear", raw, ctx.fault);
  if (!check.ok) return authenticationError(ctx);
  const token = check.token;
  const account = accountById(token.accountId)!;
  const headers = rateLimitHeaders(ctx, Math.max(0, 1200 - ctx.state.next(`linear:ratelimit:${token.accessToken}`)));

  const body = ctx.body.json as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
  if (ctx.body.invalidJson || !body || typeof body.query !== "string") {
    return graphqlErrors(400, [{ message: "Must provide query string.", type: "graphql error", code: "GRAPHQL_PARSE_FAILED", statusCode: 400 }], headers);
  }
  const variables = body.variables && typeof body.variables === "object" ? (body.variables as Record<string, unknown>) : {};
  let operation: Operation;
  try {
    operation = parseOperation(body.query, typeof body.operationName === "string" ? body.operationName : null);
    validateSelections(SCHEMA, operation.type === "mutation" ? "Mutation" : "Query", operation.selections);
  } catch (error) {
    if (error instanceof GraphQLSyntaxError) {
      return graphqlErrors(400, [{ message: error.message, type: "graphql error", code: "GRAPHQL_PARSE_FAILED", statusCode: 400 }], headers);
    }
    if (error instanceof GraphQLValidationError) {
      return graphqlErrors(400, [{ message: error.message, type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400, location: error.location }], headers);
    }
    throw error;
  }

  if (operation.type === "query") {
    const root = {
      viewer: () => userValue(ctx, account, token),
      organization: () => organizationValue(ctx, account),
      teams: () => ({ nodes: account.teams.map((team) => teamValue(ctx, account, team)) }),
    };
    return json({ data: project(SCHEMA, "Query", root, operation.selections) }, 200, headers);
  }
  const data: Record<string, unknown> = {};
  for (const field of operation.selections) {
    if (field.name === "__typename") {
      data[field.alias ?? field.name] = "Mutation";
      continue;
    }
    const result = issueCreate(ctx, account, token, field, variables);
    if ("error" in result) return graphqlErrors(result.status, [result.error], headers);
    data[field.alias ?? field.name] = project(SCHEMA, "IssuePayload", result.value, field.selections);
  }
  return json({ data }, 200, headers);
}

// ---------- routing and faults ----------

function isMutation(request: EmuRequest) {
  const query = (request.body.json as { query?: unknown } | undefined)?.query;
  return typeof query === "string" && /^\s*mutation\b/m.test(query.replace(/#[^\n]*/g, ""));
}

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/oauth/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (method !== "POST") return null;
  if (path === "/api/oauth/token") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: token };
  }
  if (path === "/api/oauth/revoke") return { endpoint: "revoke", handle: revoke };
  if (path === "/api/graphql") return { endpoint: isMutation(request) ? "deliver" : "identity", handle: graphql };
  return null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/api/")) return text("Not Found", 404);
  return renderErrorPage("Linear", "Page not found", "This page does not exist.", 404);
}

function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
  const isGraphql = ctx.path === "/api/graphql";
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(isGraphql ? '{"data":{"viewer":{"id":"' : '{"access_token":"lin_oauth_');
    case "oauth_error":
      if (endpoint === "authorize") {
        return redirect(appendParams(redirectUriFor(ctx, "linear"), { error: fault.code, error_description: fault.description, state: ctx.param("state") ?? undefined }));
      }
      if (isGraphql) {
        return graphqlErrors(400, [{ message: fault.description ?? fault.code, type: fault.code.toLowerCase().replaceAll("_", " "), code: fault.code, statusCode: 400 }]);
      }
      return tokenError(400, fault.code, fault.description ?? fault.code);
    case "rate_limited": {
      const retry: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
      if (!isGraphql) return text("Too many requests\n", 429, { "Retry-After": String(fault.retryAfterSeconds ?? 60) });
      // Reported both as HTTP 200 (older docs) and 400 with statusCode 429 (2026); default to the newer.
      return graphqlErrors(
        fault.status ?? 400,
        [
          {
            message: "Rate limit exceeded",
            type: "ratelimited",
            code: "RATELIMITED",
            statusCode: 429,
            userPresentableMessage: "You have exceeded the rate limit. Please try again later.",
          },
        ],
        { ...rateLimitHeaders(ctx, 0), ...retry },
      );
    }
  }
}

export const linear: ProviderModule = { provider: "linear", route, notFound, faultResponse };
