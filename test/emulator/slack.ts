import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { APP_NAME, EMULATOR_CLIENTS, SLACK_APP_ID, SLACK_TEAMS } from "./fixtures";
import {
  appendParams,
  asText,
  authorizationToken,
  json,
  malformedJson,
  rawHttpFault,
  randomBase62,
  randomDigits,
  randomHex,
  redirect,
  splitScopes,
  text,
} from "./http";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";
import { buildSlackEventRequest, slackAppUninstalledEvent, slackTokensRevokedEvent } from "./webhooks";
import type {
  ChatPostMessageResponse,
  ConversationsHistoryResponse,
  ConversationsInfoResponse,
  ConversationsListResponse,
} from "@slack/web-api";

type SlackChannelObject = NonNullable<ConversationsListResponse["channels"]>[number];

const CLIENT = EMULATOR_CLIENTS.slack;
const ACCESS_TOKEN_TTL_S = 43200;

type SlackTeam = (typeof SLACK_TEAMS)[number];

const teamById = (id: string) => SLACK_TEAMS.find((team) => team.id === id);

/** Every Slack Web API answer, errors included, is HTTP 200 JSON with `ok`. */
function slackError(error: string, extra: Record<string, unknown> = {}) {
  return json({ ok: false, error, ...extra });
}

// ---------- authorize ----------

function authorize(ctx: HandlerContext): Response {
  const clientId = ctx.param("client_id");
  if (clientId !== CLIENT.clientId) {
    return renderErrorPage("Slack", "Oops! Something went wrong.", "Error details: invalid_client_id");
  }
  const registered = redirectUriFor(ctx, "slack");
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri !== null && redirectUri !== registered) {
    return renderErrorPage(
      "Slack",
      "Oops! Something went wrong.",
      `Error details: bad_redirect_uri. redirect_uri did not match any configured URIs. Passed URI: ${redirectUri}`,
    );
  }
  const scopes = splitScopes(ctx.param("scope"));
  const userScopes = splitScopes(ctx.param("user_scope"));
  if (scopes.length === 0 && userScopes.length === 0) {
    return renderErrorPage("Slack", "Oops! Something went wrong.", "Error details: no_scopes");
  }
  const target = redirectUri ?? registered;
  const state = ctx.param("state") ?? undefined;

  const decision = consentDecision(ctx);
  if (decision.decided && !decision.approve) return redirect(appendParams(target, { error: "access_denied", state }));
  if (decision.decided) {
    const team = teamById(decision.accountId ?? "") ?? SLACK_TEAMS[0];
    // PKCE is opt-in per Slack app and makes it a public client; the emulated app has it off.
    const code = issueCode(
      ctx,
      {
        provider: "slack",
        clientId,
        redirectUri,
        scopes,
        userScopes,
        rawScope: ctx.param("scope") ?? "",
        codeChallenge: null,
        codeChallengeMethod: null,
        accountId: team.id,
      },
      () => `${randomDigits(13)}.${randomDigits(13)}.${randomHex(32)}`,
    );
    return redirect(appendParams(target, { code: code.code, state }));
  }

  const hidden: Record<string, string> = { client_id: clientId };
  for (const name of ["redirect_uri", "scope", "user_scope", "state", "team"]) {
    const value = ctx.param(name);
    if (value !== null) hidden[name] = value;
  }
  return renderConsentPage({
    providerLabel: "Slack",
    action: ctx.url.pathname,
    scopeHeading: "Permissions requested",
    scopes: [...scopes.map((s) => `bot: ${s}`), ...userScopes.map((s) => `user: ${s}`)],
    accounts: SLACK_TEAMS.map((team) => ({ id: team.id, label: team.name, detail: `${team.domain}.slack.com` })),
    selectedAccountId: ctx.param("team") ?? undefined,
    hidden,
  });
}

// ---------- oauth.v2.access ----------

