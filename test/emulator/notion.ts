import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { APP_NAME, EMULATOR_CLIENTS, NOTION_WORKSPACES, type NotionDatabase, type NotionDataSource } from "./fixtures";
import { appendParams, authorizationToken, json, malformedJson, rawHttpFault, randomBase62, redirect, slugify, text } from "./http";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";

const CLIENT = EMULATOR_CLIENTS.notion;
/** The first version whose page parent may be a data source. */
const DATA_SOURCES_VERSION = "2025-09-03";
const CAPABILITIES = ["Read content", "Update content", "Insert content", "Read user information including email addresses"];

type NotionWorkspace = (typeof NOTION_WORKSPACES)[number];

const workspaceById = (id: string) => NOTION_WORKSPACES.find((workspace) => workspace.id === id);
/** Notion accepts ids with or without dashes. */
const sameId = (a: string, b: string) => a.replaceAll("-", "").toLowerCase() === b.replaceAll("-", "").toLowerCase();

function apiError(status: number, code: string, message: string) {
  return json({ object: "error", status, code, message, request_id: crypto.randomUUID() }, status);
}

/** OAuth errors: the OpenAPI `{code}` shape or the guide's `{error}` shape, per options. */
function oauthError(ctx: HandlerContext, status: number, code: string, message: string) {
  if (ctx.options.notionErrorShape === "error") return json({ error: code, error_description: message }, status);
  return apiError(status, code, message);
}

// ---------- authorize ----------

function authorize(ctx: HandlerContext): Response {
  const clientId = ctx.param("client_id");
  if (clientId !== CLIENT.clientId) {
    return renderErrorPage("Notion", "Something went wrong", "Missing or invalid client_id.");
  }
  const registered = redirectUriFor(ctx, "notion");
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri !== null && redirectUri !== registered) {
    return renderErrorPage("Notion", "Something went wrong", "Invalid redirect_uri.");
  }
  const target = redirectUri ?? registered;
  const state = ctx.param("state") ?? undefined;
  if (ctx.param("response_type") !== "code") {
    return redirect(appendParams(target, { error: "unsupported_response_type", state }));
  }
  if (ctx.param("owner") !== "user") {
    return redirect(appendParams(target, { error: "invalid_request", error_description: "owner must be user", state }));
  }

  const decision = consentDecision(ctx);
  if (decision.decided && !decision.approve) return redirect(appendParams(target, { error: "access_denied", state }));
  if (decision.decided) {
    const workspace = workspaceById(decision.accountId ?? "") ?? NOTION_WORKSPACES[0]!;
    const code = issueCode(
      ctx,
      {
        provider: "notion",
        clientId,
        redirectUri,
        scopes: [],
        rawScope: "",
        // Notion documents no PKCE: a challenge, if sent, is ignored.
        codeChallenge: null,
        codeChallengeMethod: null,
        accountId: workspace.id,
      },
      () => crypto.randomUUID(),
    );
    return redirect(appendParams(target, { code: code.code, state }));
  }

  const hidden: Record<string, string> = { client_id: clientId };
  for (const name of ["redirect_uri", "response_type", "owner", "state"]) {
    const value = ctx.param(name);
    if (value !== null) hidden[name] = value;
  }
  return renderConsentPage({
    providerLabel: "Notion",
    action: ctx.url.pathname,
    scopeHeading: "Capabilities",
    scopes: CAPABILITIES,
    notes: NOTION_WORKSPACES.map(
      (workspace) =>
        `${workspace.name} shares: ${workspace.databases.filter((db) => db.shared).map((db) => db.title).join(", ") || "nothing"}`,
    ),
    accounts: NOTION_WORKSPACES.map((workspace) => ({ id: workspace.id, label: workspace.name, detail: workspace.owner.email })),
    hidden,
  });
}

// ---------- token, revoke, introspect ----------

function ownerObject(workspace: NotionWorkspace) {
  const { owner } = workspace;
  return {
    type: "user",
    user: { object: "user", id: owner.id, name: owner.name, avatar_url: null, type: "person", person: { email: owner.email } },
  };
}

function issueTokens(ctx: HandlerContext, workspace: NotionWorkspace, grantId: string) {
  const token = ctx.state.addToken({
    provider: "notion",
    clientId: CLIENT.clientId,
    accountId: workspace.id,
    accessToken: `ntn_${randomBase62(46)}`,
    refreshToken: `nrt_${randomBase62(46)}`,
    scopes: [],
    grantId,
    kind: "default",
    extra: {},
  });
  // No expires_in: Notion does not document an access-token lifetime.
  return json({
    access_token: token.accessToken,
    token_type: "bearer",
    refresh_token: token.refreshToken,
    bot_id: workspace.botId,
    workspace_id: workspace.id,
    workspace_name: workspace.name,
    workspace_icon: workspace.icon,
    owner: ownerObject(workspace),
    duplicated_template_id: null,
    request_id: crypto.randomUUID(),
  });
}

