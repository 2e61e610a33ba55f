import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { readConsentDecision, renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, TRELLO_MEMBERS, registeredRedirectUri, type TrelloBoardFixture, type TrelloListFixture } from "./fixtures";
import {
  appendParams,
  asText,
  formEncoded,
  json,
  malformedJson,
  randomBase62,
  randomHex,
  rawHttpFault,
  redirect,
  slugify,
  text,
} from "./http";
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
    const member = memberById(ctx.body.fields.get("account") ?? "") ?? TRELLO_MEMBERS[0]!;
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
  let returnOrigin: string | null;
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
    const member = memberById(ctx.body.fields.get("account") ?? "") ?? TRELLO_MEMBERS[0]!;
    const token = issueAccessToken(ctx, {
      accountId: member.id,
      scope: options.scope,
      expiration: options.expiration,
      name,
      via: "authorize",
    });
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
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const { member, token, send } = auth.session;
  return send(
    json({
      id: member.id,
      username: member.username,
      fullName: member.fullName,
      initials: member.fullName
        .split(" ")
        .map((part) => part[0])
        .join(""),
      url: `${ctx.options.origin}/trello/${member.username}`,
      avatarUrl: null,
      confirmed: true,
      memberType: "normal",
      idBoards: member.boards.map((board) => board.id),
      ...(token.scopes.includes("account") ? { email: `${member.username}@trello.emu` } : { email: null }),
    }),
  );
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
    if (value !== undefined && value !== null) return Array.isArray(value) ? value.join(",") : asText(value);
  }
  return ctx.param(name);
}

function createCard(ctx: HandlerContext) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const { member, token, send } = auth.session;
  const trelloText = (body: string, status: number) => send(text(body, status));
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
  cardsOf(ctx).push({ card, idList: found.list.id, idBoard: board.id, member: member.id, createdAt: ctx.state.now() });
  ctx.state.created.push({
    provider: "trello",
    kind: "card",
    id,
    url: card.url,
    accountId: member.id,
    payload:
      ctx.body.json ?? Object.fromEntries([...ctx.url.searchParams, ...ctx.body.fields].filter(([k]) => k !== "key" && k !== "token")),
    at: ctx.state.now(),
  });
  return send(json(card));
}

// ---------- boards, lists, cards, search ----------

/**
 * Budgets per token (100/10 s), per key (300/10 s) and for /1/members/ (100/900 s), reported in
 * the x-rate-limit-* headers Trello sends (trello-archive/api-docs#147) on every answer.
 */