function issue(ctx: HandlerContext, team: SlackTeam, kind: "bot" | "user", scopes: string[], grantId: string) {
  const rotation = ctx.options.slackTokenRotation;
  const prefix = kind === "bot" ? "xoxb" : "xoxp";
  return ctx.state.addToken({
    provider: "slack",
    clientId: CLIENT.clientId,
    accountId: team.id,
    accessToken: rotation
      ? `xoxe.${prefix}-1-${randomBase62(64)}`
      : `${prefix}-${randomDigits(11)}-${randomDigits(13)}-${randomBase62(32)}`,
    refreshToken: rotation ? `xoxe-1-${randomBase62(96)}` : undefined,
    scopes,
    expiresAt: rotation ? ctx.state.now() + ACCESS_TOKEN_TTL_S * 1000 : undefined,
    grantId,
    kind,
    extra: {},
  });
}

function rotationFields(token: IssuedToken) {
  return token.refreshToken ? { expires_in: ACCESS_TOKEN_TTL_S, refresh_token: token.refreshToken } : {};
}

function teamFields(team: SlackTeam) {
  return { team: { id: team.id, name: team.name }, enterprise: null, is_enterprise_install: false };
}

async function access(ctx: HandlerContext): Promise<Response> {
  const credentials = clientCredentials(ctx, { basic: true, body: true });
  if (credentials.id !== CLIENT.clientId) return slackError("invalid_client_id");
  if (credentials.secret !== CLIENT.clientSecret) return slackError("bad_client_secret");
  const grantType = ctx.param("grant_type") ?? "authorization_code";
  if (grantType === "refresh_token") return refresh(ctx);
  if (grantType !== "authorization_code") return slackError("invalid_grant_type");

  const result = await redeemCode(ctx, "slack", {
    code: ctx.param("code"),
    clientId: CLIENT.clientId,
    redirectUri: ctx.param("redirect_uri"),
    codeVerifier: null,
  });
  if (!result.ok) return slackError(result.problem === "redirect_mismatch" ? "bad_redirect_uri" : "invalid_code");
  const { code } = result;
  const team = teamById(code.accountId)!;
  const grantId = newGrantId();
  const authedUser: Record<string, unknown> = { id: team.userId };
  if (code.userScopes.length) {
    const user = issue(ctx, team, "user", code.userScopes, grantId);
    Object.assign(authedUser, {
      scope: code.userScopes.join(","),
      access_token: user.accessToken,
      token_type: "user",
      ...rotationFields(user),
    });
  }
  const bot = code.scopes.length ? issue(ctx, team, "bot", code.scopes, grantId) : null;
  return json({
    ok: true,
    app_id: SLACK_APP_ID,
    authed_user: authedUser,
    ...(bot
      ? {
          scope: bot.scopes.join(","),
          token_type: "bot",
          access_token: bot.accessToken,
          bot_user_id: team.botUserId,
          ...rotationFields(bot),
        }
      : {}),
    ...teamFields(team),
  });
}

function refresh(ctx: HandlerContext) {
  const old =
    ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("slack", ctx.param("refresh_token"), CLIENT.clientId);
  if (!old) {
    return ctx.options.slackRefreshErrorShape === "invalid_grant_400"
      ? json({ error: "invalid_grant" }, 400)
      : slackError("invalid_refresh_token");
  }
  // Refresh tokens are single-use; the old access token lives on until it expires.
  old.refreshUsed = true;
  if (ctx.options.revokeAccessTokenOnRefresh.slack) old.revoked = true;
  const team = teamById(old.accountId)!;
  const kind = old.kind === "user" ? "user" : "bot";
  const token = issue(ctx, team, kind, old.scopes, old.grantId);
  return json({
    ok: true,
    app_id: SLACK_APP_ID,
    authed_user: { id: team.userId },
    scope: token.scopes.join(","),
    token_type: kind,
    access_token: token.accessToken,
    ...(kind === "bot" ? { bot_user_id: team.botUserId } : {}),
    ...rotationFields(token),
    ...teamFields(team),
  });
}

// ---------- Web API ----------

