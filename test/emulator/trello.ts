import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { readConsentDecision, renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, TRELLO_MEMBERS, registeredRedirectUri } from "./fixtures";
import { appendParams, formEncoded, json, malformedJson, randomBase62, randomHex, rawHttpFault, redirect, slugify, text } from "./http";
import { newGrantId } from "./oauth2";
import { collectOAuthParams, parseOAuthHeader, verifyOAuth1Signature, type OAuth1Failure } from "./oauth1";
import type { Endpoint, IssuedToken } from "./state";

const CLIENT = EMULATOR_CLIENTS.trello;
const SCOPES = ["read", "write", "account"];
const EXPIRATIONS: Record<string, number | undefined> = { "1hour": 3600, "1day": 86400, "30days": 30 * 86400, never: undefined };
const REQUEST_TOKEN_TTL_MS = 60 * 60 * 1000;

type TrelloMember = (typeof TRELLO_MEMBERS)[number];

const memberById = (id: string) => TRELLO_MEMBERS.find((member) => member.id === id);

/** Trello's API errors are short plain-text bodies. */
const trelloText = (body: string, status: number) => text(body, status);

function issueAccessToken(
  ctx: HandlerContext,
  input: { accountId: string; scope: string; expiration: string; name: string; via: "oauth1" | "authorize"; secret?: string },
) {
  const seconds = EXPIRATIONS[input.expiration];
  return ctx.state.addToken({
    provider: "trello",
    clientId: CLIENT.apiKey,
    accountId: input.accountId,
    accessToken: `ATTA${randomHex(32)}${randomHex(4).toUpperCase()}`,
    scopes: input.scope.split(",").filter(Boolean),
    expiresAt: seconds === undefined ? undefined : ctx.state.now() + seconds * 1000,
    grantId: newGrantId(),
    kind: "default",
    extra: {
      tokenId: randomHex(12),
      name: input.name,
      expiration: input.expiration,
      via: input.via,
      ...(input.secret ? { secret: input.secret } : {}),
    },
  });
}

function consentAccounts() {
  return TRELLO_MEMBERS.map((member) => ({ id: member.id, label: member.fullName, detail: `@${member.username}` }));
}

function readScopeAndExpiration(ctx: HandlerContext) {
  const scope = ctx.param("scope") ?? "read";
  const expiration = ctx.param("expiration") ?? "30days";
  const badScope = scope.split(",").some((s) => !SCOPES.includes(s));
  if (badScope) return { error: "invalid scope" } as const;
  if (!(expiration in EXPIRATIONS)) return { error: "invalid expiration" } as const;
  return { scope, expiration } as const;
}

// ---------- OAuth 1.0a ----------

const OAUTH1_FAILURES: Record<OAuth1Failure, [number, string]> = {
  missing_params: [400, "missing oauth parameters"],
  unsupported_signature_method: [400, "unsupported signature method"],
  unsupported_version: [400, "unsupported oauth version"],
  invalid_timestamp: [401, "invalid timestamp"],
  nonce_reused: [401, "invalid nonce"],
  invalid_signature: [401, "invalid signature"],
};

async function verify(ctx: HandlerContext, tokenSecret: string) {
  const result = await verifyOAuth1Signature(
    { method: ctx.method, url: ctx.url, headers: ctx.headers, bodyText: ctx.bodyText },
    { consumerSecret: CLIENT.apiSecret, tokenSecret },
    { nowMs: ctx.state.now(), skewSeconds: ctx.options.oauth1TimestampSkewSeconds, usedNonces: ctx.state.usedNonces },
  );
  if (result.ok) return null;
  const [status, message] = OAUTH1_FAILURES[result.failure];
  return trelloText(message, status);
}

async function getRequestToken(ctx: HandlerContext) {
  const { oauth } = collectOAuthParams(ctx);
  if (oauth.get("oauth_consumer_key") !== CLIENT.apiKey) return trelloText("invalid key", 401);
  const refused = await verify(ctx, "");
  if (refused) return refused;
  const callback = oauth.get("oauth_callback") ?? "";
  if (!callback.startsWith(registeredRedirectUri(ctx.options.appOrigin, "trello"))) {
    return trelloText("invalid oauth_callback", 400);
  }
  const token = randomHex(16);
  const secret = randomHex(16);
  ctx.state.oauth1RequestTokens.set(token, {
    token,
    secret,
    consumerKey: CLIENT.apiKey,
    callback,
    verifier: null,
    accountId: null,
    scope: "read",
    expiration: "30days",
    name: "",
    used: false,
    denied: false,
    createdAt: ctx.state.now(),
  });
  return formEncoded({ oauth_token: token, oauth_token_secret: secret, oauth_callback_confirmed: "true" });
}

