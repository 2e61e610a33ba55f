import * as v from "valibot";
import { optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asRecord,
  asString,
  jsonObject,
  NO_BUDGET_HEADERS,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import { escapeSlack, toSlackMrkdwn } from "./markdown.server";
import type { Choice, ProviderContext, ProviderModule, ReceivedWebhook, StoredTokens, WebhookReading } from "./types";
import { accepted, concatBytes, hmacSha256Matches, isFresh, malformed, readJsonObject, refused, utf8 } from "./webhooks.server";

const ERRORS: ErrorVocabulary = {
  unauthorized: [
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "account_inactive",
    "no_permission",
    "org_login_required",
    "team_added_to_org",
    "ekm_access_denied",
  ],
  tokenExpired: ["token_expired"],
  rateLimited: ["ratelimited", "rate_limited"],
  defaultRetryAfterSeconds: 30,
};

/** Slack's `{ok: false, error, needed}`, or a bare status for 429 and 5xx. */
function readSlackError(response: ProviderResponse) {
  if (response.status === 429) return { code: "ratelimited" };
  if (response.status >= 500) return {};
  const data = jsonObject(response);
  const code = asString(data.error);
  const needed = asString(data.needed);
  return { code, message: needed && code ? `${code} (needed: ${needed})` : undefined };
}

/**
 * A Web API call. Write methods take JSON; read methods (conversations.*) are sent as form
 * fields, which every method accepts. Slack answers errors as HTTP 200 `{ok:false, error}`
 * (429 for rate limits).
 */
async function slackCall(
  context: ProviderContext,
  method: string,
  tokens: StoredTokens,
  body?: Record<string, string | number | boolean | object>,
  encoding: "json" | "form" = "json",
  options: { creates?: boolean } = {},
) {
  const form =
    encoding === "form" && body
      ? new URLSearchParams(
          Object.entries(body).map(([key, value]) => [key, typeof value === "object" ? JSON.stringify(value) : String(value)]),
        )
      : null;
  const response = await providerFetch(context, `${context.endpoints.api}/${method}`, {
    ...options,
    method: "POST",
    headers: {
      Authorization: `Bearer ${tokens.accessToken}`,
      ...(form
        ? { "Content-Type": "application/x-www-form-urlencoded" }
        : body
          ? { "Content-Type": "application/json; charset=utf-8" }
          : {}),
    },
    body: form ?? (body ? JSON.stringify(body) : undefined),
  });
  if (response.status === 429 || response.status >= 500) throw providerError(response, ERRORS, readSlackError, [tokens.accessToken]);
  const data = jsonObject(response);
  if (data.ok !== true) throw providerError(response, ERRORS, readSlackError, [tokens.accessToken]);
  return data;
}

/** Channel names are looked up through this many pages of conversations.list (200 each) at most. */
const CHANNEL_NAME_PAGES = 10;

/**
 * The channel a config names: by ID through conversations.info, by `#name` through
 * conversations.list. null: it does not exist or the app cannot see it; undefined: a name not
 * found within the pages looked through (no verdict).
 */
async function findChannel(context: ProviderContext, tokens: StoredTokens, channel: string) {
  if (!channel.startsWith("#")) {
    try {
      return asRecord((await slackCall(context, "conversations.info", tokens, { channel }, "form")).channel);
    } catch (error) {
      if (error instanceof ProviderError && error.details.code === "channel_not_found") return null;
      throw error;
    }
  }
  const name = channel.slice(1);
  let cursor = "";
  for (let page = 0; page < CHANNEL_NAME_PAGES; page++) {
    const data = await slackCall(
      context,
      "conversations.list",
      tokens,
      { types: "public_channel,private_channel", limit: 200, ...(cursor ? { cursor } : {}) },
      "form",
    );
    const channels = Array.isArray(data.channels) ? data.channels.map(asRecord) : [];
    const match = channels.find((candidate) => candidate.name === name);
    if (match) return match;
    cursor = asString(asRecord(data.response_metadata).next_cursor) ?? "";
    if (!cursor) return null;
  }
  return undefined;
}

export const slack: ProviderModule = {
  id: "slack",
  name: "Slack",
  icon: "/providers/slack.svg",
  summary: "Post messages to a channel as your Slack app, optionally under a custom name.",
  defaultEndpoints: { web: "https://slack.com", api: "https://slack.com/api" },
  env: {
    clientId: "SLACK_CLIENT_ID",
    clientSecret: "SLACK_CLIENT_SECRET",
    webUrl: "SLACK_WEB_URL",
    apiUrl: "SLACK_API_URL",
    webhookSecret: "SLACK_SIGNING_SECRET",
  },
  oauth: {
    protocol: "oauth2",
    authorizeUrl: "{web}/oauth/v2/authorize",
    tokenUrl: "{api}/oauth.v2.access",
    // Posting (chat:*), and reading a channel's history to find a message whose answer was lost.
    scopes: [
      "chat:write",
      "chat:write.public",
      "chat:write.customize",
      "channels:history",
      "groups:history",
      "channels:read",
      "groups:read",
    ],
    scopeSeparator: ",",
    // PKCE would turn the app into a public client with 30-day refresh tokens.
    pkce: false,
    clientAuthentication: "basic",
    tokenResponseOkFlag: true,
  },
  async fetchIdentity(context, tokens) {
    const data = await slackCall(context, "auth.test", tokens);
    const teamId = asString(data.team_id);
    const team = asString(data.team) ?? teamId;
    const user = asString(data.user);
    const userId = asString(data.user_id);
    if (!teamId || !userId) throw new ProviderError("malformed_response", "auth.test answered without team_id and user_id.");
    const botId = asString(data.bot_id);
    return {
      // One Slack connection is one app installation in one team, acting as its bot user.
      accountId: `${teamId}:${userId}`,
      organizationId: teamId,
      label: user ? `${team} · @${user}` : (team ?? teamId),
      url: asString(data.url) ?? null,
      details: { team: team ?? teamId, team_id: teamId, bot_user_id: userId, ...(botId ? { bot_id: botId } : {}) },
    };
  },
  async revoke(context, tokens) {
    await slackCall(context, "auth.revoke", tokens);
  },
  revocationWebhook: {
    read: readSlackEvent,
  },
  rateLimit: {
    read: NO_BUDGET_HEADERS,
    description:
      "Per-method tiers (posting: about one message per second per channel). Slack reports no remaining budget: a 429's Retry-After pauses every delivery through the connection.",
  },
  configSchema: v.object({
    channel: optionalText({
      max: 80,
      pattern: /^(?:[CGD][A-Z0-9]{6,}|#[a-z0-9][a-z0-9._-]{0,79})$/,
      message: "Use a channel ID (C0123ABCD) or #channel-name.",
    }),
    username: optionalText({ max: 80 }),
  }),
  configFields: [
    {
      name: "channel",
      label: "Channel",
      type: "text",
      placeholder: "#alerts or C0123ABCD",
      hint: "Typed by hand: a channel ID (it survives renames) or #name. Public channels work without inviting the app.",
    },
    {
      name: "username",
      whenUnset: "messages are posted under the app's name",
      label: "Posting name",
      type: "text",
      placeholder: "SpokeDo",
      hint: "Shown instead of the app's name (needs chat:write.customize).",
    },
  ],
  overridableFields: ["channel", "username"],
  requiredForDelivery: ["channel"],
  requiredScopes: (config) => [
    { anyOf: ["chat:write"], for: "posting messages" },
    ...(typeof config.username === "string" && config.username
      ? [{ anyOf: ["chat:write.customize"], for: "posting under a custom name" }]
      : []),
  ],
  async checkTargets(context, tokens, { config, scopes }) {
    const { channel } = config as { channel?: string };
    if (!channel) return [];
    const found = await findChannel(context, tokens, channel);
    if (found === undefined) return [];
    if (found === null) return [{ field: "channel", message: `${channel} does not exist, or the app cannot see it.` }];
    const name = `#${asString(found.name) ?? channel}`;
    if (found.is_archived === true) return [{ field: "channel", message: `${name} is archived: nothing can be posted there.` }];
    if (found.is_member !== true && found.is_private === true) {
      return [{ field: "channel", message: `${name} is private and the app is not in it: invite the app to the channel.` }];
    }
    if (found.is_member !== true && !scopes.includes("chat:write.public")) {
      return [
        {
          field: "channel",
          message: `The app is not in ${name} and may not post to public channels it has not joined (chat:write.public): invite it, or re-authorize.`,
        },
      ];
    }
    return [];
  },
  choices: {
    // Public channels, and private ones the app was invited to (the only ones Slack lists to it).
    channel: {
      async list(context, tokens, { limit }) {
        const choices: Choice[] = [];
        let cursor = "";
        do {
          const data = await slackCall(
            context,
            "conversations.list",
            tokens,
            { types: "public_channel,private_channel", exclude_archived: true, limit: 200, ...(cursor ? { cursor } : {}) },
            "form",
          );
          for (const channel of Array.isArray(data.channels) ? data.channels.map(asRecord) : []) {
            const id = asString(channel.id);
            if (!id) continue;
            const note = channel.is_private === true ? "private" : channel.is_member === true ? undefined : "the app is not in it yet";
            choices.push({ value: id, label: `#${asString(channel.name) ?? id}`, note });
          }
          cursor = asString(asRecord(data.response_metadata).next_cursor) ?? "";
        } while (cursor && choices.length < limit);
        choices.sort((a, b) => a.label.localeCompare(b.label));
        return { choices: choices.slice(0, limit), truncated: choices.length > limit || cursor !== "" };
      },
    },
  },
  async deliver(context, tokens, input) {
    const { channel, username } = input.config as { channel: string; username?: string };
    // Slack keeps text under 40,000 characters; longer bodies are cut with a marker.
    // The body is Markdown: Slack gets it as mrkdwn (its own bold, links, lists and code).
    const text = `*${escapeSlack(input.title)}*\n${toSlackMrkdwn(input.body)}`;
    const data = await slackCall(
      context,
      "chat.postMessage",
      tokens,
      {
        channel,
        text: text.length > 39_000 ? `${text.slice(0, 39_000)}…` : text,
        ...(username ? { username } : {}),
        // Kept with the message, so an attempt whose answer was lost can find it again.
        metadata: { event_type: MARKER_EVENT, event_payload: { delivery: input.idempotencyKey } },
      },
      "json",
      { creates: true },
    );
    const ts = asString(data.ts);
    const postedChannel = asString(data.channel) ?? channel;
    if (!ts) throw new ProviderError("malformed_response", "chat.postMessage answered without ts.");
    const url = input.accountUrl ? permalink(input.accountUrl, postedChannel, ts) : null;
    return { id: `${postedChannel}:${ts}`, url };
  },
  async findDelivered(context, tokens, input) {
    const { channel } = input.config as { channel: string };
    const channelId = channel.startsWith("#") ? await channelIdByName(context, tokens, channel.slice(1)) : channel;
    if (!channelId) return null;
    let cursor: string | undefined;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      const data = await slackCall(
        context,
        "conversations.history",
        tokens,
        {
          channel: channelId,
          oldest: ((input.since - 60_000) / 1000).toFixed(6),
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        },
        "form",
      );
      const messages = Array.isArray(data.messages) ? data.messages.map(asRecord) : [];
      const found = messages.find((message) => {
        const metadata = asRecord(message.metadata);
        return metadata.event_type === MARKER_EVENT && asRecord(metadata.event_payload).delivery === input.idempotencyKey;
      });
      const ts = found && asString(found.ts);
      if (ts) return { id: `${channelId}:${ts}`, url: input.accountUrl ? permalink(input.accountUrl, channelId, ts) : null };
      cursor = asString(asRecord(data.response_metadata).next_cursor) || undefined;
      if (!cursor) break;
    }
    return null;
  },
};

/** Slack's advice: a request whose timestamp is further than 5 minutes from now may be a replay. */
const EVENT_TOLERANCE_MS = 5 * 60_000;

/**
 * The Events API: `X-Slack-Signature` is `v0=` hex HMAC-SHA256(signing secret,
 * `v0:{X-Slack-Request-Timestamp}:{raw body}`). `tokens_revoked` names the users (and bot users)
 * whose tokens died; `app_uninstalled` follows once the app is gone from the whole team.
 */
async function readSlackEvent({ headers, body, now }: ReceivedWebhook, secret: string): Promise<WebhookReading> {
  const timestamp = headers.get("X-Slack-Request-Timestamp");
  const signature = headers.get("X-Slack-Signature");
  if (!timestamp || !signature) {
    return refused("missing_signature", "Slack signs every request: X-Slack-Signature and X-Slack-Request-Timestamp are required.");
  }
  const signed = concatBytes(utf8(`v0:${timestamp}:`), body);
  if (!/^\d{1,12}$/.test(timestamp) || !signature.startsWith("v0=") || !(await hmacSha256Matches(secret, signed, signature.slice(3)))) {
    return refused("invalid_signature", "X-Slack-Signature does not match this app's signing secret.");
  }
  const sentAt = Number(timestamp) * 1000;
  if (!isFresh(sentAt, now, EVENT_TOLERANCE_MS)) {
    return refused("stale_request", "X-Slack-Request-Timestamp is more than 5 minutes from now; a replayed request is refused.");
  }
  const payload = readJsonObject(body);
  if (!payload) return malformed("invalid_json", "The body is not a JSON object.");
  if (payload.type === "url_verification") {
    const challenge = asString(payload.challenge);
    if (!challenge) return malformed("invalid_payload", "url_verification without a challenge.");
    return accepted({ kind: "challenge", answer: { challenge } });
  }
  const event = asRecord(payload.event);
  const type = asString(event.type) ?? asString(payload.type) ?? "unknown";
  if (payload.type !== "event_callback" || (type !== "tokens_revoked" && type !== "app_uninstalled")) {
    return accepted({ kind: "ignored", event: type });
  }
  const teamId = asString(payload.team_id);
  if (!teamId) return malformed("invalid_payload", `${type} without team_id.`);
  const eventTime = typeof payload.event_time === "number" ? payload.event_time : NaN;
  // event_time has whole seconds: the revocation happened at most 999 ms after it.
  const occurredAt = Number.isFinite(eventTime) ? eventTime * 1000 + 999 : now;
  // The signature covers the timestamp and the body: the same one twice is the same request again.
  const replay = { key: signature, keepUntil: sentAt + EVENT_TOLERANCE_MS };
  if (type === "app_uninstalled")
    return accepted({ kind: "revoked", event: type, accounts: { organizationId: teamId }, occurredAt, replay });
  const tokens = asRecord(event.tokens);
  const userIds = [tokens.oauth, tokens.bot].flatMap((ids) => (Array.isArray(ids) ? ids.map(asString) : []));
  const accountIds = userIds.filter((id): id is string => id !== undefined).map((userId) => `${teamId}:${userId}`);
  return accepted({ kind: "revoked", event: type, accounts: { accountIds }, occurredAt, replay });
}

const MARKER_EVENT = "spokedo_delivery";
const LOOKUP_PAGES = 3;

// Slack's permalink format; it saves a chat.getPermalink call per message.
function permalink(accountUrl: string, channel: string, ts: string) {
  return `${accountUrl.replace(/\/+$/, "")}/archives/${channel}/p${ts.replace(".", "")}`;
}

/** conversations.history needs a channel id: a "#name" default is resolved through conversations.list. */
async function channelIdByName(context: ProviderContext, tokens: StoredTokens, name: string): Promise<string | null> {
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const data = await slackCall(
      context,
      "conversations.list",
      tokens,
      { types: "public_channel,private_channel", exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) },
      "form",
    );
    const channels = Array.isArray(data.channels) ? data.channels.map(asRecord) : [];
    const match = channels.find((item) => item.name === name);
    if (match) return asString(match.id) ?? null;
    cursor = asString(asRecord(data.response_metadata).next_cursor) || undefined;
    if (!cursor) return null;
  }
  return null;
}