/** Notion authenticates the client with HTTP Basic only. */
function requireClient(ctx: HandlerContext) {
  const credentials = clientCredentials(ctx, { basic: true, body: false });
  if (credentials.id === CLIENT.clientId && credentials.secret === CLIENT.clientSecret) return null;
  return oauthError(ctx, 401, "invalid_client", "Client authentication failed.");
}

async function token(ctx: HandlerContext): Promise<Response> {
  const refused = requireClient(ctx);
  if (refused) return refused;
  if (ctx.body.invalidJson) return oauthError(ctx, 400, "invalid_request", "Error parsing JSON body.");
  const grantType = ctx.param("grant_type");
  if (!grantType) return oauthError(ctx, 400, "invalid_request", "body failed validation: body.grant_type should be defined.");
  if (grantType === "refresh_token") {
    const old = ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("notion", ctx.param("refresh_token"), CLIENT.clientId);
    if (!old) return oauthError(ctx, 400, "invalid_grant", "Invalid refresh token.");
    old.refreshUsed = true;
    if (ctx.options.revokeAccessTokenOnRefresh.notion) old.revoked = true;
    return issueTokens(ctx, workspaceById(old.accountId)!, old.grantId);
  }
  if (grantType !== "authorization_code") {
    return oauthError(ctx, 400, "unsupported_grant_type", `Unsupported grant_type: ${grantType}.`);
  }
  const redirectUri = ctx.param("redirect_uri");
  const result = await redeemCode(ctx, "notion", {
    code: ctx.param("code"),
    clientId: CLIENT.clientId,
    redirectUri,
    codeVerifier: null,
  });
  if (!result.ok) {
    switch (result.problem) {
      case "redirect_mismatch":
        return redirectUri === null
          ? oauthError(ctx, 400, "invalid_request", "body failed validation: body.redirect_uri should be defined.")
          : oauthError(ctx, 400, "invalid_grant", "Invalid redirect_uri.");
      case "used":
        return oauthError(ctx, 400, "invalid_grant", "Invalid code: this code has been revoked.");
      case "expired":
        return oauthError(ctx, 400, "invalid_grant", "Invalid code: this code has expired.");
      default:
        return oauthError(ctx, 400, "invalid_grant", "Invalid code.");
    }
  }
  return issueTokens(ctx, workspaceById(result.code.accountId)!, newGrantId());
}

function findByEitherToken(ctx: HandlerContext, value: string | null) {
  if (!value) return undefined;
  return ctx.state.tokens.find((t) => t.provider === "notion" && (t.accessToken === value || t.refreshToken === value));
}

function revoke(ctx: HandlerContext) {
  const refused = requireClient(ctx);
  if (refused) return refused;
  const value = ctx.param("token");
  if (!value) return oauthError(ctx, 400, "invalid_request", "body failed validation: body.token should be defined.");
  // RFC 7009: revoking an unknown or already revoked token is not an error.
  const token = findByEitherToken(ctx, value);
  if (token) ctx.state.revokeGrant(token.grantId);
  return json({ request_id: crypto.randomUUID() });
}

function introspect(ctx: HandlerContext) {
  const refused = requireClient(ctx);
  if (refused) return refused;
  const value = ctx.param("token");
  if (!value) return oauthError(ctx, 400, "invalid_request", "body failed validation: body.token should be defined.");
  const token = findByEitherToken(ctx, value);
  const isRefresh = token?.refreshToken === value;
  const active =
    token !== undefined &&
    ctx.fault === undefined &&
    !token.revoked &&
    (isRefresh ? !token.refreshUsed : token.expiresAt === undefined || token.expiresAt > ctx.state.now());
  if (!active) return json({ active: false, request_id: crypto.randomUUID() });
  return json({
    active: true,
    scope: "read_content update_content insert_content read_user_with_email",
    iat: Math.floor(token.issuedAt / 1000),
    request_id: crypto.randomUUID(),
  });
}

// ---------- REST API ----------

type Authenticated = { ok: true; token: IssuedToken; workspace: NotionWorkspace } | { ok: false; response: Response };

