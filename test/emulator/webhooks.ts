// Provider-pushed revocation, as the providers document it, plus helpers that let a test build
// the same signed requests itself (well signed, mis-signed or replayed).
//
//   Slack   https://docs.slack.dev/reference/events/tokens_revoked
//           https://docs.slack.dev/reference/events/app_uninstalled
//           https://docs.slack.dev/reference/events/url_verification
//           https://docs.slack.dev/authentication/verifying-requests-from-slack
//   GitHub  https://docs.github.com/en/webhooks/webhook-events-and-payloads#github_app_authorization
//           (request schema `webhook-github-app-authorization-revoked` in @octokit/openapi x-webhooks)
//   Linear  https://linear.app/developers/webhooks (OAuthApp revoked; Securing webhooks)
//           (payload type `OAuthAppWebhookPayload` in Linear's schema.graphql)
import { SLACK_APP_ID } from "./fixtures";

const encoder = new TextEncoder();

async function hmacHex(hash: "SHA-256" | "SHA-1", secret: string, message: string) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return [...signature].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** How a built request is spoiled, for the receiver's negative tests. */
export type WebhookVariant =
  /** Signed as the provider signs. */
  | "valid"
  /** Signed with another secret. */
  | "bad_signature"
  /** Correctly signed, but its timestamp is `staleBySeconds` old (a replay). */
  | "stale";

export interface WebhookBuildOptions {
  variant?: WebhookVariant;
  /** Epoch ms the request is "sent" at (default: now). */
  nowMs?: number;
  /** How old a `stale` request is; default 600 s (past Slack's 5 minutes and Linear's 1 minute). */
  staleBySeconds?: number;
}

function sendTime(options: WebhookBuildOptions = {}) {
  const now = options.nowMs ?? Date.now();
  return options.variant === "stale" ? now - (options.staleBySeconds ?? 600) * 1000 : now;
}

const signingSecret = (secret: string, options: WebhookBuildOptions = {}) =>
  options.variant === "bad_signature" ? `${secret}-not-the-secret` : secret;

// ---------- Slack ----------

export interface SlackEventEnvelope {
  token: string;
  team_id: string;
  api_app_id: string;
  event: Record<string, unknown> & { type: string };
  type: "event_callback";
  event_id: string;
  event_time: number;
  authorizations?: { enterprise_id: string | null; team_id: string; user_id: string; is_bot: boolean; is_enterprise_install: boolean }[];
  is_ext_shared_channel?: boolean;
}

export interface SlackUrlVerification {
  token: string;
  challenge: string;
  type: "url_verification";
}

/** The deprecated verification token Slack still puts in payloads; receivers should check signatures instead. */
export const SLACK_VERIFICATION_TOKEN = "emuVerificationToken0001";

function slackEnvelope(teamId: string, event: SlackEventEnvelope["event"], eventTimeSeconds: number): SlackEventEnvelope {
  return {
    token: SLACK_VERIFICATION_TOKEN,
    team_id: teamId,
    api_app_id: SLACK_APP_ID,
    event,
    type: "event_callback",
    event_id: `Ev${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`,
    event_time: eventTimeSeconds,
  };
}

/** `tokens_revoked`: user ids (not token strings) of the revoked user (`oauth`) and bot tokens. */
export function slackTokensRevokedEvent(input: { teamId: string; oauth?: string[]; bot?: string[]; eventTimeSeconds?: number }) {
  const tokens: Record<string, string[]> = {};
  if (input.oauth?.length) tokens.oauth = input.oauth;
  if (input.bot?.length) tokens.bot = input.bot;
  return slackEnvelope(input.teamId, { type: "tokens_revoked", tokens }, input.eventTimeSeconds ?? Math.floor(Date.now() / 1000));
}

/** `app_uninstalled`: sent once the app's last token in the workspace is gone. */
export function slackAppUninstalledEvent(input: { teamId: string; eventTimeSeconds?: number }) {
  return slackEnvelope(input.teamId, { type: "app_uninstalled" }, input.eventTimeSeconds ?? Math.floor(Date.now() / 1000));
}

export function slackUrlVerification(challenge = crypto.randomUUID().replaceAll("-", "")): SlackUrlVerification {
  return { token: SLACK_VERIFICATION_TOKEN, challenge, type: "url_verification" };
}

/** `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`). */
export async function slackSignature(signingSecret: string, timestampSeconds: number | string, rawBody: string) {
  return `v0=${await hmacHex("SHA-256", signingSecret, `v0:${timestampSeconds}:${rawBody}`)}`;
}

/** A POST as Slack's Events API sends it (JSON body, X-Slack-Signature, X-Slack-Request-Timestamp). */
export async function buildSlackEventRequest(
  url: string,
  secret: string,
  payload: SlackEventEnvelope | SlackUrlVerification,
  options: WebhookBuildOptions & { retryNum?: number } = {},
) {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(sendTime(options) / 1000);
  const headers = new Headers({
    "Content-Type": "application/json",
    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "X-Slack-Request-Timestamp": String(timestamp),
    "X-Slack-Signature": await slackSignature(signingSecret(secret, options), timestamp, body),
  });
  if (options.retryNum) {
    headers.set("X-Slack-Retry-Num", String(options.retryNum));
    headers.set("X-Slack-Retry-Reason", "http_timeout");
  }
  return new Request(url, { method: "POST", headers, body });
}

