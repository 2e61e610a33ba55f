import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import {
  APP_NAME,
  EMULATOR_CLIENTS,
  NOTION_WORKSPACES,
  type NotionDatabase,
  type NotionDataSource,
  type NotionPropertyType,
} from "./fixtures";
import { appendParams, asText, authorizationToken, json, malformedJson, rawHttpFault, randomBase62, redirect, slugify, text } from "./http";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";
import type {
  DatabaseObjectResponse,
  ListBlockChildrenResponse,
  ListUsersResponse,
  PageObjectResponse,
  SearchResponse,
} from "@notionhq/client/build/src/api-endpoints";
import {
  blockResponse,
  hasLoneSurrogate,
  LIMITS,
  NotionValidationError,
  richTextResponse,
  validateBlocks,
  validateRichText,
  type StoredBlock,
} from "./notion-content";

const CLIENT = EMULATOR_CLIENTS.notion;
/** The first version whose page parent may be a data source. */
const DATA_SOURCES_VERSION = "2025-09-03";
const CAPABILITIES = ["Read content", "Update content", "Insert content", "Read user information including email addresses"];

type NotionWorkspace = (typeof NOTION_WORKSPACES)[number];

const workspaceById = (id: string) => NOTION_WORKSPACES.find((workspace) => workspace.id === id);
/** The workspace a data source belongs to. */
const workspaceOfSource = (source: NotionDataSource) =>
  NOTION_WORKSPACES.find((workspace) => workspace.databases.some((database) => database.dataSources.includes(source)))!;
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
        `${workspace.name} shares: ${
          workspace.databases
            .filter((db) => db.shared)
            .map((db) => db.title)
            .join(", ") || "nothing"
        }`,
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
    const old =
      ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("notion", ctx.param("refresh_token"), CLIENT.clientId);
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

type Authenticated = { ok: true; token: IssuedToken; workspace: NotionWorkspace; version: string } | { ok: false; response: Response };

function authenticate(ctx: HandlerContext): Authenticated {
  const check = ctx.state.checkAccessToken("notion", authorizationToken(ctx.headers), ctx.fault);
  if (!check.ok) return { ok: false, response: apiError(401, "unauthorized", "API token is invalid.") };
  const version = ctx.headers.get("Notion-Version");
  if (!version) {
    return {
      ok: false,
      response: apiError(
        400,
        "missing_version",
        "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
      ),
    };
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    return {
      ok: false,
      response: apiError(
        400,
        "missing_version",
        `Notion-Version header failed validation: Notion-Version header should be a valid version, instead was \`${version}\`.`,
      ),
    };
  }
  const workspace = workspaceById(check.token.accountId)!;
  // "An average of three requests per second per connection", bursts allowed.
  const taken = ctx.limits.takeBucket(
    `notion:${workspace.botId}`,
    ctx.options.rateLimits.notion,
    ctx.state.now(),
    ctx.options.rateLimits.enabled,
  );
  if (!taken.allowed) {
    const response = apiError(429, "rate_limited", "You have been rate limited. Please try again in a few minutes.");
    response.headers.set("Retry-After", String(taken.retryAfterSeconds));
    return { ok: false, response };
  }
  return { ok: true, token: check.token, workspace, version };
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

/** The workspace's people (owner first, then members) and the integration's bot, as user objects. */
function workspaceUsers(workspace: NotionWorkspace): ListUsersResponse["results"] {
  const people = [workspace.owner, ...(workspace.members ?? [])].map((person): ListUsersResponse["results"][number] => ({
    object: "user",
    id: person.id,
    name: person.name,
    avatar_url: null,
    type: "person",
    person: { email: person.email },
  }));
  return [...people, { object: "user", id: workspace.botId, name: APP_NAME, avatar_url: null, type: "bot", bot: {} }];
}

/** GET /v1/users: every user of the workspace, paged by start_cursor (page_size ≤ 100). */
function listUsers(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const window = pageWindow(
    workspaceUsers(auth.workspace),
    ctx.url.searchParams.get("start_cursor") ?? undefined,
    ctx.url.searchParams.get("page_size") ?? undefined,
  );
  if ("error" in window) return window.error;
  const body: ListUsersResponse & { request_id: string } = {
    object: "list",
    results: window.slice,
    next_cursor: window.next,
    has_more: window.next !== null,
    type: "user",
    user: {},
    request_id: crypto.randomUUID(),
  };
  return json(body);
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
      return {
        error: apiError(
          400,
          "validation_error",
          "body failed validation: body.parent.database_id should be defined, instead was `undefined`.",
        ),
      };
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
    if (database.dataSources.length > 1) return { error: multipleSources() };
    return { database, source: database.dataSources[0]! };
  }
  if (typeof parent.page_id === "string") return { error: notShared("page", parent.page_id) };
  return {
    error: apiError(400, "validation_error", "body failed validation: body.parent.database_id should be defined, instead was `undefined`."),
  };
}