function authenticate(ctx: HandlerContext): Authenticated {
  const check = ctx.state.checkAccessToken("notion", authorizationToken(ctx.headers), ctx.fault);
  if (!check.ok) return { ok: false, response: apiError(401, "unauthorized", "API token is invalid.") };
  const version = ctx.headers.get("Notion-Version");
  if (!version) {
    return {
      ok: false,
      response: apiError(400, "missing_version", "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`."),
    };
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    return {
      ok: false,
      response: apiError(400, "missing_version", `Notion-Version header failed validation: Notion-Version header should be a valid version, instead was \`${version}\`.`),
    };
  }
  return { ok: true, token: check.token, workspace: workspaceById(check.token.accountId)! };
}

function usersMe(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace } = auth;
  return json({
    object: "user",
    id: workspace.botId,
    name: APP_NAME,
    avatar_url: null,
    type: "bot",
    bot: { owner: ownerObject(workspace), workspace_name: workspace.name, workspace_id: workspace.id },
    request_id: crypto.randomUUID(),
  });
}

const notShared = (kind: string, id: string) =>
  apiError(
    404,
    "object_not_found",
    `Could not find ${kind} with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`,
  );

type ResolvedParent = { error: Response } | { database: NotionDatabase; source: NotionDataSource };

function resolveParent(workspace: NotionWorkspace, parent: Record<string, unknown>, version: string): ResolvedParent {
  const shared = workspace.databases.filter((db) => db.shared);
  if (typeof parent.data_source_id === "string") {
    if (version < DATA_SOURCES_VERSION) {
      return { error: apiError(400, "validation_error", "body failed validation: body.parent.database_id should be defined, instead was `undefined`.") };
    }
    const id = parent.data_source_id;
    for (const database of shared) {
      const source = database.dataSources.find((s) => sameId(s.id, id));
      if (source) return { database, source };
    }
    return { error: notShared("data_source", id) };
  }
  if (typeof parent.database_id === "string") {
    const id = parent.database_id;
    const database = shared.find((db) => sameId(db.id, id));
    if (!database) return { error: notShared("database", id) };
    if (database.dataSources.length > 1) {
      return {
        error: apiError(
          400,
          "validation_error",
          "Databases with multiple data sources are not supported in this API version. Use a data_source_id parent (Notion-Version 2025-09-03 or later).",
        ),
      };
    }
    return { database, source: database.dataSources[0]! };
  }
  if (typeof parent.page_id === "string") return { error: notShared("page", parent.page_id) };
  return {
    error: apiError(400, "validation_error", "body failed validation: body.parent.database_id should be defined, instead was `undefined`."),
  };
}

/** The checks Notion makes against the schema, with its own wording. */
function validateProperties(source: NotionDataSource, properties: Record<string, unknown>) {
  for (const [name, value] of Object.entries(properties)) {
    const type = source.properties[name];
    if (!type) return `Could not find property with name or id: ${name}`;
    if (!value || typeof value !== "object" || !(type in value)) return `${name} is expected to be ${type}.`;
    const items = (value as Record<string, unknown>)[type];
    if (type === "title" || type === "rich_text") {
      if (!Array.isArray(items)) return `${name} is expected to be ${type}.`;
      for (const [index, item] of items.entries()) {
        const content = (item as { text?: { content?: unknown } })?.text?.content;
        if (typeof content === "string" && content.length > 2000) {
          return `body.properties.${name}.${type}[${index}].text.content.length should be ≤ \`2000\`, instead was \`${content.length}\`.`;
        }
      }
    }
  }
  return null;
}

function plainTitle(source: NotionDataSource, properties: Record<string, unknown>) {
  const titleName = Object.keys(source.properties).find((name) => source.properties[name] === "title");
  const items = titleName ? (properties[titleName] as { title?: { text?: { content?: string } }[] } | undefined)?.title : undefined;
  return (items ?? []).map((item) => item.text?.content ?? "").join("");
}

/** GET /v1/databases/{id}: the schema integrations read to shape property values. */
function retrieveDatabase(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const id = decodeURIComponent(ctx.path.slice("/v1/databases/".length));
  const database = auth.workspace.databases.find((db) => db.shared && sameId(db.id, id));
  if (!database) return notShared("database", id);
  const source = database.dataSources[0]!;
  return json({
    object: "database",
    id: database.id,
    title: [{ type: "text", text: { content: database.title }, plain_text: database.title }],
    properties: Object.fromEntries(
      Object.entries(source.properties).map(([name, type], index) => [name, { id: index === 0 ? "title" : `p${index}`, name, type, [type]: {} }]),
    ),
    request_id: crypto.randomUUID(),
  });
}

