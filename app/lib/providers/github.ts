import * as v from "valibot";
import { optionalList, optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asString,
  basicAuth,
  jsonObject,
  parseJson,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import type { ProviderContext, ProviderModule, StoredTokens } from "./types";

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
  env: { clientId: "GITHUB_CLIENT_ID", clientSecret: "GITHUB_CLIENT_SECRET", webUrl: "GITHUB_WEB_URL", apiUrl: "GITHUB_API_URL" },
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
  async revoke(context, tokens) {
    const response = await providerFetch(
      context,
      `${context.endpoints.api}/applications/${encodeURIComponent(context.credentials.clientId)}/token`,
      {
        method: "DELETE",
        headers: { ...API_HEADERS, Authorization: basicAuth(context.credentials), "Content-Type": "application/json" },
        body: JSON.stringify({ access_token: tokens.accessToken }),
      },
    );
    if (response.status !== 204) throw githubError(response, [tokens.accessToken, context.credentials.clientSecret]);
  },
  configSchema: v.object({
    repository: optionalText({
      max: 140,
      pattern: /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/,
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
      label: "Default repository",
      type: "text",
      placeholder: "owner/name",
      hint: "Issues open here unless an intent names another repository.",
    },
    {
      name: "labels",
      label: "Default labels",
      type: "list",
      placeholder: "insight, triage",
      hint: "Comma-separated. Labels need push access; GitHub drops them silently otherwise.",
    },
    { name: "assignee", label: "Default assignee", type: "text", placeholder: "octocat" },
  ],
  overridableFields: ["repository", "labels", "assignee"],
  requiredForDelivery: ["repository"],
  // GitHub offers no idempotency key for issues: a retry after a lost response can duplicate.
  async deliver(context, tokens, input) {
    const { repository, labels, assignee } = input.config as { repository: string; labels?: string[]; assignee?: string };
    const response = await providerFetch(context, `${context.endpoints.api}/repos/${repository}/issues`, {
      method: "POST",
      headers: { ...API_HEADERS, Authorization: `Bearer ${tokens.accessToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        title: input.title,
        body: input.body,
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
};