const multipleSources = () =>
  apiError(
    400,
    "validation_error",
    "Databases with multiple data sources are not supported in this API version. Use a data_source_id parent (Notion-Version 2025-09-03 or later).",
  );

/** The checks Notion makes against the schema, with its own wording. */
function validateProperties(ctx: HandlerContext, source: NotionDataSource, properties: Record<string, unknown>) {
  for (const [name, value] of Object.entries(properties)) {
    const type = source.properties[name];
    if (!type) return `Could not find property with name or id: ${name}`;
    if (!value || typeof value !== "object" || !(type in value)) return `${name} is expected to be ${type}.`;
    const items = (value as Record<string, unknown>)[type];
    if (type === "title" || type === "rich_text") {
      if (!Array.isArray(items)) return `${name} is expected to be ${type}.`;
      try {
        validateRichText(items, `body.properties.${name}.${type}`);
      } catch (error) {
        if (error instanceof NotionValidationError) return error.message;
        throw error;
      }
    }
    if (type === "people") {
      if (!Array.isArray(items)) return `${name} is expected to be people.`;
      const known = workspaceUsers(workspaceOfSource(source));
      for (const [index, item] of items.entries()) {
        const id = (item as { id?: unknown } | null)?.id;
        if (typeof id !== "string") return `body.properties.${name}.people[${index}].id should be defined, instead was \`undefined\`.`;
        if (!known.some((user) => sameId(user.id, id))) return `Could not find user with ID: ${id}.`;
      }
    }
    if (type === "status" && items !== null) {
      // { name } or { id }; anything else names no option.
      const option =
        typeof items === "object" ? ("name" in items && items.name != null ? items.name : "id" in items ? items.id : undefined) : undefined;
      if (!optionsOf(ctx, source, name).some((candidate, index) => candidate === option || optionId(name, index) === option)) {
        return `Invalid status option. Status option "${String(option)}" does not exist for property ${name}.`;
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

// ---------- databases ----------

const COLORS = ["gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red", "default"] as const;
/** A property's options: the fixture's, then those created by pages (select options are created on use). */
function optionsOf(ctx: HandlerContext, source: NotionDataSource, name: string) {
  const created = ctx.state.collection<{ source: string; property: string; name: string }>("notion:options");
  return [
    ...(source.options?.[name] ?? []),
    ...created.filter((option) => option.source === source.id && option.property === name).map((option) => option.name),
  ];
}

const optionId = (property: string, index: number) => `${slugify(property, 8)}-${index + 1}`;
const optionObject = (property: string, name: string, index: number) => ({
  id: optionId(property, index),
  name,
  color: COLORS[index % COLORS.length]!,
  description: null,
});

/** A property's schema entry as GET /v1/databases answers it. */
function propertySchema(ctx: HandlerContext, source: NotionDataSource, name: string, type: NotionPropertyType, index: number) {
  const options = optionsOf(ctx, source, name).map((option, n) => optionObject(name, option, n));
  const config =
    type === "select" || type === "multi_select"
      ? { options }
      : type === "status"
        ? {
            options,
            groups: [
              { id: `${optionId(name, 0)}-todo`, name: "To-do", color: "gray", option_ids: options.slice(0, 1).map((option) => option.id) },
              {
                id: `${optionId(name, 0)}-progress`,
                name: "In progress",
                color: "blue",
                option_ids: options.slice(1, -1).map((option) => option.id),
              },
              {
                id: `${optionId(name, 0)}-complete`,
                name: "Complete",
                color: "green",
                option_ids: options.slice(-1).map((option) => option.id),
              },
            ],
          }
        : type === "number"
          ? { format: "number" }
          : {};
  return { id: index === 0 && type === "title" ? "title" : `p${index}`, name, type, [type]: config, description: null };
}

const DATABASE_CREATED = "2025-01-01T00:00:00.000Z";

function databaseObject(
  ctx: HandlerContext,
  workspace: NotionWorkspace,
  database: NotionDatabase,
  version: string,
): DatabaseObjectResponse {
  const source = database.dataSources[0]!;
  const created = database.createdTime ?? DATABASE_CREATED;
  const bot = { object: "user" as const, id: workspace.botId };
  return {
    object: "database",
    id: database.id,
    created_time: created,
    last_edited_time: created,
    created_by: bot,
    last_edited_by: bot,
    title: richTextResponse([{ type: "text", text: { content: database.title, link: null } }]),
    description: [],
    icon: null,
    cover: null,
    properties: Object.fromEntries(
      Object.entries(source.properties).map(([name, type], index) => [name, propertySchema(ctx, source, name, type, index)]),
    ) as DatabaseObjectResponse["properties"],
    parent: { type: "workspace", workspace: true },
    url: `${ctx.options.origin}/notion/${database.id.replaceAll("-", "")}`,
    public_url: null,
    archived: database.archived ?? false,
    in_trash: database.archived ?? false,
    is_inline: false,
    ...(version >= DATA_SOURCES_VERSION
      ? {
          data_sources: database.dataSources.map((candidate, n) => ({
            id: candidate.id,
            name: n === 0 ? database.title : `${database.title} (${n + 1})`,
          })),
        }
      : {}),
  };
}

/** GET /v1/databases/{id}: the schema integrations read to shape property values, options included. */
function retrieveDatabase(ctx: HandlerContext, id: string) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const database = auth.workspace.databases.find((db) => db.shared && sameId(db.id, id));
  if (!database) return notShared("database", id);
  return json({ ...databaseObject(ctx, auth.workspace, database, auth.version), request_id: crypto.randomUUID() });
}

// ---------- pages and blocks ----------

interface StoredPage {
  id: string;
  workspaceId: string;
  databaseId: string;
  dataSourceId: string;
  createdTime: string;
  /** The page object as created (properties answered in response shape). */
  page: PageObjectResponse;
  title: string;
  childIds: string[];
}

const pagesOf = (ctx: HandlerContext) => ctx.state.collection<StoredPage>("notion:pages");
const blocksOf = (ctx: HandlerContext) => ctx.state.collection<StoredBlock>("notion:blocks");

/** Notion keeps created_time to the minute. */
const minuteIso = (ms: number) => new Date(ms).toISOString().replace(/\d{2}\.\d{3}Z$/, "00.000Z");

/** Stores request blocks (and their children) under `parent`; returns the top-level ids. */
function storeBlocks(
  ctx: HandlerContext,
  pageId: string,
  parent: StoredBlock["parent"],
  blocks: Record<string, unknown>[],
  createdBy: string,
): string[] {
  return blocks.map((block) => {
    const type = (block.type as string | undefined) ?? Object.keys(block).find((key) => key !== "object" && key !== "type")!;
    const content = { ...(block[type] as Record<string, unknown>) };
    const id = crypto.randomUUID();
    const stored: StoredBlock = { id, pageId, parent, type, content, childIds: [], createdTime: minuteIso(ctx.state.now()), createdBy };
    blocksOf(ctx).push(stored);
    if (Array.isArray(content.children)) {
      stored.childIds = storeBlocks(
        ctx,
        pageId,
        { type: "block_id", block_id: id },
        content.children as Record<string, unknown>[],
        createdBy,
      );
    }
    delete stored.content.children;
    return id;
  });
}

/** A property value in response shape: rich text filled in, options resolved (unknown select options are created). */
function propertyValue(ctx: HandlerContext, source: NotionDataSource, name: string, type: NotionPropertyType, given: unknown) {
  const value = (given as Record<string, unknown> | undefined)?.[type];
  const options = optionsOf(ctx, source, name);
  const option = (raw: unknown) => {
    const wanted = (raw as { name?: string; id?: string } | null)?.name ?? (raw as { id?: string } | null)?.id;
    let index = options.findIndex((candidate, n) => candidate === wanted || optionId(name, n) === wanted);
    if (index === -1 && typeof wanted === "string") {
      ctx.state
        .collection<{ source: string; property: string; name: string }>("notion:options")
        .push({ source: source.id, property: name, name: wanted });
      options.push(wanted);
      index = options.length - 1;
    }
    return index === -1 ? null : optionObject(name, options[index]!, index);
  };
  switch (type) {
    case "title":
    case "rich_text":
      return richTextResponse(value ?? []);
    case "select":
    case "status":
      return value === undefined || value === null ? null : option(value);
    case "multi_select":
      return ((value as unknown[] | undefined) ?? []).map(option).filter(Boolean);
    case "checkbox":
      return value === undefined ? false : value;
    default:
      return value ?? null;
  }
}

function createPage(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace, version } = auth;
  if (ctx.body.invalidJson) return apiError(400, "invalid_json", "Error parsing JSON body.");
  const body = ctx.body.json;
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return apiError(400, "validation_error", "body failed validation: body should be an object, instead was `undefined`.");
  }
  // Lone UTF-16 surrogates are not text: Notion refuses such a body as invalid JSON.
  if (hasLoneSurrogate(body)) return apiError(400, "invalid_json", "Error parsing JSON body.");
  if (new TextEncoder().encode(ctx.bodyText).byteLength > LIMITS.payloadBytes) {
    return apiError(400, "validation_error", `Request body too large: at most ${LIMITS.payloadBytes} bytes.`);
  }
  const input = body as Record<string, unknown>;
  if (!input.parent || typeof input.parent !== "object") {
    return apiError(400, "validation_error", "body failed validation: body.parent should be defined, instead was `undefined`.");
  }
  const resolved = resolveParent(workspace, input.parent as Record<string, unknown>, version);
  if ("error" in resolved) return resolved.error;
  const { database, source } = resolved;
  if (database.archived) {
    return apiError(400, "validation_error", "Can't edit block that is archived. You must unarchive the block before editing.");
  }

  const properties = (input.properties ?? {}) as Record<string, unknown>;
  if (typeof properties !== "object" || Array.isArray(properties)) {
    return apiError(400, "validation_error", "body failed validation: body.properties should be an object.");
  }
  const problem = validateProperties(ctx, source, properties);
  if (problem) return apiError(400, "validation_error", problem);
  if (input.children !== undefined) {
    try {
      const count = validateBlocks(input.children, "body.children");
      if (count > LIMITS.blocksPerRequest)
        return apiError(400, "validation_error", `Too many blocks in one request: ${count}, at most ${LIMITS.blocksPerRequest}.`);
    } catch (error) {
      if (error instanceof NotionValidationError) return apiError(400, "validation_error", error.message);
      throw error;
    }
  }

  const id = crypto.randomUUID();
  const now = minuteIso(ctx.state.now());
  const title = plainTitle(source, properties);
  const url = `${ctx.options.origin}/notion/${slugify(title)}-${id.replaceAll("-", "")}`;
  const bot = { object: "user" as const, id: workspace.botId };
  const parent =
    version >= DATA_SOURCES_VERSION
      ? { type: "data_source_id", data_source_id: source.id, database_id: database.id }
      : { type: "database_id" as const, database_id: database.id };
  const page: PageObjectResponse = {
    object: "page",
    id,
    created_time: now,
    last_edited_time: now,
    created_by: bot,
    last_edited_by: bot,
    cover: null,
    icon: null,
    // The pinned SDK types describe Notion-Version 2022-06-28; data_source_id parents are 2025-09-03's.
    parent: parent as PageObjectResponse["parent"],
    archived: false,
    in_trash: false,
    properties: Object.fromEntries(
      Object.entries(source.properties).map(([name, type], index) => [
        name,
        {
          id: index === 0 && type === "title" ? "title" : `p${index}`,
          type,
          [type]: propertyValue(ctx, source, name, type, properties[name]),
        },
      ]),
    ) as PageObjectResponse["properties"],
    url,
    public_url: null,
  };
  const childIds = Array.isArray(input.children)
    ? storeBlocks(ctx, id, { type: "page_id", page_id: id }, input.children as Record<string, unknown>[], workspace.botId)
    : [];
  pagesOf(ctx).push({
    id,
    workspaceId: workspace.id,
    databaseId: database.id,
    dataSourceId: source.id,
    createdTime: now,
    page,
    title,
    childIds,
  });
  ctx.state.created.push({ provider: "notion", kind: "page", id, url, accountId: workspace.id, payload: input, at: ctx.state.now() });
  return json({ ...page, request_id: crypto.randomUUID() });
}

// ---------- search, query, block children ----------

/** page_size: at most 100 (default 100); start_cursor: an id from next_cursor. */
function pageWindow<T extends { id: string }>(
  items: T[],
  startCursor: unknown,
  pageSizeRaw: unknown,
): { error: Response } | { slice: T[]; next: string | null } {
  const pageSize = pageSizeRaw === undefined || pageSizeRaw === null ? 100 : Number(pageSizeRaw);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    return {
      error: apiError(
        400,
        "validation_error",
        `body failed validation: body.page_size should be a positive integer, instead was \`${JSON.stringify(pageSizeRaw)}\`.`,
      ),
    };
  }
  if (pageSize > 100) {
    return {
      error: apiError(400, "validation_error", `body failed validation: body.page_size should be ≤ \`100\`, instead was \`${pageSize}\`.`),
    };
  }
  let start = 0;
  if (startCursor !== undefined && startCursor !== null) {
    start = items.findIndex((item) => typeof startCursor === "string" && sameId(item.id, startCursor));
    if (start === -1) return { error: apiError(400, "validation_error", `The start_cursor provided is invalid: ${asText(startCursor)}`) };
  }
  const slice = items.slice(start, start + pageSize);
  const next = items[start + pageSize];
  return { slice, next: next ? next.id : null };
}