/** Slack takes the token as Bearer, or as a `token` form/query field (never inside a JSON body). */
function authenticate(ctx: HandlerContext): { ok: true; token: IssuedToken; team: SlackTeam } | { ok: false; response: Response } {
  const value =
    authorizationToken(ctx.headers) ??
    (ctx.body.kind === "form" ? (ctx.body.fields.get("token") ?? null) : null) ??
    ctx.url.searchParams.get("token");
  const check = ctx.state.checkAccessToken("slack", value, ctx.fault);
  if (!check.ok) {
    const error = { missing: "not_authed", unknown: "invalid_auth", revoked: "token_revoked", expired: "token_expired" }[check.problem];
    return { ok: false, response: slackError(error) };
  }
  return { ok: true, token: check.token, team: teamById(check.token.accountId)! };
}

function authTest(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { token, team } = auth;
  const limited = rateLimited(ctx, team, "auth.test");
  if (limited) return limited;
  const bot = token.kind === "bot";
  return json({
    ok: true,
    url: `https://${team.domain}.slack.com/`,
    team: team.name,
    user: bot ? APP_NAME.toLowerCase() : team.userName,
    team_id: team.id,
    user_id: bot ? team.botUserId : team.userId,
    ...(bot ? { bot_id: team.botId } : {}),
    is_enterprise_install: false,
  });
}

function authRevoke(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const test = ctx.param("test");
  if (test === "1" || test === "true") return json({ ok: true, revoked: false });
  auth.token.revoked = true;
  return json({ ok: true, revoked: true });
}

/** JSON bodies carry real values; form bodies carry strings (blocks as a JSON string). */
function messageArg(ctx: HandlerContext, name: string): unknown {
  const body = ctx.body.json;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined) return value;
  }
  return ctx.param(name) ?? undefined;
}