function liveRequestToken(ctx: HandlerContext, value: string | null | undefined) {
  const pending = value ? ctx.state.oauth1RequestTokens.get(value) : undefined;
  if (!pending || pending.used || pending.createdAt + REQUEST_TOKEN_TTL_MS < ctx.state.now()) return undefined;
  return pending;
}

function authorizeRequestToken(ctx: HandlerContext) {
  const pending = liveRequestToken(ctx, ctx.param("oauth_token"));
  if (!pending) return renderErrorPage("Trello", "Invalid token", "This authorization link is invalid or has expired.");
  const options = readScopeAndExpiration(ctx);
  if ("error" in options) return renderErrorPage("Trello", "Invalid request", options.error ?? "invalid request");
  const name = ctx.param("name") ?? "An application";
  const deny = ctx.fault?.kind === "deny" || (ctx.method === "POST" && !readConsentDecision(ctx.body.fields).approve);
  if (deny) {
    // Trello sends the user back to the callback without an oauth_verifier.
    pending.denied = true;
    return redirect(appendParams(pending.callback, { oauth_token: pending.token }));
  }
  if (ctx.method === "POST") {
    const member = memberById(ctx.body.fields.get("account") ?? "") ?? TRELLO_MEMBERS[0];
    Object.assign(pending, { verifier: randomHex(16), accountId: member.id, scope: options.scope, expiration: options.expiration, name });
    return redirect(appendParams(pending.callback, { oauth_token: pending.token, oauth_verifier: pending.verifier! }));
  }
  return renderConsentPage({
    providerLabel: "Trello",
    action: ctx.url.pathname,
    scopeHeading: `Let ${name} use your account? It will be able to:`,
    scopes: options.scope.split(","),
    notes: [`Access expires: ${options.expiration}`],
    accounts: consentAccounts(),
    hidden: { oauth_token: pending.token, name, scope: options.scope, expiration: options.expiration },
  });
}

async function getAccessToken(ctx: HandlerContext) {
  const { oauth } = collectOAuthParams(ctx);
  if (oauth.get("oauth_consumer_key") !== CLIENT.apiKey) return trelloText("invalid key", 401);
  const pending = liveRequestToken(ctx, oauth.get("oauth_token"));
  if (!pending) return trelloText("invalid token", 401);
  const refused = await verify(ctx, pending.secret);
  if (refused) return refused;
  if (ctx.fault?.kind === "invalid_code" || pending.denied || !pending.verifier || oauth.get("oauth_verifier") !== pending.verifier) {
    return trelloText("invalid verifier", 401);
  }
  pending.used = true;
  const secret = randomHex(16);
  const token = issueAccessToken(ctx, {
    accountId: pending.accountId!,
    scope: pending.scope,
    expiration: pending.expiration,
    name: pending.name,
    via: "oauth1",
    secret,
  });
  return formEncoded({ oauth_token: token.accessToken, oauth_token_secret: secret });
}

// ---------- /1/authorize (token in the URL fragment) ----------

function authorizeFragment(ctx: HandlerContext) {
  if (ctx.param("key") !== CLIENT.apiKey) return renderErrorPage("Trello", "Invalid API key", "invalid key");
  const returnUrl = ctx.param("return_url");
  const allowedOrigin = new URL(ctx.options.appOrigin).origin;
  let returnOrigin: string | null = null;
  try {
    returnOrigin = returnUrl ? new URL(returnUrl).origin : null;
  } catch {
    returnOrigin = null;
  }
  if (!returnUrl || returnOrigin !== allowedOrigin) {
    return renderErrorPage("Trello", "Invalid return_url", "The return URL should match the application's allowed origins.");
  }
  if ((ctx.param("response_type") ?? "token") !== "token") return renderErrorPage("Trello", "Invalid request", "invalid response_type");
  if ((ctx.param("callback_method") ?? "fragment") !== "fragment") {
    return renderErrorPage("Trello", "Not emulated", "Only callback_method=fragment is emulated.");
  }
  const options = readScopeAndExpiration(ctx);
  if ("error" in options) return renderErrorPage("Trello", "Invalid request", options.error ?? "invalid request");
  const name = ctx.param("name") ?? "An application";
  const withoutHash = returnUrl.split("#")[0]!;
  const deny = ctx.fault?.kind === "deny" || (ctx.method === "POST" && !readConsentDecision(ctx.body.fields).approve);
  if (deny) return redirect(withoutHash);
  if (ctx.method === "POST") {
    const member = memberById(ctx.body.fields.get("account") ?? "") ?? TRELLO_MEMBERS[0];
    const token = issueAccessToken(ctx, { accountId: member.id, scope: options.scope, expiration: options.expiration, name, via: "authorize" });
    return redirect(`${withoutHash}#token=${token.accessToken}`);
  }
  const hidden: Record<string, string> = {};
  for (const field of ["key", "name", "scope", "expiration", "response_type", "return_url", "callback_method"]) {
    const value = ctx.param(field);
    if (value !== null) hidden[field] = value;
  }
  return renderConsentPage({
    providerLabel: "Trello",
    action: ctx.url.pathname,
    scopeHeading: `Let ${name} use your account? It will be able to:`,
    scopes: options.scope.split(","),
    notes: [`Access expires: ${options.expiration}`],
    accounts: consentAccounts(),
    hidden,
  });
}