function listBody(results: SearchResponse["results"], next: string | null): SearchResponse & { request_id: string } {
  return {
    object: "list",
    results,
    next_cursor: next,
    has_more: next !== null,
    type: "page_or_database",
    page_or_database: {},
    request_id: crypto.randomUUID(),
  };
}

function blockListBody(
  results: ListBlockChildrenResponse["results"],
  next: string | null,
): ListBlockChildrenResponse & { request_id: string } {
  return { object: "list", results, next_cursor: next, has_more: next !== null, type: "block", block: {}, request_id: crypto.randomUUID() };
}

/** POST /v1/search: what is shared with the integration, by title; archived items are left out. */
function search(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace, version } = auth;
  if (ctx.body.invalidJson) return apiError(400, "invalid_json", "Error parsing JSON body.");
  const input = (ctx.body.json ?? {}) as Record<string, unknown>;
  const filter = input.filter as { property?: unknown; value?: unknown } | undefined;
  const objectKinds = version >= DATA_SOURCES_VERSION ? ["page", "data_source"] : ["page", "database"];
  if (filter !== undefined && (filter.property !== "object" || !objectKinds.includes(String(filter.value)))) {
    return apiError(
      400,
      "validation_error",
      `body failed validation: body.filter.value should be ${objectKinds.map((kind) => `"${kind}"`).join(" or ")}, instead was \`${JSON.stringify(filter.value)}\`.`,
    );
  }
  const query = typeof input.query === "string" ? input.query.trim().toLowerCase() : "";
  const wantDatabases = !filter || filter.value !== "page";
  const wantPages = !filter || filter.value === "page";
  type Entry = { id: string; edited: string; value: SearchResponse["results"][number] };
  const entries: Entry[] = [];
  if (wantDatabases) {
    for (const database of workspace.databases) {
      if (!database.shared || database.archived || !database.title.toLowerCase().includes(query)) continue;
      entries.push({
        id: database.id,
        edited: database.createdTime ?? DATABASE_CREATED,
        value: databaseObject(ctx, workspace, database, version),
      });
    }
  }
  if (wantPages) {
    for (const page of pagesOf(ctx)) {
      if (page.workspaceId !== workspace.id || !page.title.toLowerCase().includes(query)) continue;
      entries.push({ id: page.id, edited: page.createdTime, value: page.page });
    }
  }
  const sort = input.sort as { direction?: string } | undefined;
  const direction = sort?.direction === "ascending" ? 1 : -1;
  entries.sort((a, b) => (a.edited < b.edited ? -1 : a.edited > b.edited ? 1 : a.id.localeCompare(b.id)) * direction);
  const window = pageWindow(entries, input.start_cursor, input.page_size);
  if ("error" in window) return window.error;
  return json(
    listBody(
      window.slice.map((entry) => entry.value),
      window.next,
    ),
  );
}