function postMessage(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { token, team } = auth;
  const provided = token.scopes.join(",");
  if (!token.scopes.includes("chat:write")) return slackError("missing_scope", { needed: "chat:write", provided });
  if (ctx.body.invalidJson) return slackError("invalid_json");

  const channelArg = asText(messageArg(ctx, "channel") ?? "").trim();
  const name = channelArg.replace(/^#/, "");
  const channel = team.channels.find((c) => c.id === channelArg || (!/^[CGD][0-9A-Z]{8,}$/.test(channelArg) && c.name === name));
  if (!channel || (channel.isPrivate && !channel.isMember)) return slackError("channel_not_found");
  if (channel.isArchived) return slackError("is_archived");
  if (!channel.isMember && !token.scopes.includes("chat:write.public")) return slackError("not_in_channel");

  const customized = ["username", "icon_url", "icon_emoji"].filter((field) => messageArg(ctx, field) !== undefined);
  if (customized.length && token.kind === "bot" && !token.scopes.includes("chat:write.customize")) {
    return slackError("missing_scope", { needed: "chat:write.customize", provided });
  }

  const textArg = messageArg(ctx, "text");
  let messageText = textArg === undefined ? "" : asText(textArg);
  let blocks = messageArg(ctx, "blocks");
  if (typeof blocks === "string") {
    try {
      blocks = JSON.parse(blocks);
    } catch {
      return slackError("invalid_blocks_format");
    }
  }
  if (blocks !== undefined && !Array.isArray(blocks)) return slackError("invalid_blocks_format");
  if (Array.isArray(blocks)) {
    const problems = blockProblems(blocks);
    if (problems.length)
      return slackError("invalid_blocks", {
        errors: problems.map((line) => line.replace(/^\[ERROR\] /, "")),
        response_metadata: { messages: problems },
      });
  }
  const metadata = readMetadata(messageArg(ctx, "metadata"));
  if (!metadata.ok) return slackError(metadata.error);
  const attachments = messageArg(ctx, "attachments");
  if (messageText.trim() === "" && !(Array.isArray(blocks) && blocks.length) && !attachments) return slackError("no_text");
  if (messageText.length > 40000) {
    if (ctx.options.slackLongText === "msg_too_long") return slackError("msg_too_long");
    messageText = messageText.slice(0, 40000);
  }
  const limited = rateLimited(ctx, team, "chat.postMessage", channel.id);
  if (limited) return limited;

  const ts = `${Math.floor(ctx.state.now() / 1000)}.${String(ctx.state.next("slack:ts")).padStart(6, "0")}`;
  const username = messageArg(ctx, "username");
  const threadTs = messageArg(ctx, "thread_ts");
  const message = {
    ...(username !== undefined && token.kind === "bot"
      ? { subtype: "bot_message", username: asText(username) }
      : { user: token.kind === "bot" ? team.botUserId : team.userId }),
    type: "message",
    ts,
    ...(token.kind === "bot" ? { bot_id: team.botId, app_id: SLACK_APP_ID } : {}),
    text: messageText,
    team: team.id,
    ...(token.kind === "bot"
      ? { bot_profile: { id: team.botId, app_id: SLACK_APP_ID, name: APP_NAME, icons: {}, deleted: false, team_id: team.id } }
      : {}),
    ...(Array.isArray(blocks) ? { blocks } : {}),
    ...(threadTs !== undefined ? { thread_ts: asText(threadTs) } : {}),
  };
  seedHistory(ctx);
  messagesOf(ctx).push({
    teamId: team.id,
    channel: channel.id,
    ts,
    message,
    metadata: metadata.metadata,
    appId: token.kind === "bot" ? SLACK_APP_ID : null,
  });
  ctx.state.created.push({
    provider: "slack",
    kind: "message",
    id: `${channel.id}/${ts}`,
    url: `${ctx.options.origin}/slack/archives/${channel.id}/p${ts.replace(".", "")}`,
    accountId: team.id,
    payload: ctx.body.json ?? Object.fromEntries(ctx.body.fields),
    at: ctx.state.now(),
  });
  const answer: ChatPostMessageResponse = {
    ok: true,
    channel: channel.id,
    ts,
    message: { ...message, ...(metadata.metadata ? { metadata: metadata.metadata } : {}) },
  };
  return json(answer);
}

// ---------- scopes, rate limits, channels ----------

type SlackChannelFixture = SlackTeam["channels"][number];

/** Rate-limit tier of each method (docs.slack.dev/reference/methods/*); chat.postMessage is "special". */
const TIERS: Record<string, 1 | 2 | 3 | 4> = {
  "auth.test": 4,
  "conversations.list": 2,
  "conversations.info": 3,
  "conversations.history": 3,
};

/**
 * Counts a call against the per-method, per-workspace, per-app budget. Slack answers an
 * exhausted budget with HTTP 429, Retry-After and `ratelimited`.
 */
function rateLimited(ctx: HandlerContext, team: SlackTeam, method: string, channelId?: string): Response | null {
  const settings = ctx.options.rateLimits;
  const now = ctx.state.now();
  let taken;
  if (method === "chat.postMessage") {
    taken = ctx.limits.takeBucket(`slack:post:${team.id}:${channelId}`, settings.slack.postMessagePerChannel, now, settings.enabled);
  } else if (method === "conversations.history" && ctx.options.slackAppDistribution === "non_marketplace") {
    taken = ctx.limits.takeBucket(`slack:${method}:${team.id}`, { perSecond: 1 / 60, burst: 1 }, now, settings.enabled);
  } else {
    const tier = TIERS[method];
    if (!tier) return null;
    taken = ctx.limits.takeBucket(`slack:${method}:${team.id}`, settings.slack.tiers[tier], now, settings.enabled);
  }
  if (taken.allowed) return null;
  return json({ ok: false, error: "ratelimited" }, 429, { "Retry-After": String(taken.retryAfterSeconds) });
}

/** missing_scope with `needed` and `provided`, as every Web API method answers it. */
function missingScope(token: IssuedToken, needed: string[]) {
  return slackError("missing_scope", { needed: needed.join(","), provided: token.scopes.join(",") });
}

/** A channel the token can see: public ones always, private ones only as a member. */
function visibleChannel(team: SlackTeam, id: string) {
  const channel = team.channels.find((candidate) => candidate.id === id);
  if (!channel || (channel.isPrivate && !channel.isMember)) return undefined;
  return channel;
}

const readScope = (channel: SlackChannelFixture) => (channel.isPrivate ? "groups:read" : "channels:read");
const historyScope = (channel: SlackChannelFixture) => (channel.isPrivate ? "groups:history" : "channels:history");

/** A stable, deterministic creation time per channel. */
const channelCreated = (channel: SlackChannelFixture) => 1_600_000_000 + (parseInt(channel.id.slice(-6), 36) % 10_000_000);

function channelObject(team: SlackTeam, channel: SlackChannelFixture, includeNumMembers = false): SlackChannelObject {
  const created = channelCreated(channel);
  return {
    id: channel.id,
    name: channel.name,
    is_channel: true,
    is_group: false,
    is_im: false,
    is_mpim: false,
    is_private: channel.isPrivate,
    created,
    is_archived: channel.isArchived,
    is_general: channel.name === "general",
    unlinked: 0,
    name_normalized: channel.name,
    is_shared: false,
    is_org_shared: false,
    is_pending_ext_shared: false,
    pending_shared: [],
    context_team_id: team.id,
    updated: created * 1000,
    creator: team.userId,
    is_ext_shared: false,
    shared_team_ids: [team.id],
    pending_connected_team_ids: [],
    is_member: channel.isMember,
    topic: { value: "", creator: "", last_set: 0 },
    purpose: { value: channel.name === "general" ? "Company-wide announcements" : "", creator: "", last_set: 0 },
    previous_names: [],
    ...(includeNumMembers ? { num_members: channel.isMember ? 3 : 2 } : {}),
  };
}

const encodeCursor = (value: string) => btoa(value);
function decodeCursor(cursor: string, prefix: string) {
  try {
    const decoded = atob(cursor);
    return decoded.startsWith(prefix) ? decoded.slice(prefix.length) : null;
  } catch {
    return null;
  }
}

const truthy = (value: unknown) => value === true || value === "true" || value === "1" || value === 1;

/** conversations.list: public channels, and private ones the bot is in; cursor pagination. */
function conversationsList(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { token, team } = auth;
  const types = asText(messageArg(ctx, "types") ?? "public_channel")
    .split(",")
    .map((type) => type.trim())
    .filter(Boolean);
  const known = ["public_channel", "private_channel", "mpim", "im"];
  if (!types.length || types.some((type) => !known.includes(type))) return slackError("invalid_types");
  const scopeFor: Record<string, string> = {
    public_channel: "channels:read",
    private_channel: "groups:read",
    mpim: "mpim:read",
    im: "im:read",
  };
  const needed = types.map((type) => scopeFor[type]!).filter((scope) => !token.scopes.includes(scope));
  if (needed.length) return missingScope(token, needed);
  const limited = rateLimited(ctx, team, "conversations.list");
  if (limited) return limited;
  const limitArg = messageArg(ctx, "limit");
  const limit = limitArg === undefined ? 100 : Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return slackError("invalid_limit");
  const excludeArchived = truthy(messageArg(ctx, "exclude_archived"));
  const channels = team.channels.filter(
    (channel) =>
      (channel.isPrivate ? types.includes("private_channel") && channel.isMember : types.includes("public_channel")) &&
      !(excludeArchived && channel.isArchived),
  );
  const cursorArg = messageArg(ctx, "cursor");
  let start = 0;
  if (cursorArg !== undefined && cursorArg !== "") {
    const after = decodeCursor(asText(cursorArg), "team:");
    const index = after === null ? -1 : channels.findIndex((channel) => channel.id === after);
    if (index === -1) return slackError("invalid_cursor");
    start = index;
  }
  const page = channels.slice(start, start + limit);
  const next = channels[start + limit];
  const body: ConversationsListResponse = {
    ok: true,
    channels: page.map((channel) => channelObject(team, channel)),
    response_metadata: { next_cursor: next ? encodeCursor(`team:${next.id}`) : "" },
  };
  return json(body);
}

/** conversations.info */
function conversationsInfo(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { token, team } = auth;
  const channelId = asText(messageArg(ctx, "channel") ?? "");
  const channel = visibleChannel(team, channelId);
  if (!channel) {
    // Which read scope is missing cannot depend on a channel the token cannot see.
    if (!token.scopes.includes("channels:read") && !token.scopes.includes("groups:read"))
      return missingScope(token, ["channels:read", "groups:read"]);
    return slackError("channel_not_found");
  }
  if (!token.scopes.includes(readScope(channel))) return missingScope(token, [readScope(channel)]);
  const limited = rateLimited(ctx, team, "conversations.info");
  if (limited) return limited;
  const body: ConversationsInfoResponse = {
    ok: true,
    channel: channelObject(team, channel, truthy(messageArg(ctx, "include_num_members"))),
  };
  return json(body);
}

// ---------- messages ----------

interface StoredMessage {
  teamId: string;
  channel: string;
  ts: string;
  message: Record<string, unknown>;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** The app that posted it (only that app sees the metadata without include_all_metadata). */
  appId: string | null;
}

const messagesOf = (ctx: HandlerContext) => ctx.state.collection<StoredMessage>("slack:messages");

/** Older messages in two channels, so history has something before SpokeDo's posts. */
function seedHistory(ctx: HandlerContext) {
  const seeded = ctx.state.collection<boolean>("slack:seeded");
  if (seeded.length) return;
  seeded.push(true);
  const team = SLACK_TEAMS[0];
  for (const [channel, texts] of [
    ["C0GENERAL1", ["Welcome to #general", "Lunch at noon?", "Deploy went fine"]],
    ["C0ALERTS01", ["Disk at 71% on db-1"]],
  ] as const) {
    texts.forEach((text, index) => {
      const ts = `${1_767_225_600 + index * 60}.${String(index + 1).padStart(6, "0")}`;
      messagesOf(ctx).push({
        teamId: team.id,
        channel,
        ts,
        appId: null,
        message: { type: "message", user: team.userId, text, ts, team: team.id },
      });
    });
  }
}

const tsValue = (ts: string) => Number(ts);

/** conversations.history: newest first; the bot must be in the channel. */
function conversationsHistory(ctx: HandlerContext) {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.response;
  const { token, team } = auth;
  const channelId = asText(messageArg(ctx, "channel") ?? "");
  const channel = visibleChannel(team, channelId);
  if (!channel) return slackError("channel_not_found");
  if (!token.scopes.includes(historyScope(channel))) return missingScope(token, [historyScope(channel)]);
  if (token.kind === "bot" && !channel.isMember) return slackError("not_in_channel");
  const limited = rateLimited(ctx, team, "conversations.history");
  if (limited) return limited;
  seedHistory(ctx);
  const restricted = ctx.options.slackAppDistribution === "non_marketplace";
  const maxLimit = restricted ? 15 : 999;
  const limitArg = messageArg(ctx, "limit");
  const limit = Math.min(maxLimit, limitArg === undefined ? (restricted ? 15 : 100) : Math.max(1, Math.floor(Number(limitArg)) || 1));
  const inclusive = truthy(messageArg(ctx, "inclusive"));
  const oldestArg = messageArg(ctx, "oldest");
  const latestArg = messageArg(ctx, "latest");
  if (oldestArg !== undefined && Number.isNaN(Number(oldestArg))) return slackError("invalid_ts_oldest");
  if (latestArg !== undefined && Number.isNaN(Number(latestArg))) return slackError("invalid_ts_latest");
  const oldest = oldestArg === undefined ? 0 : Number(oldestArg);
  let latest = latestArg === undefined ? Number.POSITIVE_INFINITY : Number(latestArg);
  const cursorArg = messageArg(ctx, "cursor");
  if (cursorArg !== undefined && cursorArg !== "") {
    const next = decodeCursor(asText(cursorArg), "next_ts:");
    if (next === null || Number.isNaN(Number(next))) return slackError("invalid_cursor");
    latest = Number(next);
  }
  const inRange = messagesOf(ctx)
    .filter((entry) => entry.teamId === team.id && entry.channel === channel.id)
    .filter((entry) => {
      const value = tsValue(entry.ts);
      const afterOldest = inclusive ? value >= oldest : value > oldest;
      const beforeLatest = latest === Number.POSITIVE_INFINITY || (inclusive && cursorArg === undefined ? value <= latest : value < latest);
      return afterOldest && beforeLatest;
    })
    .sort((a, b) => tsValue(b.ts) - tsValue(a.ts));
  const page = inRange.slice(0, limit);
  const hasMore = inRange.length > limit;
  const includeAll = truthy(messageArg(ctx, "include_all_metadata"));
  const callerApp = token.kind === "bot" ? SLACK_APP_ID : null;
  const body: ConversationsHistoryResponse = {
    ok: true,
    messages: page.map((entry) => ({
      ...entry.message,
      ...(entry.metadata && (includeAll || (callerApp !== null && entry.appId === callerApp)) ? { metadata: entry.metadata } : {}),
    })),
    has_more: hasMore,
    pin_count: 0,
    channel_actions_count: 0,
    ...(hasMore ? { response_metadata: { next_cursor: encodeCursor(`next_ts:${page[page.length - 1]!.ts}`) } } : {}),
  };
  return json(body);
}

// ---------- blocks and metadata ----------

const MAX_BLOCKS = 50;

/**
 * Block Kit's limits as Slack reports them: `invalid_blocks` with one `[ERROR] … [json-pointer:…]`
 * line per problem in response_metadata.messages.
 */
function blockProblems(blocks: unknown[]): string[] {
  const problems: string[] = [];
  const err = (message: string, pointer: string) => problems.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  if (blocks.length > MAX_BLOCKS) err(`no more than ${MAX_BLOCKS} items allowed`, "/blocks");
  const textObject = (value: unknown, pointer: string, max: number, types: string[]) => {
    const text = value as { type?: unknown; text?: unknown } | undefined;
    if (!text || typeof text !== "object" || !types.includes(String(text.type))) {
      err("failed to match all allowed schemas", pointer);
      return;
    }
    if (typeof text.text !== "string" || text.text.length === 0) err("must be more than 0 characters", `${pointer}/text`);
    else if (text.text.length > max) err(`must be less than ${max + 1} characters`, `${pointer}/text`);
  };
  blocks.slice(0, MAX_BLOCKS).forEach((value, index) => {
    const block = value as Record<string, unknown> | null;
    const at = `/blocks/${index}`;
    if (!block || typeof block !== "object") return err("expected object", at);
    if (typeof block.block_id === "string" && block.block_id.length > 255) err("must be less than 256 characters", `${at}/block_id`);
    switch (block.type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) err("must provide either text or fields", at);
        if (block.text !== undefined) textObject(block.text, `${at}/text`, 3000, ["plain_text", "mrkdwn"]);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) err("expected array", `${at}/fields`);
          else {
            if (block.fields.length > 10) err("no more than 10 items allowed", `${at}/fields`);
            block.fields.forEach((field, n) => textObject(field, `${at}/fields/${n}`, 2000, ["plain_text", "mrkdwn"]));
          }
        }
        break;
      case "header":
        textObject(block.text, `${at}/text`, 150, ["plain_text"]);
        break;
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length === 0) err("must provide elements", `${at}/elements`);
        else if (block.elements.length > 10) err("no more than 10 items allowed", `${at}/elements`);
        break;
      case "markdown":
        if (typeof block.text !== "string") err("must provide text", `${at}/text`);
        else if (block.text.length > 12000) err("must be less than 12001 characters", `${at}/text`);
        break;
      case "divider":
      case "rich_text":
      case "image":
      case "actions":
        break;
      default:
        err(`unsupported type: ${String(block.type)}`, `${at}/type`);
    }
  });
  return problems;
}