// ---------- GitHub ----------

export interface GitHubSender {
  login: string;
  id: number;
  [key: string]: unknown;
}

/** The `github_app_authorization` event: a user revoked their authorization of the GitHub App. */
export function githubAppAuthorizationRevoked(sender: GitHubSender) {
  return { action: "revoked" as const, sender };
}

/** `sha256=` + hex HMAC-SHA256(secret, raw body). */
export async function githubSignature256(secret: string, rawBody: string) {
  return `sha256=${await hmacHex("SHA-256", secret, rawBody)}`;
}

/**
 * A POST as GitHub delivers a webhook to a GitHub App. GitHub signs no timestamp, so a
 * `stale` request is the same body delivered again under the same X-GitHub-Delivery id.
 */
export async function buildGitHubWebhookRequest(
  url: string,
  secret: string,
  input: { event: string; payload: unknown; deliveryId?: string; hookId?: number; appId?: number },
  options: WebhookBuildOptions = {},
) {
  const body = JSON.stringify(input.payload);
  const key = signingSecret(secret, options);
  return new Request(url, {
    method: "POST",
    body,
    headers: {
      Accept: "*/*",
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/e9dec3e",
      "X-GitHub-Delivery": input.deliveryId ?? crypto.randomUUID(),
      "X-GitHub-Event": input.event,
      "X-GitHub-Hook-ID": String(input.hookId ?? 500_001),
      "X-GitHub-Hook-Installation-Target-ID": String(input.appId ?? 900_001),
      "X-GitHub-Hook-Installation-Target-Type": "integration",
      "X-Hub-Signature": `sha1=${await hmacHex("SHA-1", key, body)}`,
      "X-Hub-Signature-256": await githubSignature256(key, body),
    },
  });
}

// ---------- Linear ----------

/** `OAuthAppWebhookPayload` of Linear's schema: the OAuth app was revoked from a workspace. */
export interface LinearOAuthAppRevoked {
  action: "revoked";
  type: "OAuthApp";
  createdAt: string;
  oauthClientId: string;
  organizationId: string;
  webhookId: string;
  webhookTimestamp: number;
}

export function linearOAuthAppRevoked(input: {
  organizationId: string;
  oauthClientId: string;
  webhookId?: string;
  nowMs?: number;
}): LinearOAuthAppRevoked {
  const now = input.nowMs ?? Date.now();
  return {
    action: "revoked",
    type: "OAuthApp",
    createdAt: new Date(now).toISOString(),
    oauthClientId: input.oauthClientId,
    organizationId: input.organizationId,
    webhookId: input.webhookId ?? crypto.randomUUID(),
    webhookTimestamp: now,
  };
}

/** Hex HMAC-SHA256(secret, raw body): Linear-Signature. */
export async function linearSignature(secret: string, rawBody: string) {
  return hmacHex("SHA-256", secret, rawBody);
}

/** A POST as Linear sends it; `webhookTimestamp` (ms, in the body) is set to the send time. */
export async function buildLinearWebhookRequest(
  url: string,
  secret: string,
  payload: { type: string; webhookTimestamp?: number },
  options: WebhookBuildOptions & { deliveryId?: string } = {},
) {
  const body = JSON.stringify({ ...payload, webhookTimestamp: sendTime(options) });
  return new Request(url, {
    method: "POST",
    body,
    headers: {
      "Accept-Charset": "utf-8",
      "Content-Type": "application/json; charset=utf-8",
      "Linear-Delivery": options.deliveryId ?? crypto.randomUUID(),
      "Linear-Event": payload.type,
      "Linear-Signature": await linearSignature(signingSecret(secret, options), body),
      "User-Agent": "Linear-Webhook",
    },
  });
}

// ---------- delivery ----------

export interface WebhookTarget {
  url: string;
  secret: string;
  /** In-process: how to reach the app (e.g. `exports.default.fetch`); default the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface WebhookDelivery {
  provider: string;
  event: string;
  url: string;
  at: number;
  requestHeaders: Record<string, string>;
  body: string;
  /** The app's answer, or null when it could not be reached (`error` says why). */
  status: number | null;
  responseBody?: string;
  error?: string;
}

export async function deliverWebhook(
  provider: string,
  event: string,
  target: WebhookTarget,
  request: Request,
  at: number,
): Promise<WebhookDelivery> {
  const body = await request.clone().text();
  const delivery: WebhookDelivery = {
    provider,
    event,
    url: request.url,
    at,
    requestHeaders: Object.fromEntries(request.headers),
    body,
    status: null,
  };
  try {
    const response = await (target.fetch ?? fetch)(request);
    delivery.status = response.status;
    delivery.responseBody = await response.text();
  } catch (error) {
    delivery.error = error instanceof Error ? error.message : String(error);
  }
  return delivery;
}