function rateLimit(ctx: HandlerContext, token: IssuedToken) {
  const settings = ctx.options.rateLimits;
  const now = ctx.state.now();
  const enforce = settings.enabled;
  const tokenWindow = ctx.limits.takeWindow(`trello:token:${token.accessToken}`, settings.trello.token, now, enforce);
  const keyWindow = tokenWindow.allowed
    ? ctx.limits.takeWindow(`trello:key:${CLIENT.apiKey}`, settings.trello.key, now, enforce)
    : ctx.limits.peekWindow(`trello:key:${CLIENT.apiKey}`, settings.trello.key, now);
  const membersPath = ctx.path.startsWith("/api/1/members/");
  const membersWindow =
    membersPath && tokenWindow.allowed && "allowed" in keyWindow && keyWindow.allowed
      ? ctx.limits.takeWindow(`trello:members:${token.accessToken}`, settings.trello.members, now, enforce)
      : null;
  const headers: Record<string, string> = {
    "x-rate-limit-api-token-interval-ms": String(settings.trello.token.windowMs),
    "x-rate-limit-api-token-max": String(settings.trello.token.limit),
    "x-rate-limit-api-token-remaining": String(tokenWindow.remaining),
    "x-rate-limit-api-key-interval-ms": String(settings.trello.key.windowMs),
    "x-rate-limit-api-key-max": String(settings.trello.key.limit),
    "x-rate-limit-api-key-remaining": String(keyWindow.remaining),
    ...(membersWindow
      ? {
          "x-rate-limit-member-interval-ms": String(settings.trello.members.windowMs),
          "x-rate-limit-member-max": String(settings.trello.members.limit),
          "x-rate-limit-member-remaining": String(membersWindow.remaining),
        }
      : {}),
  };
  let refusal: Response | null = null;
  if (!tokenWindow.allowed) refusal = json({ error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" }, 429);
  else if ("allowed" in keyWindow && !keyWindow.allowed)
    refusal = json({ error: "API_KEY_LIMIT_EXCEEDED", message: "Rate limit exceeded" }, 429);
  else if (membersWindow && !membersWindow.allowed)
    refusal = json({ error: "RATE_LIMIT_EXCEEDED", message: "Exceeded rate limit to /1/member" }, 429);
  return { headers, refusal };
}

interface Session {
  member: TrelloMember;
  token: IssuedToken;
  /** A plain function (no `this`): handlers take it out of the session. */
  send: (response: Response) => Response;
}

/** Key and token, then the budgets; every answer after that carries the rate-limit headers. */
function session(ctx: HandlerContext): { ok: true; session: Session } | { ok: false; response: Response } {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth;
  const { headers, refusal } = rateLimit(ctx, auth.token);
  const send = (response: Response) => {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  };
  if (refusal) return { ok: false, response: send(refusal) };
  return { ok: true, session: { member: auth.member, token: auth.token, send } };
}

const TRELLO_ID = /^[0-9a-f]{24}$/i;

/** `fields`: "all" (default) or a comma list; `id` always comes back. */
function pick(object: Record<string, unknown>, fields: string | null) {
  if (!fields || fields === "all") return object;
  const wanted = fields.split(",").map((field) => field.trim());
  return Object.fromEntries(Object.entries(object).filter(([key]) => key === "id" || wanted.includes(key)));
}

function findBoard(id: string) {
  for (const member of TRELLO_MEMBERS) {
    const board = member.boards.find((candidate) => candidate.id === id || candidate.shortLink === id);
    if (board) return { board, owner: member };
  }
  return undefined;
}

function findList(id: string) {
  for (const member of TRELLO_MEMBERS) {
    for (const board of member.boards) {
      const list = board.lists.find((candidate) => candidate.id === id);
      if (list) return { list, board, owner: member };
    }
  }
  return undefined;
}

function boardObject(ctx: HandlerContext, board: TrelloBoardFixture, owner: TrelloMember) {
  return {
    id: board.id,
    name: board.name,
    desc: "",
    descData: null,
    closed: board.closed ?? false,
    idOrganization: null,
    idEnterprise: null,
    pinned: false,
    url: `${ctx.options.origin}/trello/b/${board.shortLink}/${slugify(board.name)}`,
    shortUrl: `${ctx.options.origin}/trello/b/${board.shortLink}`,
    shortLink: board.shortLink,
    idMemberCreator: owner.id,
    dateLastActivity: "2026-01-02T03:04:05.000Z",
    prefs: { permissionLevel: "private", background: "blue", backgroundColor: "#0079BF" },
    labelNames: { green: "", yellow: "", orange: "", red: "", purple: "", blue: "" },
  };
}

const listObject = (list: TrelloListFixture, board: TrelloBoardFixture, index: number) => ({
  id: list.id,
  name: list.name,
  closed: list.closed ?? false,
  color: null,
  idBoard: board.id,
  pos: 16384 * (index + 1),
  subscribed: false,
  softLimit: null,
  type: null,
  datasource: { filter: false },
});

/** The wording Trello uses for ids: malformed 400 "invalid id", unknown 404, someone else's 401. */
function boardFor(ctx: HandlerContext, s: Session, id: string) {
  if (!TRELLO_ID.test(id) && !/^[A-Za-z0-9]{8}$/.test(id)) return { error: s.send(trelloText("invalid id", 400)) };
  const found = findBoard(id);
  if (!found) return { error: s.send(trelloText("The requested resource was not found.", 404)) };
  if (found.owner.id !== s.member.id) return { error: s.send(trelloText("unauthorized permission requested", 401)) };
  return found;
}

function listFor(ctx: HandlerContext, s: Session, id: string) {
  if (!TRELLO_ID.test(id)) return { error: s.send(trelloText("invalid id", 400)) };
  const found = findList(id);
  if (!found) return { error: s.send(trelloText("The requested resource was not found.", 404)) };
  if (found.owner.id !== s.member.id) return { error: s.send(trelloText("unauthorized permission requested", 401)) };
  return found;
}

const BOARD_FILTERS = ["all", "closed", "members", "open", "organization", "public", "starred"];

/** GET /1/members/me/boards (also /1/members/{id|username}/boards for oneself). */
function memberBoards(ctx: HandlerContext, who: string) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const s = auth.session;
  if (who !== "me" && who !== s.member.id && who !== s.member.username) return s.send(trelloText("unauthorized permission requested", 401));
  const filter = ctx.url.searchParams.get("filter") ?? "all";
  if (!filter.split(",").every((value) => BOARD_FILTERS.includes(value))) return s.send(trelloText("invalid value for filter", 400));
  const filters = filter.split(",");
  const boards = s.member.boards.filter((board) => {
    const closed = board.closed ?? false;
    return filters.some(
      (value) => value === "all" || value === "members" || (value === "open" && !closed) || (value === "closed" && closed),
    );
  });
  const fields = ctx.url.searchParams.get("fields");
  return s.send(json(boards.map((board) => pick(boardObject(ctx, board, s.member), fields))));
}

function getBoard(ctx: HandlerContext, id: string) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const found = boardFor(ctx, auth.session, id);
  if ("error" in found) return found.error;
  return auth.session.send(json(pick(boardObject(ctx, found.board, found.owner), ctx.url.searchParams.get("fields"))));
}