type Metadata = { event_type: string; event_payload: Record<string, unknown> };

/** `metadata` as JSON (object) or form (JSON string): invalid_metadata_format / invalid_metadata_schema. */
function readMetadata(value: unknown): { ok: true; metadata?: Metadata } | { ok: false; error: string } {
  if (value === undefined) return { ok: true };
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return { ok: false, error: "invalid_metadata_format" };
    }
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { ok: false, error: "invalid_metadata_format" };
  const candidate = parsed as Record<string, unknown>;
  if (typeof candidate.event_type !== "string" || !/^[A-Za-z0-9_]+$/.test(candidate.event_type))
    return { ok: false, error: "invalid_metadata_schema" };
  if (!candidate.event_payload || typeof candidate.event_payload !== "object" || Array.isArray(candidate.event_payload))
    return { ok: false, error: "invalid_metadata_schema" };
  return { ok: true, metadata: { event_type: candidate.event_type, event_payload: candidate.event_payload as Record<string, unknown> } };
}

// ---------- webhooks ----------

/**
 * Revoking every token of a workspace uninstalls the app: `tokens_revoked` (user ids of the
 * revoked user and bot tokens), then `app_uninstalled`.
 */
async function revocationWebhooks(input: Parameters<NonNullable<ProviderModule["revocationWebhooks"]>>[0]) {
  const team = teamById(input.accountId);
  if (!team) return [];
  const eventTime = Math.floor(input.now / 1000);
  const oauth = input.revoked.some((token) => token.kind === "user") ? [team.userId] : [];
  const bot = input.revoked.some((token) => token.kind === "bot") ? [team.botUserId] : [];
  const revokedEvent = slackTokensRevokedEvent({ teamId: team.id, oauth, bot, eventTimeSeconds: eventTime });
  const uninstalled = slackAppUninstalledEvent({ teamId: team.id, eventTimeSeconds: eventTime });
  return [
    {
      event: "tokens_revoked",
      request: await buildSlackEventRequest(input.target.url, input.target.secret, revokedEvent, { nowMs: input.now }),
    },
    {
      event: "app_uninstalled",
      request: await buildSlackEventRequest(input.target.url, input.target.secret, uninstalled, { nowMs: input.now }),
    },
  ];
}