// ---------- REST API ----------

type Authenticated = { ok: true; token: IssuedToken; member: TrelloMember } | { ok: false; response: Response };

/** `?key=&token=`, body fields, or `Authorization: OAuth oauth_consumer_key="…", oauth_token="…"`. */
function credentials(ctx: HandlerContext) {
  const header = parseOAuthHeader(ctx.headers.get("Authorization"));
  return {
    key: ctx.url.searchParams.get("key") ?? ctx.body.fields.get("key") ?? header?.get("oauth_consumer_key") ?? null,
    token: ctx.url.searchParams.get("token") ?? ctx.body.fields.get("token") ?? header?.get("oauth_token") ?? null,
  };
}

function authenticate(ctx: HandlerContext, fallbackToken?: string): Authenticated {
  const given = credentials(ctx);
  if (given.key !== CLIENT.apiKey) return { ok: false, response: trelloText("invalid key", 401) };
  const check = ctx.state.checkAccessToken("trello", given.token ?? fallbackToken, ctx.fault);
  if (!check.ok) return { ok: false, response: trelloText(check.problem === "expired" ? "expired token" : "invalid token", 401) };
  return { ok: true, token: check.token, member: memberById(check.token.accountId)! };
}

function membersMe(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { member, token } = auth;
  return json({
    id: member.id,
    username: member.username,
    fullName: member.fullName,
    initials: member.fullName.split(" ").map((part) => part[0]).join(""),
    url: `${ctx.options.origin}/trello/${member.username}`,
    avatarUrl: null,
    confirmed: true,
    memberType: "normal",
    idBoards: member.boards.map((board) => board.id),
    ...(token.scopes.includes("account") ? { email: `${member.username}@trello.emu` } : { email: null }),
  });
}

function tokenInfo(ctx: HandlerContext, value: string) {
  const auth = authenticate(ctx, value);
  if (!auth.ok) return auth.response;
  const target = ctx.state.checkAccessToken("trello", value, ctx.fault);
  if (!target.ok) return trelloText(target.problem === "expired" ? "expired token" : "invalid token", 401);
  const token = target.token;
  const write = token.scopes.includes("write");
  return json({
    id: token.extra.tokenId,
    identifier: token.extra.name,
    idMember: token.accountId,
    dateCreated: new Date(token.issuedAt).toISOString(),
    dateExpires: token.expiresAt === undefined ? null : new Date(token.expiresAt).toISOString(),
    permissions: [
      { idModel: "*", modelType: "Board", read: true, write },
      { idModel: "*", modelType: "Organization", read: true, write },
      { idModel: token.accountId, modelType: "Member", read: true, write: token.scopes.includes("account") },
    ],
  });
}

function deleteToken(ctx: HandlerContext, value: string) {
  const auth = authenticate(ctx, value);
  if (!auth.ok) return auth.response;
  const target = ctx.state.tokens.find((t) => t.provider === "trello" && t.accessToken === value && !t.revoked);
  if (!target || target.accountId !== auth.member.id) return trelloText("invalid token", 401);
  target.revoked = true;
  return json({ _value: null });
}

function cardParam(ctx: HandlerContext, name: string): string | null {
  const body = ctx.body.json;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined && value !== null) return Array.isArray(value) ? value.join(",") : String(value);
  }
  return ctx.param(name);
}