type Filter = Record<string, unknown>;

const DATE_OPS = ["equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"];

function dateMatches(value: string | null, condition: Record<string, unknown>) {
  return Object.entries(condition).every(([op, expected]) => {
    if (op === "is_empty") return (value === null) === expected;
    if (op === "is_not_empty") return (value !== null) === expected;
    if (value === null || typeof expected !== "string") return false;
    const at = Date.parse(value);
    const when = Date.parse(expected);
    // A date without a time compares by day.
    const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(expected);
    const left = dayOnly ? Date.parse(value.slice(0, 10)) : at;
    switch (op) {
      case "equals":
        return left === when;
      case "before":
        return left < when;
      case "after":
        return left > when;
      case "on_or_before":
        return left <= when;
      case "on_or_after":
        return left >= when;
      default:
        return true;
    }
  });
}

function textMatches(value: string, condition: Record<string, unknown>) {
  return Object.entries(condition).every(([op, expected]) => {
    const text = String(expected);
    switch (op) {
      case "equals":
        return value === text;
      case "does_not_equal":
        return value !== text;
      case "contains":
        return value.includes(text);
      case "does_not_contain":
        return !value.includes(text);
      case "starts_with":
        return value.startsWith(text);
      case "ends_with":
        return value.endsWith(text);
      case "is_empty":
        return (value === "") === expected;
      case "is_not_empty":
        return (value !== "") === expected;
      default:
        return true;
    }
  });
}