function createPage(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace } = auth;
  const version = ctx.headers.get("Notion-Version")!;
  if (ctx.body.invalidJson) return apiError(400, "invalid_json", "Error parsing JSON body.");
  const body = ctx.body.json;
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return apiError(400, "validation_error", "body failed validation: body should be an object, instead was `undefined`.");
  }
  const input = body as Record<string, unknown>;
  if (!input.parent || typeof input.parent !== "object") {
    return apiError(400, "validation_error", "body failed validation: body.parent should be defined, instead was `undefined`.");
  }
  const resolved = resolveParent(workspace, input.parent as Record<string, unknown>, version);
  if ("error" in resolved) return resolved.error;
  const { database, source } = resolved;

  const properties = (input.properties ?? {}) as Record<string, unknown>;
  if (typeof properties !== "object" || Array.isArray(properties)) {
    return apiError(400, "validation_error", "body failed validation: body.properties should be an object.");
  }
  const problem = validateProperties(source, properties);
  if (problem) return apiError(400, "validation_error", problem);
  if (Array.isArray(input.children) && input.children.length > 100) {
    return apiError(400, "validation_error", `body failed validation: body.children.length should be ≤ \`100\`, instead was \`${input.children.length}\`.`);
  }

  const id = crypto.randomUUID();
  const now = new Date(ctx.state.now()).toISOString().replace(/\d{2}\.\d{3}Z$/, "00.000Z");
  const title = plainTitle(source, properties);
  const url = `${ctx.options.origin}/notion/${slugify(title)}-${id.replaceAll("-", "")}`;
  const bot = { object: "user", id: workspace.botId };
  const parent =
    version >= DATA_SOURCES_VERSION
      ? { type: "data_source_id", data_source_id: source.id, database_id: database.id }
      : { type: "database_id", database_id: database.id };
  const page = {
    object: "page",
    id,
    created_time: now,
    last_edited_time: now,
    created_by: bot,
    last_edited_by: bot,
    cover: null,
    icon: null,
    parent,
    archived: false,
    in_trash: false,
    properties: Object.fromEntries(
      Object.entries(source.properties).map(([name, type], index) => [
        name,
        { id: index === 0 ? "title" : randomBase62(4), type, [type]: (properties[name] as Record<string, unknown> | undefined)?.[type] ?? (type === "title" || type === "rich_text" || type === "multi_select" ? [] : null) },
      ]),
    ),
    url,
    public_url: null,
    request_id: crypto.randomUUID(),
  };
  ctx.state.created.push({ provider: "notion", kind: "page", id, url, accountId: workspace.id, payload: input, at: ctx.state.now() });
  return json(page);
}

// ---------- routing and faults ----------

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/v1/oauth/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (method === "POST" && path === "/v1/oauth/token") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: token };
  }
  if (method === "POST" && path === "/v1/oauth/revoke") return { endpoint: "revoke", handle: revoke };
  if (method === "POST" && path === "/v1/oauth/introspect") return { endpoint: "identity", handle: introspect };
  if (method === "GET" && path === "/v1/users/me") return { endpoint: "identity", handle: usersMe };
  if (method === "POST" && path === "/v1/pages") return { endpoint: "deliver", handle: createPage };
  // A read that precedes deliveries; deliberately outside fault injection, which targets the write.
  if (method === "GET" && path.startsWith("/v1/databases/")) return { endpoint: null, handle: retrieveDatabase };
  return null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/v1/")) return apiError(400, "invalid_request_url", "Invalid request URL.");
  return renderErrorPage("Notion", "Page not found", "This page does not exist.", 404);
}

function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
  const oauthEndpoint = ctx.path.startsWith("/v1/oauth/");
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(endpoint === "deliver" ? '{"object":"page","id":"' : '{"access_token":"ntn_');
    case "oauth_error":
      if (endpoint === "authorize") {
        return redirect(appendParams(redirectUriFor(ctx, "notion"), { error: fault.code, error_description: fault.description, state: ctx.param("state") ?? undefined }));
      }
      if (oauthEndpoint) return oauthError(ctx, 400, fault.code, fault.description ?? fault.code);
      return apiError(400, fault.code, fault.description ?? fault.code);
    case "rate_limited": {
      const retryAfter = String(fault.retryAfterSeconds ?? 1);
      if (endpoint === "authorize") return text("Too many requests\n", 429, { "Retry-After": retryAfter });
      const response = apiError(429, "rate_limited", "You have been rate limited. Please try again in a few minutes.");
      response.headers.set("Retry-After", retryAfter);
      return response;
    }
  }
}

export const notion: ProviderModule = { provider: "notion", label: "Notion", bases: { web: "", api: "" }, route, notFound, faultResponse };