function createCard(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { member, token } = auth;
  if (!token.scopes.includes("write")) return trelloText("unauthorized permission requested", 401);
  const idList = cardParam(ctx, "idList");
  const everyList = TRELLO_MEMBERS.flatMap((m) => m.boards.flatMap((board) => board.lists.map((list) => ({ list, board, owner: m }))));
  const found = idList ? everyList.find((entry) => entry.list.id === idList) : undefined;
  if (!found) return trelloText("invalid value for idList", 400);
  if (found.owner.id !== member.id) return trelloText("unauthorized permission requested", 401);
  const name = cardParam(ctx, "name") ?? "";
  const desc = cardParam(ctx, "desc") ?? "";
  if (name.length > 16384) return trelloText("invalid value for name", 400);
  if (desc.length > 16384) return trelloText("invalid value for desc", 400);
  const pos = cardParam(ctx, "pos");
  if (pos !== null && pos !== "top" && pos !== "bottom" && !(Number(pos) >= 0)) return trelloText("invalid value for pos", 400);

  const { board } = found;
  const idShort = ctx.state.next(`trello:cards:${board.id}`);
  const shortLink = randomBase62(8);
  const id = randomHex(12);
  const now = new Date(ctx.state.now()).toISOString();
  const card = {
    id,
    badges: { attachments: 0, comments: 0, description: desc !== "", due: null, dueComplete: false, votes: 0 },
    closed: false,
    dateLastActivity: now,
    desc,
    due: cardParam(ctx, "due"),
    dueComplete: cardParam(ctx, "dueComplete") === "true",
    idBoard: board.id,
    idLabels: (cardParam(ctx, "idLabels") ?? "").split(",").filter(Boolean),
    idList: found.list.id,
    idMembers: (cardParam(ctx, "idMembers") ?? "").split(",").filter(Boolean),
    idShort,
    labels: [],
    name,
    pos: pos === "top" ? 0 : typeof pos === "string" && pos !== "bottom" ? Number(pos) : 16384 * idShort,
    shortLink,
    shortUrl: `${ctx.options.origin}/trello/c/${shortLink}`,
    url: `${ctx.options.origin}/trello/c/${shortLink}/${idShort}-${slugify(name)}`,
  };
  ctx.state.created.push({
    provider: "trello",
    kind: "card",
    id,
    url: card.url,
    accountId: member.id,
    payload: ctx.body.json ?? Object.fromEntries([...ctx.url.searchParams, ...ctx.body.fields].filter(([k]) => k !== "key" && k !== "token")),
    at: ctx.state.now(),
  });
  return json(card);
}

// ---------- routing and faults ----------

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/1/OAuthGetRequestToken" && (method === "POST" || method === "GET")) {
    return { endpoint: "authorize", handle: getRequestToken };
  }
  if (path === "/1/OAuthAuthorizeToken" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorizeRequestToken };
  }
  if (path === "/1/OAuthGetAccessToken" && (method === "POST" || method === "GET")) {
    return { endpoint: "token", handle: getAccessToken };
  }
  if (path === "/1/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorizeFragment };
  }
  if (path === "/api/1/members/me" && method === "GET") return { endpoint: "identity", handle: membersMe };
  const tokenPath = /^\/api\/1\/tokens\/([^/]+)$/.exec(path);
  if (tokenPath && method === "GET") return { endpoint: "identity", handle: (ctx) => tokenInfo(ctx, decodeURIComponent(tokenPath[1]!)) };
  if (tokenPath && method === "DELETE") return { endpoint: "revoke", handle: (ctx) => deleteToken(ctx, decodeURIComponent(tokenPath[1]!)) };
  if (path === "/api/1/cards" && method === "POST") return { endpoint: "deliver", handle: createCard };
  return null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/api/")) return trelloText(`Cannot ${request.method} ${request.path.slice(4)}`, 404);
  return renderErrorPage("Trello", "Page not found", "This page does not exist.", 404);
}

function faultResponse(fault: ReplacingFault, _ctx: HandlerContext, endpoint: Endpoint): Response {
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(endpoint === "deliver" ? '{"id":"5e1d' : '{"id":"5e1a00000000000000000001","username":"emu');
    case "oauth_error":
      return trelloText(fault.description ? `${fault.code}: ${fault.description}` : fault.code, 400);
    case "rate_limited":
      // Trello documents no Retry-After header; it is only sent when the test asks for one.
      return json(
        { error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" },
        429,
        fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {},
      );
  }
}

export const trello: ProviderModule = { provider: "trello", label: "Trello", bases: { web: "", api: "/api" }, route, notFound, faultResponse };