// ---------- routing and faults ----------

const METHODS: Record<string, { endpoint: Endpoint; handle: Route["handle"] }> = {
  "auth.test": { endpoint: "identity", handle: authTest },
  "auth.revoke": { endpoint: "revoke", handle: authRevoke },
  "chat.postMessage": { endpoint: "deliver", handle: postMessage },
  "conversations.list": { endpoint: "list", handle: conversationsList },
  "conversations.info": { endpoint: "list", handle: conversationsInfo },
  "conversations.history": { endpoint: "lookup", handle: conversationsHistory },
};

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/oauth/v2/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (method !== "GET" && method !== "POST") return null;
  if (path === "/api/oauth.v2.access") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: access };
  }
  const known = METHODS[path.replace(/^\/api\//, "")];
  return path.startsWith("/api/") && known ? known : null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/api/")) return json({ ok: false, error: "unknown_method", req_method: request.path.slice(5) }, 404);
  return renderErrorPage("Slack", "There’s been a glitch…", "That page does not exist.", 404);
}

function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(
        endpoint === "deliver" ? '{"ok":true,"channel":"C0GEN' : '{"ok":true,"app_id":"A0EMUAPP01","access_token":"xoxe.xoxb-1-',
      );
    case "oauth_error":
      if (endpoint === "authorize") {
        return redirect(appendParams(redirectUriFor(ctx, "slack"), { error: fault.code, state: ctx.param("state") ?? undefined }));
      }
      return slackError(fault.code);
    case "rate_limited": {
      const retryAfter = String(fault.retryAfterSeconds ?? 30);
      if (endpoint === "authorize") return text("Too many requests\n", 429, { "Retry-After": retryAfter });
      return json({ ok: false, error: "ratelimited" }, 429, { "Retry-After": retryAfter });
    }
  }
}

export const slack: ProviderModule = {
  provider: "slack",
  label: "Slack",
  bases: { web: "", api: "/api" },
  route,
  notFound,
  faultResponse,
  revocationWebhooks,
};
