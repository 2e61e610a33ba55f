import * as v from "valibot";
import { optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asRecord,
  asString,
  jsonObject,
  numberHeader,
  parseJson,
  providerError,
  providerFetch,
  tightest,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import type { Choice, ProviderContext, ProviderModule, ReceivedWebhook, StoredTokens, TargetProblem, WebhookReading } from "./types";
import { accepted, hmacSha256Matches, isFresh, malformed, readJsonObject, refused } from "./webhooks.server";

const ERRORS: ErrorVocabulary = {
  unauthorized: ["AUTHENTICATION_ERROR", "authentication error"],
  rateLimited: ["RATELIMITED", "ratelimited"],
  defaultRetryAfterSeconds: 60,
};

/** The first GraphQL error's `extensions.code` (or `type`) and message; OAuth endpoints use RFC 6749's shape. */
function readLinearError(response: ProviderResponse) {
  const data = asRecord(parseJson(response.text));
  const first = Array.isArray(data.errors) ? asRecord(data.errors[0]) : undefined;
  if (first) {
    const extensions = asRecord(first.extensions);
    return { code: asString(extensions.code) ?? asString(extensions.type), message: asString(first.message) };
  }
  return { code: asString(data.error), message: asString(data.error_description) ?? (response.text.trim() || undefined) };
}

const TEAMS_QUERY =
  "query PickTeams($first: Int, $after: String) { teams(first: $first, after: $after) { nodes { id key name } pageInfo { hasNextPage endCursor } } }";
const STATES_QUERY =
  "query PickStates($id: String!, $first: Int) { team(id: $id) { states(first: $first) { nodes { id name type position } pageInfo { hasNextPage } } } }";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Linear answers GraphQL errors with 200, 400 or 401 alike: classify by
 * `errors[0].extensions.type` / `code`, never by the HTTP status.
 */
async function linearGraphql(
  context: ProviderContext,
  tokens: StoredTokens,
  query: string,
  variables?: Record<string, unknown>,
  options: { creates?: boolean } = {},
) {
  const response = await providerFetch(context, `${context.endpoints.api}/graphql`, {
    ...options,
    method: "POST",
    headers: { Authorization: `Bearer ${tokens.accessToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 429 || response.status >= 500) throw providerError(response, ERRORS, readLinearError, [tokens.accessToken]);
  const data = jsonObject(response);
  const hasErrors = Array.isArray(data.errors) && data.errors.length > 0;
  if (hasErrors || !response.ok) {
    const error = providerError(response, ERRORS, readLinearError, [tokens.accessToken]);
    // A 4xx without a GraphQL error body means the token itself was refused.
    if (!hasErrors && error.kind === "client_error") throw new ProviderError("unauthorized", error.message, error.details);
    throw error;
  }
  return (data.data ?? {}) as Record<string, unknown>;
}

export const linear: ProviderModule = {
  id: "linear",
  name: "Linear",
  icon: "/providers/linear.svg",
  summary: "Create issues in a team, in the workflow state you choose.",
  defaultEndpoints: { web: "https://linear.app", api: "https://api.linear.app" },
  env: {
    clientId: "LINEAR_CLIENT_ID",
    clientSecret: "LINEAR_CLIENT_SECRET",
    webUrl: "LINEAR_WEB_URL",
    apiUrl: "LINEAR_API_URL",
    webhookSecret: "LINEAR_WEBHOOK_SECRET",
  },
  oauth: {
    protocol: "oauth2",
    authorizeUrl: "{web}/oauth/authorize",
    tokenUrl: "{api}/oauth/token",
    scopes: ["read", "issues:create"],
    // Linear documents comma-separated scopes.
    scopeSeparator: ",",
    pkce: true,
    // Linear documents the client secret only as a body field, which Arctic cannot send; with
    // PKCE it documents the secret as optional at the token step and client_id alone on refresh.
    clientAuthentication: "public",
    // Apps created before 2023-12 receive `scope` as an array; the token reader takes both forms.
    authorizeParams: { prompt: "consent" },
  },
  async fetchIdentity(context, tokens) {
    const data = await linearGraphql(context, tokens, "query Identity { viewer { id name email } organization { id name urlKey } }");
    const viewer = (data.viewer ?? {}) as Record<string, unknown>;
    const organization = (data.organization ?? {}) as Record<string, unknown>;
    const viewerId = asString(viewer.id);
    const orgName = asString(organization.name);
    if (!viewerId) throw new ProviderError("malformed_response", "The viewer query answered without an id.");
    const name = asString(viewer.name) ?? asString(viewer.email) ?? viewerId;
    const urlKey = asString(organization.urlKey);
    const organizationId = asString(organization.id);
    return {
      accountId: viewerId,
      ...(organizationId ? { organizationId } : {}),
      label: orgName ? `${orgName} · ${name}` : name,
      url: urlKey ? `${context.endpoints.web}/${urlKey}` : null,
      details: {
        user: name,
        ...(orgName ? { organization: orgName } : {}),
        ...(organizationId ? { organization_id: organizationId } : {}),
      },
    };
  },
  // By the refresh token when held (it outlives an expired access token and ends this
  // authorization whole), else by the access token. Each authorization has its own tokens.
  async revoke(context, tokens) {
    const byRefresh = tokens.refreshToken !== null;
    const response = await providerFetch(context, `${context.endpoints.api}/oauth/revoke`, {
      method: "POST",
      headers: byRefresh ? { "Content-Type": "application/x-www-form-urlencoded" } : { Authorization: `Bearer ${tokens.accessToken}` },
      body: byRefresh ? new URLSearchParams({ refresh_token: tokens.refreshToken! }) : undefined,
    });
    if (!response.ok) throw providerError(response, ERRORS, readLinearError, [tokens.accessToken, tokens.refreshToken]);
  },
  revocationWebhook: {
    read: readLinearWebhook,
  },
  rateLimit: {
    read(headers) {
      // Resets are epoch milliseconds. Both budgets bind; the one with less left decides.
      const budget = (kind: "Requests" | "Complexity", unit: string) => {
        const limit = numberHeader(headers, `X-RateLimit-${kind}-Limit`);
        const remaining = numberHeader(headers, `X-RateLimit-${kind}-Remaining`);
        const resetAt = numberHeader(headers, `X-RateLimit-${kind}-Reset`);
        return limit === undefined || remaining === undefined || resetAt === undefined
          ? null
          : { unit, limit, remaining, resetAt, refill: "continuous" as const };
      };
      return tightest(budget("Requests", "requests per hour"), budget("Complexity", "complexity points per hour"));
    },
    description:
      "1,200 requests and 200,000 complexity points per hour per user, reported in X-RateLimit-Requests-* and X-RateLimit-Complexity-* headers.",
  },
  configSchema: v.object({
    teamId: optionalText({ max: 36, pattern: UUID, message: "Use the team's ID (a UUID), from Linear's team settings or API." }),
    stateId: optionalText({ max: 36, pattern: UUID, message: "Use the workflow state's ID (a UUID)." }),
  }),
  configFields: [
    {
      name: "teamId",
      label: "Team",
      type: "text",
      placeholder: "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
      hint: "Issues are created in this team.",
    },
    {
      name: "stateId",
      whenUnset: "issues land in the team's first Backlog state (or Triage)",
      label: "Workflow state",
      type: "text",
      placeholder: "optional",
      hint: "None chosen: issues land in the team's first Backlog state (or Triage).",
    },
  ],
  overridableFields: ["teamId", "stateId"],
  requiredForDelivery: ["teamId"],
  requiredScopes: () => [{ anyOf: ["issues:create", "write"], for: "creating issues" }],
  async checkTargets(context, tokens, { config }) {
    const { teamId, stateId } = config as { teamId?: string; stateId?: string };
    const problems: TargetProblem[] = [];
    if (teamId) {
      const team = await linearEntity(context, tokens, "query DriftTeam($id: String!) { team(id: $id) { id name archivedAt } }", teamId);
      if (!team) problems.push({ field: "teamId", message: `Team ${teamId} does not exist, or this account cannot see it.` });
      else if (team.archivedAt) problems.push({ field: "teamId", message: `Team ${asString(team.name) ?? teamId} is archived.` });
    }
    if (stateId) {
      const state = await linearEntity(
        context,
        tokens,
        "query DriftState($id: String!) { workflowState(id: $id) { id name archivedAt team { id name } } }",
        stateId,
      );
      const name = asString(state?.name) ?? stateId;
      if (!state) problems.push({ field: "stateId", message: `Workflow state ${stateId} does not exist, or this account cannot see it.` });
      else if (state.archivedAt) problems.push({ field: "stateId", message: `Workflow state ${name} is archived.` });
      else if (teamId && asString(asRecord(state.team).id) !== teamId) {
        problems.push({
          field: "stateId",
          message: `Workflow state ${name} belongs to team ${asString(asRecord(state.team).name) ?? "another team"}, not this one.`,
        });
      }
    }
    return problems;
  },
  choices: {
    // Teams the user can see (archived ones are left out by Linear), by connection pages.
    teamId: {
      async list(context, tokens, { limit }) {
        const choices: Choice[] = [];
        let after: string | null = null;
        let more = true;
        while (more && choices.length < limit) {
          const data = await linearGraphql(context, tokens, TEAMS_QUERY, { first: 100, after });
          const teams = asRecord(data.teams);
          for (const team of Array.isArray(teams.nodes) ? teams.nodes.map(asRecord) : []) {
            const id = asString(team.id);
            if (id) choices.push({ value: id, label: asString(team.name) ?? id, note: asString(team.key) });
          }
          const pageInfo = asRecord(teams.pageInfo);
          more = pageInfo.hasNextPage === true;
          after = asString(pageInfo.endCursor) ?? null;
          if (!after) more = false;
        }
        choices.sort((a, b) => a.label.localeCompare(b.label));
        return { choices: choices.slice(0, limit), truncated: more || choices.length > limit };
      },
    },
    // The team's workflow states, in its own order (Backlog, Todo, In Progress…).
    stateId: {
      dependsOn: "teamId",
      async list(context, tokens, { parent, limit }) {
        const data = await linearGraphql(context, tokens, STATES_QUERY, { id: parent ?? "", first: Math.min(limit, 250) });
        const states = asRecord(asRecord(data.team).states);
        const nodes = (Array.isArray(states.nodes) ? states.nodes.map(asRecord) : []).sort(
          (a, b) => (Number(a.position) || 0) - (Number(b.position) || 0),
        );
        const choices = nodes
          .filter((state) => asString(state.id))
          .map((state) => ({ value: asString(state.id)!, label: asString(state.name) ?? "", note: asString(state.type) }));
        return { choices, truncated: asRecord(states.pageInfo).hasNextPage === true };
      },
    },
  },
  async deliver(context, tokens, input) {
    const { teamId, stateId } = input.config as { teamId: string; stateId?: string };
    let data: Record<string, unknown>;
    try {
      data = await linearGraphql(
        context,
        tokens,
        "mutation CreateIssue($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }",
        // Linear lets the client choose the issue's UUID: a retry after a lost response then
        // cannot create a second issue.
        { input: { id: input.idempotencyKey, teamId, title: input.title, description: input.body, ...(stateId ? { stateId } : {}) } },
        { creates: true },
      );
    } catch (error) {
      if (error instanceof ProviderError && /already exists/i.test(error.message)) {
        const existing = await findIssue(context, tokens, input.idempotencyKey);
        if (existing) return existing;
      }
      throw error;
    }
    const payload = asRecord(data.issueCreate);
    const issue = asRecord(payload.issue);
    const identifier = asString(issue.identifier) ?? asString(issue.id);
    if (payload.success !== true || !identifier) throw new ProviderError("client_error", "issueCreate did not succeed.");
    return { id: identifier, url: asString(issue.url) ?? null };
  },
  findDelivered: (context, tokens, input) => findIssue(context, tokens, input.idempotencyKey),
};

/** The one entity a query asks for by id, or null when Linear says "Entity not found". */
async function linearEntity(context: ProviderContext, tokens: StoredTokens, query: string, id: string) {
  try {
    const data = await linearGraphql(context, tokens, query, { id });
    const entity = Object.values(data)[0];
    return entity ? asRecord(entity) : null;
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "client_error" && /not found/i.test(error.message)) return null;
    throw error;
  }
}

/** The issue created with this client-chosen id, or null when Linear has none. */
async function findIssue(context: ProviderContext, tokens: StoredTokens, id: string) {
  try {
    const data = await linearGraphql(context, tokens, "query FindIssue($id: String!) { issue(id: $id) { id identifier url } }", { id });
    const issue = asRecord(data.issue);
    const identifier = asString(issue.identifier) ?? asString(issue.id);
    return identifier ? { id: identifier, url: asString(issue.url) ?? null } : null;
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "client_error" && /not found/i.test(error.message)) return null;
    throw error;
  }
}

/** Linear's documented tolerance: a delivery whose webhookTimestamp is further than a minute from now is refused. */
const WEBHOOK_TOLERANCE_MS = 60_000;

/**
 * A Linear webhook: `Linear-Signature` is hex HMAC-SHA256(webhook secret, raw body), and the
 * signed body carries `webhookTimestamp` (ms). `OAuthApp` `revoked` says the app was revoked from
 * a whole organization.
 */
async function readLinearWebhook({ headers, body, now }: ReceivedWebhook, secret: string): Promise<WebhookReading> {
  const signature = headers.get("Linear-Signature");
  if (!signature) return refused("missing_signature", "Linear signs every delivery: Linear-Signature is required.");
  if (!(await hmacSha256Matches(secret, body, signature))) {
    return refused("invalid_signature", "Linear-Signature does not match this webhook's signing secret.");
  }
  const payload = readJsonObject(body);
  if (!payload) return malformed("invalid_json", "The body is not a JSON object.");
  const sentAt = typeof payload.webhookTimestamp === "number" ? payload.webhookTimestamp : NaN;
  if (!isFresh(sentAt, now, WEBHOOK_TOLERANCE_MS)) {
    return refused("stale_request", "webhookTimestamp is more than a minute from now; a replayed delivery is refused.");
  }
  const type = asString(payload.type) ?? "unknown";
  const action = asString(payload.action);
  if (type !== "OAuthApp" || action !== "revoked") return accepted({ kind: "ignored", event: action ? `${type} ${action}` : type });
  const organizationId = asString(payload.organizationId);
  if (!organizationId) return malformed("invalid_payload", "OAuthApp revoked without organizationId.");
  const createdAt = Date.parse(asString(payload.createdAt) ?? "");
  return accepted({
    kind: "revoked",
    event: "OAuthApp revoked",
    accounts: { organizationId },
    occurredAt: Number.isFinite(createdAt) ? createdAt : sentAt,
    // The signed body holds the send time to the millisecond: the same signature twice is a replay.
    replay: { key: signature.trim().toLowerCase(), keepUntil: sentAt + WEBHOOK_TOLERANCE_MS },
  });
}