class FilterError extends Error {}

/** One filter of a database query: a property filter, a timestamp filter, or and/or of them (two levels deep at most). */
function pageMatches(page: StoredPage, source: NotionDataSource, filter: Filter, depth = 0): boolean {
  if (Array.isArray(filter.and) || Array.isArray(filter.or)) {
    if (depth >= 2) throw new FilterError("body failed validation: body.filter exceeds the maximum nesting depth of 2.");
    const parts = (filter.and ?? filter.or) as Filter[];
    return filter.and
      ? parts.every((part) => pageMatches(page, source, part, depth + 1))
      : parts.some((part) => pageMatches(page, source, part, depth + 1));
  }
  if (filter.timestamp === "created_time" || filter.timestamp === "last_edited_time") {
    const condition = (filter[filter.timestamp] ?? {}) as Record<string, unknown>;
    if (Object.keys(condition).some((op) => !DATE_OPS.includes(op)))
      throw new FilterError(`body failed validation: body.filter.${filter.timestamp} has an unknown condition.`);
    return dateMatches(page.createdTime, condition);
  }
  if (typeof filter.property !== "string")
    throw new FilterError("body failed validation: body.filter.property should be defined, instead was `undefined`.");
  const name = filter.property;
  const type = source.properties[name];
  if (!type) throw new FilterError(`Could not find property with name or id: ${name}`);
  const kind = Object.keys(filter).find((key) => key !== "property")!;
  const condition = (filter[kind] ?? {}) as Record<string, unknown>;
  if (kind !== type && !(type === "title" && kind === "rich_text"))
    throw new FilterError(`body failed validation: body.filter.${kind} does not match the type of property ${name} (${type}).`);
  const value = (page.page.properties as Record<string, Record<string, unknown>>)[name]?.[type];
  switch (type) {
    case "title":
    case "rich_text":
    case "url":
    case "email":
      return textMatches(
        Array.isArray(value) ? (value as { plain_text: string }[]).map((item) => item.plain_text).join("") : asText(value ?? ""),
        condition,
      );
    case "select":
    case "status":
      return textMatches((value as { name?: string } | null)?.name ?? "", condition);
    case "multi_select": {
      const names = ((value as { name: string }[] | null) ?? []).map((option) => option.name);
      return Object.entries(condition).every(([op, expected]) =>
        op === "contains"
          ? names.includes(String(expected))
          : op === "does_not_contain"
            ? !names.includes(String(expected))
            : op === "is_empty"
              ? (names.length === 0) === expected
              : op === "is_not_empty"
                ? names.length > 0 === expected
                : true,
      );
    }
    case "checkbox":
      return Object.entries(condition).every(([op, expected]) =>
        op === "equals" ? value === expected : op === "does_not_equal" ? value !== expected : true,
      );
    case "date":
      return dateMatches((value as { start?: string } | null)?.start ?? null, condition);
    default:
      return true;
  }
}