const LIST_FILTERS = ["all", "closed", "none", "open"];

function boardLists(ctx: HandlerContext, id: string) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const found = boardFor(ctx, auth.session, id);
  if ("error" in found) return found.error;
  const filter = ctx.url.searchParams.get("filter") ?? "open";
  if (!LIST_FILTERS.includes(filter)) return auth.session.send(trelloText("invalid value for filter", 400));
  const lists = found.board.lists
    .map((list, index) => ({ list, index }))
    .filter(({ list }) => filter === "all" || (filter === "open" && !list.closed) || (filter === "closed" && list.closed));
  const fields = ctx.url.searchParams.get("fields");
  return auth.session.send(
    json(filter === "none" ? [] : lists.map(({ list, index }) => pick(listObject(list, found.board, index), fields))),
  );
}

function getList(ctx: HandlerContext, id: string) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const found = listFor(ctx, auth.session, id);
  if ("error" in found) return found.error;
  const index = found.board.lists.indexOf(found.list);
  return auth.session.send(json(pick(listObject(found.list, found.board, index), ctx.url.searchParams.get("fields"))));
}

interface StoredCard {
  card: Record<string, unknown>;
  idList: string;
  idBoard: string;
  member: string;
  createdAt: number;
}

const cardsOf = (ctx: HandlerContext) => ctx.state.collection<StoredCard>("trello:cards");

/** GET /1/lists/{id}/cards: the list's open cards; immediately consistent. */
function listCards(ctx: HandlerContext, id: string) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const found = listFor(ctx, auth.session, id);
  if ("error" in found) return found.error;
  const fields = ctx.url.searchParams.get("fields");
  const cards = cardsOf(ctx)
    .filter((entry) => entry.idList === found.list.id && entry.card.closed !== true)
    .sort((a, b) => Number(a.card.pos) - Number(b.card.pos));
  return auth.session.send(json(cards.map((entry) => pick(entry.card, fields))));
}

/**
 * GET /1/search: eventually consistent. A card is found `searchIndexDelayMs.trello` after it
 * was created (emulator clock). Words match name and description (partial=true: prefixes).
 */
