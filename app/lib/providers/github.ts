import * as v from "valibot";
import { optionalList, optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asRecord,
  asString,
  basicAuth,
  jsonArray,
  jsonObject,
  numberHeader,
  parseJson,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import type { ProviderContext, ProviderModule, ReceivedWebhook, StoredTokens, TargetProblem, WebhookReading } from "./types";
import { accepted, hmacSha256Matches, malformed, readJsonObject, refused } from "./webhooks.server";

const API_HEADERS = {
  Accept: "application/vnd.github+json",
  "X-GitHub-Api-Version": "2022-11-28",
  // GitHub rejects API requests without a User-Agent.
  "User-Agent": "SpokeDo",
};

const ERRORS: ErrorVocabulary = { defaultRetryAfterSeconds: 60 };

/** GitHub REST errors: `{message, documentation_url}`; rate limits are 403 or 429 with headers. */
function readGithubError(response: ProviderResponse) {
  const message = asString((parseJson(response.text) as Record<string, unknown> | undefined)?.message) ?? response.text;
  const retryAfter = response.headers.get("retry-after");
  const exhausted = response.headers.get("x-ratelimit-remaining") === "0";
  const rateLimited = response.status === 403 && (exhausted || retryAfter !== null || /rate limit/i.test(message));
  const reset = Number(response.headers.get("x-ratelimit-reset"));
  const untilReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, Math.ceil(reset - Date.now() / 1000)) : undefined;
  // Retry-After wins; without it, wait until the primary limit resets.
  return { message, rateLimited, retryAfterSeconds: retryAfter === null ? untilReset : undefined };
}

function githubError(response: ProviderResponse, secrets: (string | null)[]) {
  return providerError(response, ERRORS, readGithubError, secrets);
}