/** POST /v1/databases/{id}/query: the database's pages, filtered and sorted; immediately consistent. */
function queryDatabase(ctx: HandlerContext, id: string) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace } = auth;
  if (ctx.body.invalidJson) return apiError(400, "invalid_json", "Error parsing JSON body.");
  const database = workspace.databases.find((db) => db.shared && sameId(db.id, id));
  if (!database) return notShared("database", id);
  if (database.dataSources.length > 1) return multipleSources();
  const source = database.dataSources[0]!;
  const input = (ctx.body.json ?? {}) as Record<string, unknown>;
  let pages = pagesOf(ctx).filter((page) => page.databaseId === database.id);
  try {
    if (input.filter && typeof input.filter === "object") pages = pages.filter((page) => pageMatches(page, source, input.filter as Filter));
  } catch (error) {
    if (error instanceof FilterError) return apiError(400, "validation_error", error.message);
    throw error;
  }
  const sorts = (Array.isArray(input.sorts) ? input.sorts : [{ timestamp: "created_time", direction: "descending" }]) as {
    property?: string;
    timestamp?: string;
    direction?: string;
  }[];
  for (const sort of sorts) {
    if (sort.property !== undefined && !source.properties[sort.property])
      return apiError(400, "validation_error", `Could not find sort property with name or id: ${sort.property}`);
  }
  const sortKey = (page: StoredPage, sort: (typeof sorts)[number]) => {
    if (sort.timestamp) return page.createdTime;
    const property = (page.page.properties as Record<string, Record<string, unknown>>)[sort.property!];
    const value = property?.[String(property.type)];
    return Array.isArray(value)
      ? (value as { plain_text?: string }[]).map((item) => item.plain_text ?? "").join("")
      : JSON.stringify(value ?? "");
  };
  // Stable: ties keep creation order (newest first, as Notion's default).
  pages = pages
    .map((page, index) => ({ page, index }))
    .sort((a, b) => {
      for (const sort of sorts) {
        const left = sortKey(a.page, sort);
        const right = sortKey(b.page, sort);
        if (left !== right) return (left < right ? -1 : 1) * (sort.direction === "ascending" ? 1 : -1);
      }
      return b.index - a.index;
    })
    .map((entry) => entry.page);
  const window = pageWindow(pages, input.start_cursor, input.page_size);
  if ("error" in window) return window.error;
  return json(
    listBody(
      window.slice.map((page) => page.page),
      window.next,
    ),
  );
}

