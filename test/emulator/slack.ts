import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { APP_NAME, EMULATOR_CLIENTS, SLACK_APP_ID, SLACK_TEAMS } from "./fixtures";
import {
  appendParams,
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
  const old = ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("slack", ctx.param("refresh_token"), CLIENT.clientId);
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

  const channelArg = String(messageArg(ctx, "channel") ?? "").trim();
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
  const messageText = typeof textArg === "string" ? textArg : textArg === undefined ? "" : String(textArg);
  let blocks = messageArg(ctx, "blocks");
  if (typeof blocks === "string") {
    try {
      blocks = JSON.parse(blocks);
    } catch {
      return slackError("invalid_blocks_format");
    }
  }
  if (blocks !== undefined && !Array.isArray(blocks)) return slackError("invalid_blocks_format");
  const attachments = messageArg(ctx, "attachments");
  if (messageText.trim() === "" && !(Array.isArray(blocks) && blocks.length) && !attachments) return slackError("no_text");
  if (messageText.length > 40000) return slackError("msg_too_long");

  const ts = `${Math.floor(ctx.state.now() / 1000)}.${String(ctx.state.next("slack:ts")).padStart(6, "0")}`;
  const username = messageArg(ctx, "username");
  const threadTs = messageArg(ctx, "thread_ts");
  const message = {
    ...(username !== undefined && token.kind === "bot"
      ? { subtype: "bot_message", username: String(username) }
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
    ...(threadTs !== undefined ? { thread_ts: String(threadTs) } : {}),
  };
  ctx.state.created.push({
    provider: "slack",
    kind: "message",
    id: `${channel.id}/${ts}`,
    url: `${ctx.options.origin}/slack/archives/${channel.id}/p${ts.replace(".", "")}`,
    accountId: team.id,
    payload: ctx.body.json ?? Object.fromEntries(ctx.body.fields),
    at: ctx.state.now(),
  });
  return json({ ok: true, channel: channel.id, ts, message });
}

// ---------- routing and faults ----------

const METHODS: Record<string, { endpoint: Endpoint; handle: Route["handle"] }> = {
  "auth.test": { endpoint: "identity", handle: authTest },
  "auth.revoke": { endpoint: "revoke", handle: authRevoke },
  "chat.postMessage": { endpoint: "deliver", handle: postMessage },
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
      return malformedJson(endpoint === "deliver" ? '{"ok":true,"channel":"C0GEN' : '{"ok":true,"app_id":"A0EMUAPP01","access_token":"xoxe.xoxb-1-');
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

export const slack: ProviderModule = { provider: "slack", route, notFound, faultResponse };