async function getUser(context: ProviderContext, tokens: StoredTokens) {
  const response = await providerFetch(context, `${context.endpoints.api}/user`, {
    headers: { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}` },
  });
  if (!response.ok) throw githubError(response, [tokens.accessToken]);
  return jsonObject(response);
}

export const github: ProviderModule = {
  id: "github",
  name: "GitHub",
  icon: "/providers/github.svg",
  summary: "Open issues in a repository, with default labels and assignee.",
  env: {
    clientId: "GITHUB_CLIENT_ID",
    clientSecret: "GITHUB_CLIENT_SECRET",
    webUrl: "GITHUB_WEB_URL",
    apiUrl: "GITHUB_API_URL",
    webhookSecret: "GITHUB_WEBHOOK_SECRET",
  },
  defaultEndpoints: { web: "https://github.com", api: "https://api.github.com" },
  oauth: {
    protocol: "oauth2",
    authorizeUrl: "{web}/login/oauth/authorize",
    tokenUrl: "{web}/login/oauth/access_token",
    // OAuth Apps need `repo` to open issues in private repositories; GitHub Apps ignore scopes.
    scopes: ["repo"],
    scopeSeparator: " ",
    pkce: true,
    clientAuthentication: "basic",
  },
  async fetchIdentity(context, tokens) {
    const user = await getUser(context, tokens);
    const id = asString(user.id);
    const login = asString(user.login);
    if (!id || !login) throw new ProviderError("malformed_response", "GET /user answered without id and login.");
    const name = asString(user.name);
    return {
      accountId: id,
      label: login,
      url: asString(user.html_url) ?? `${context.endpoints.web}/${login}`,
      details: { login, id, ...(name ? { name } : {}) },
    };
  },
  // The user's whole grant of the app, the only way to end a refresh token too, unless SpokeDo
  // still holds other tokens of the account (they share the grant): then the token alone, which
  // GitHub revokes even once expired.
  async revoke(context, tokens, { accountStillHeld }) {
    const whole = !accountStillHeld;
    const response = await providerFetch(
      context,
      `${context.endpoints.api}/applications/${encodeURIComponent(context.credentials.clientId)}/${whole ? "grant" : "token"}`,
      {
        method: "DELETE",
        headers: { ...API_HEADERS, Authorization: basicAuth(context.credentials), "Content-Type": "application/json" },
        body: JSON.stringify({ access_token: tokens.accessToken }),
      },
    );
    if (response.status !== 204) throw githubError(response, [tokens.accessToken, context.credentials.clientSecret]);
  },
  revocationWebhook: {
    read: readGithubWebhook,
  },
  rateLimit: {
    read(headers) {
      // Search has its own budget; deliveries and checks spend the core one.
      const resource = headers.get("x-ratelimit-resource");
      if (resource !== null && resource !== "core") return null;
      const limit = numberHeader(headers, "x-ratelimit-limit");
      const remaining = numberHeader(headers, "x-ratelimit-remaining");
      const reset = numberHeader(headers, "x-ratelimit-reset");
      if (limit === undefined || remaining === undefined || reset === undefined) return null;
      return { unit: "requests per hour", limit, remaining, resetAt: reset * 1000, refill: "at-reset" };
    },
    description:
      "5,000 requests per hour per user, reported in x-ratelimit-* headers; secondary limits answer 403 or 429 with Retry-After.",
  },
  configSchema: v.object({
    repository: optionalText({
      max: 140,
      // GitHub's rules: an owner is 1–39 letters, digits and single inner hyphens; a repository
      // name is letters, digits, ".", "_" and "-" (up to 100), never "." or "..".
      pattern: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/,
      message: "Use owner/name, like octocat/hello-world.",
    }),
    labels: optionalList({ maxItems: 10, maxLength: 50 }),
    assignee: optionalText({
      max: 39,
      pattern: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/,
      message: "Use a GitHub username, like octocat.",
    }),
  }),
  configFields: [
    {
      name: "repository",
      label: "Repository",
      type: "text",
      placeholder: "owner/name",
      hint: "Issues open here unless an intent names another repository.",
    },
    {
      name: "labels",
      whenUnset: "issues are opened without labels",
      label: "Labels",
      type: "list",
      placeholder: "insight, triage (comma-separated)",
      hint: "Labels need push access; GitHub drops them silently otherwise.",
    },
    { name: "assignee", whenUnset: "issues are opened unassigned", label: "Assignee", type: "text", placeholder: "octocat" },
  ],
  overridableFields: ["repository", "labels", "assignee"],
  requiredForDelivery: ["repository"],
  // OAuth App tokens list their scopes; GitHub App tokens list none (their permissions are the app's).
  requiredScopes: () => [{ anyOf: ["repo", "public_repo"], for: "opening issues" }],
  async checkTargets(context, tokens, { config }) {
    const { repository, labels, assignee } = config as { repository?: string; labels?: string[]; assignee?: string };
    if (!repository) return [];
    const headers = { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}` };
    const response = await providerFetch(context, repoUrl(context, repository), { headers });
    if (response.status === 404) {
      return [{ field: "repository", message: `${repository} does not exist, or this account can no longer see it.` }];
    }
    if (!response.ok) throw githubError(response, [tokens.accessToken]);
    const repo = jsonObject(response);
    const problems: TargetProblem[] = [];
    if (repo.archived === true)
      problems.push({ field: "repository", message: `${repository} is archived (read-only): issues cannot be opened.` });
    else if (repo.has_issues === false) problems.push({ field: "repository", message: `${repository} has issues turned off.` });
    // Without push access GitHub drops the labels (and assignees) silently.
    const canPush = asRecord(repo.permissions).push;
    if (labels?.length && canPush === false) {
      problems.push({
        field: "labels",
        message: `This account cannot set labels in ${repository} (it needs push access); GitHub drops them silently.`,
      });
    }
    if (assignee) {
      const check = await providerFetch(context, `${repoUrl(context, repository)}/assignees/${encodeURIComponent(assignee)}`, { headers });
      if (check.status === 404) problems.push({ field: "assignee", message: `${assignee} cannot be assigned issues in ${repository}.` });
      else if (check.status !== 204) throw githubError(check, [tokens.accessToken]);
    }
    return problems;
  },
  choices: {
    // Every repository the account can see with issues on; archived ones cannot take issues.
    repository: {
      async list(context, tokens, { limit }) {
        const { items, truncated } = await githubPages(context, tokens, "/user/repos?sort=full_name&per_page=100", limit);
        const choices = items
          .map(asRecord)
          .filter((repo) => repo.archived !== true && repo.has_issues !== false)
          .map((repo) => {
            const name = asString(repo.full_name) ?? "";
            const canPush = asRecord(repo.permissions).push !== false;
            const note = [repo.private === true ? "private" : "", canPush ? "" : "read-only: labels and assignee are dropped"];
            return { value: name, label: name, note: note.filter(Boolean).join("; ") || undefined };
          });
        return { choices: choices.filter((choice) => choice.value), truncated };
      },
    },
    labels: {
      dependsOn: "repository",
      async list(context, tokens, { parent, limit }) {
        const { items, truncated } = await githubPages(context, tokens, `${repoPath(parent ?? "")}/labels?per_page=100`, limit);
        const choices = items.map(asRecord).map((label) => {
          const name = asString(label.name) ?? "";
          return { value: name, label: name, note: asString(label.description) || undefined };
        });
        return { choices: choices.filter((choice) => choice.value), truncated };
      },
    },
    assignee: {
      dependsOn: "repository",
      async list(context, tokens, { parent, limit }) {
        const { items, truncated } = await githubPages(context, tokens, `${repoPath(parent ?? "")}/assignees?per_page=100`, limit);
        const logins = items.map((user) => asString(asRecord(user).login) ?? "").filter(Boolean);
        return { choices: logins.map((login) => ({ value: login, label: login })), truncated };
      },
    },
  },
  // GitHub has no idempotency key for issues: the body carries a hidden marker instead, and
  // findDelivered looks for it before an unconfirmed attempt is resent.
  async deliver(context, tokens, input) {
    const { repository, labels, assignee } = input.config as { repository: string; labels?: string[]; assignee?: string };
    const response = await providerFetch(context, `${repoUrl(context, repository)}/issues`, {
      creates: true,
      method: "POST",
      headers: { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        title: input.title,
        body: `${input.body}\n\n${marker(input.idempotencyKey)}`,
        ...(labels?.length ? { labels } : {}),
        ...(assignee ? { assignees: [assignee] } : {}),
      }),
    });
    if (response.status !== 201) throw githubError(response, [tokens.accessToken]);
    const issue = jsonObject(response);
    const number = asString(issue.number);
    if (!number) throw new ProviderError("malformed_response", "The created issue has no number.", { status: 201 });
    return { id: `${repository}#${number}`, url: asString(issue.html_url) ?? null };
  },
  // The repository's issue list is consistent at once (search lags behind by seconds).
  async findDelivered(context, tokens, input) {
    const { repository } = input.config as { repository: string };
    const wanted = marker(input.idempotencyKey);
    const since = new Date(input.since - 60_000).toISOString();
    for (let page = 1; page <= LOOKUP_PAGES; page++) {
      const query = new URLSearchParams({ state: "all", since, sort: "created", direction: "desc", per_page: "100", page: String(page) });
      const response = await providerFetch(context, `${repoUrl(context, repository)}/issues?${query}`, {
        headers: { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}` },
      });
      if (!response.ok) throw githubError(response, [tokens.accessToken]);
      const issues = parseJson(response.text);
      if (!Array.isArray(issues))
        throw new ProviderError("malformed_response", "The issue list is not a list.", { status: response.status });
      for (const issue of issues.map(asRecord)) {
        if (issue.pull_request === undefined && asString(issue.body)?.includes(wanted)) {
          return { id: `${repository}#${asString(issue.number)}`, url: asString(issue.html_url) ?? null };
        }
      }
      if (issues.length < 100) break;
    }
    return null;
  },
};