/** GET /v1/blocks/{id}/children: a page's (or block's) first-level blocks, paginated. */
function listBlockChildren(ctx: HandlerContext, id: string) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { workspace } = auth;
  const page = pagesOf(ctx).find((candidate) => sameId(candidate.id, id) && candidate.workspaceId === workspace.id);
  const block = page ? undefined : blocksOf(ctx).find((candidate) => sameId(candidate.id, id));
  const blockPage = block
    ? pagesOf(ctx).find((candidate) => candidate.id === block.pageId && candidate.workspaceId === workspace.id)
    : undefined;
  if (!page && !blockPage) return notShared("block", id);
  const childIds = page ? page.childIds : block!.childIds;
  const children = childIds.map((childId) => blocksOf(ctx).find((candidate) => candidate.id === childId)!);
  const window = pageWindow(
    children,
    ctx.url.searchParams.get("start_cursor") ?? undefined,
    ctx.url.searchParams.get("page_size") ?? undefined,
  );
  if ("error" in window) return window.error;
  return json(blockListBody(window.slice.map(blockResponse), window.next));
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
  if (method === "GET" && path === "/v1/users") return { endpoint: "list", handle: listUsers };
  if (method === "POST" && path === "/v1/pages") return { endpoint: "deliver", handle: createPage };
  if (method === "POST" && path === "/v1/search") return { endpoint: "list", handle: search };
  const query = /^\/v1\/databases\/([^/]+)\/query$/.exec(path);
  if (method === "POST" && query) return { endpoint: "lookup", handle: (ctx) => queryDatabase(ctx, decodeURIComponent(query[1]!)) };
  const database = /^\/v1\/databases\/([^/]+)$/.exec(path);
  if (method === "GET" && database) return { endpoint: "list", handle: (ctx) => retrieveDatabase(ctx, decodeURIComponent(database[1]!)) };
  const children = /^\/v1\/blocks\/([^/]+)\/children$/.exec(path);
  if (method === "GET" && children)
    return { endpoint: "lookup", handle: (ctx) => listBlockChildren(ctx, decodeURIComponent(children[1]!)) };
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
        return redirect(
          appendParams(redirectUriFor(ctx, "notion"), {
            error: fault.code,
            error_description: fault.description,
            state: ctx.param("state") ?? undefined,
          }),
        );
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