function searchCards(ctx: HandlerContext) {
  const auth = session(ctx);
  if (!auth.ok) return auth.response;
  const s = auth.session;
  const params = ctx.url.searchParams;
  const query = params.get("query") ?? "";
  if (query.length < 1 || query.length > 16384) return s.send(trelloText("invalid value for query", 400));
  const modelTypes = (params.get("modelTypes") ?? "all").split(",");
  const wantCards = modelTypes.includes("all") || modelTypes.includes("cards");
  const idBoards = params.get("idBoards") ?? "mine";
  const boardIds = idBoards === "mine" ? s.member.boards.map((board) => board.id) : idBoards.split(",");
  if (idBoards !== "mine" && !boardIds.every((boardId) => TRELLO_ID.test(boardId)))
    return s.send(trelloText("invalid value for idBoards", 400));
  const cardsLimit = Number(params.get("cards_limit") ?? "10");
  const cardsPage = Number(params.get("cards_page") ?? "0");
  if (!Number.isInteger(cardsLimit) || cardsLimit < 1 || cardsLimit > 1000) return s.send(trelloText("invalid value for cards_limit", 400));
  if (!Number.isInteger(cardsPage) || cardsPage < 0 || cardsPage > 100) return s.send(trelloText("invalid value for cards_page", 400));
  const partial = params.get("partial") === "true";
  const terms = [...query.matchAll(/"([^"]+)"|(\S+)/g)].map((match) => (match[1] ?? match[2]!).toLowerCase());
  const indexedBefore = ctx.state.now() - ctx.options.searchIndexDelayMs.trello;
  const words = (text: string) =>
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}:_-]+/u)
      .filter(Boolean);
  const cards = wantCards
    ? cardsOf(ctx).filter((entry) => {
        if (entry.createdAt > indexedBefore || entry.member !== s.member.id || !boardIds.includes(entry.idBoard)) return false;
        const text = `${String(entry.card.name)}\n${String(entry.card.desc)}`.toLowerCase();
        const tokens = words(text);
        return terms.every((term) =>
          term.includes(" ")
            ? text.includes(term)
            : partial
              ? tokens.some((token) => token.startsWith(term))
              : tokens.includes(term) || text.includes(term),
        );
      })
    : [];
  const fields = params.get("card_fields");
  const page = cards.slice(cardsPage * cardsLimit, (cardsPage + 1) * cardsLimit).map((entry) => pick(entry.card, fields));
  return s.send(
    json({
      options: { terms: terms.map((text) => ({ text })), modifiers: [], modelTypes: wantCards ? ["cards"] : [], partial },
      ...(wantCards ? { cards: page } : {}),
    }),
  );
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
  if (method !== "GET") return null;
  const decode = decodeURIComponent;
  const boards = /^\/api\/1\/members\/([^/]+)\/boards$/.exec(path);
  if (boards) return { endpoint: "list", handle: (ctx) => memberBoards(ctx, decode(boards[1]!)) };
  const board = /^\/api\/1\/boards\/([^/]+)$/.exec(path);
  if (board) return { endpoint: "list", handle: (ctx) => getBoard(ctx, decode(board[1]!)) };
  const boardListsPath = /^\/api\/1\/boards\/([^/]+)\/lists$/.exec(path);
  if (boardListsPath) return { endpoint: "list", handle: (ctx) => boardLists(ctx, decode(boardListsPath[1]!)) };
  const list = /^\/api\/1\/lists\/([^/]+)$/.exec(path);
  if (list) return { endpoint: "list", handle: (ctx) => getList(ctx, decode(list[1]!)) };
  const cards = /^\/api\/1\/lists\/([^/]+)\/cards$/.exec(path);
  if (cards) return { endpoint: "lookup", handle: (ctx) => listCards(ctx, decode(cards[1]!)) };
  if (path === "/api/1/search") return { endpoint: "lookup", handle: searchCards };
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

export const trello: ProviderModule = {
  provider: "trello",
  label: "Trello",
  bases: { web: "", api: "/api" },
  route,
  notFound,
  faultResponse,
};