const LOOKUP_PAGES = 5;

/**
 * GitHub signs no timestamp, so a delivery id is accepted once and remembered this long: past
 * GitHub's own redelivery window (3 days), with room to spare.
 */
const DELIVERY_ID_KEPT_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * A GitHub App's webhook: `X-Hub-Signature-256` is `sha256=` hex HMAC-SHA256(webhook secret, raw
 * body). `github_app_authorization` with action `revoked` says the user (`sender`) revoked their
 * authorization of the app; every other event the app receives is acknowledged and ignored.
 */
async function readGithubWebhook({ headers, body, now }: ReceivedWebhook, secret: string): Promise<WebhookReading> {
  const signature = headers.get("X-Hub-Signature-256");
  if (!signature) return refused("missing_signature", "GitHub signs every delivery: X-Hub-Signature-256 is required.");
  if (!signature.startsWith("sha256=") || !(await hmacSha256Matches(secret, body, signature.slice(7)))) {
    return refused("invalid_signature", "X-Hub-Signature-256 does not match this app's webhook secret.");
  }
  const deliveryId = headers.get("X-GitHub-Delivery");
  if (!deliveryId || deliveryId.length > 100) {
    return refused("missing_delivery_id", "X-GitHub-Delivery is required: each delivery is accepted once.");
  }
  const payload = readJsonObject(body);
  if (!payload) return malformed("invalid_json", "The body is not a JSON object.");
  const event = headers.get("X-GitHub-Event") ?? "unknown";
  const action = asString(payload.action);
  if (event !== "github_app_authorization" || action !== "revoked") {
    return accepted({ kind: "ignored", event: action ? `${event}.${action}` : event });
  }
  const senderId = asString(asRecord(payload.sender).id);
  if (!senderId) return malformed("invalid_payload", "github_app_authorization without sender.id.");
  return accepted({
    kind: "revoked",
    event,
    accounts: { accountIds: [senderId] },
    occurredAt: now,
    replay: { key: deliveryId, keepUntil: now + DELIVERY_ID_KEPT_MS },
  });
}

/** Pages a GitHub list by its Link header's rel="next" (never off the API's own host), up to `limit` items. */
async function githubPages(context: ProviderContext, tokens: StoredTokens, path: string, limit: number) {
  const items: unknown[] = [];
  let url: string | null = `${context.endpoints.api}${path}`;
  while (url && items.length < limit) {
    const response = await providerFetch(context, url, { headers: { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}` } });
    if (!response.ok) throw githubError(response, [tokens.accessToken]);
    items.push(...jsonArray(response));
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") ?? "")?.[1] ?? null;
    url = next?.startsWith(`${context.endpoints.api}/`) ? next : null;
  }
  return { items: items.slice(0, limit), truncated: items.length > limit || url !== null };
}

/** Hidden in the rendered issue, kept in its body. */
function marker(key: string) {
  return `<!-- spokedo-delivery: ${key} -->`;
}

/** `/repos/{owner}/{repo}`, each segment encoded (the config schema already refuses `.` and `..`). */
function repoPath(repository: string) {
  const [owner = "", name = ""] = repository.split("/");
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

function repoUrl(context: { endpoints: { api: string } }, repository: string) {
  return `${context.endpoints.api}${repoPath(repository)}`;
}
