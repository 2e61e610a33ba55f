import * as v from "valibot";
import { optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asRecord,
  asString,
  jsonArray,
  jsonObject,
  numberHeader,
  parseJson,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import type { ProviderContext, ProviderModule, StoredTokens, TargetProblem } from "./types";

const TRELLO_ID = /^[0-9a-f]{24}$/i;
const PERMISSION_REFUSED = "unauthorized permission requested";

/** Trello API calls authenticate with the app's key and the member's token in a header. */
function trelloAuthorization(context: ProviderContext, tokens: StoredTokens) {
  return `OAuth oauth_consumer_key="${context.credentials.clientId}", oauth_token="${tokens.accessToken}"`;
}

const ERRORS: ErrorVocabulary = {
  tokenExpired: ["expired token"],
  unauthorized: ["invalid token"],
  // A 401 for a board or list the member cannot see: the token is fine.
  forbidden: [PERMISSION_REFUSED],
  defaultRetryAfterSeconds: 10,
};

/** Trello answers auth failures as 401 text/plain ("invalid token", "expired token"), others as JSON or text. */
function readTrelloError(response: ProviderResponse) {
  const text = response.text.trim();
  if (response.status === 401) {
    const code = /expired/i.test(text) ? "expired token" : text.toLowerCase() === PERMISSION_REFUSED ? PERMISSION_REFUSED : "invalid token";
    return { code, message: text };
  }
  const data = response.headers.get("Content-Type")?.includes("json")
    ? (parseJson(text) as Record<string, unknown> | undefined)
    : undefined;
  const message = data ? [asString(data.error), asString(data.message)].filter(Boolean).join(": ") : "";
  return { message: message || text };
}

function trelloError(response: ProviderResponse, secrets: (string | null)[]) {
  return providerError(response, ERRORS, readTrelloError, secrets);
}

/** A Trello collection (boards, lists) as a JSON array. */
async function trelloList(context: ProviderContext, tokens: StoredTokens, path: string) {
  const response = await providerFetch(context, `${context.endpoints.api}${path}`, {
    headers: { Authorization: trelloAuthorization(context, tokens), Accept: "application/json" },
  });
  if (!response.ok) throw trelloError(response, [tokens.accessToken]);
  return jsonArray(response).map(asRecord);
}

/** Open boards or lists as choices; boards sorted by name, lists kept in their board order. */
function trelloChoices(items: Record<string, unknown>[], limit: number, sort = true) {
  const choices = items
    .filter((item) => item.closed !== true && asString(item.id))
    .map((item) => ({ value: asString(item.id)!, label: asString(item.name) ?? asString(item.id)! }));
  if (sort) choices.sort((a, b) => a.label.localeCompare(b.label));
  return { choices: choices.slice(0, limit), truncated: choices.length > limit };
}

/** A board or list, or null when Trello says it does not exist or the member cannot see it. */
async function trelloObject(context: ProviderContext, tokens: StoredTokens, path: string) {
  const response = await providerFetch(context, `${context.endpoints.api}${path}`, {
    headers: { Authorization: trelloAuthorization(context, tokens), Accept: "application/json" },
  });
  if (response.ok) return jsonObject(response);
  const error = trelloError(response, [tokens.accessToken]);
  if (response.status === 404 || error.details.code === PERMISSION_REFUSED) return null;
  throw error;
}

export const trello: ProviderModule = {
  id: "trello",
  name: "Trello",
  icon: "/providers/trello.svg",
  summary: "Add cards to a list on a board.",
  defaultEndpoints: { web: "https://trello.com", api: "https://api.trello.com" },
  env: { clientId: "TRELLO_API_KEY", clientSecret: "TRELLO_API_SECRET", webUrl: "TRELLO_WEB_URL", apiUrl: "TRELLO_API_URL" },
  // Trello speaks OAuth 1.0a (Arctic has no support): every step is a server redirect, no client JS.
  oauth: {
    protocol: "oauth1",
    requestTokenUrl: "{web}/1/OAuthGetRequestToken",
    authorizeUrl: "{web}/1/OAuthAuthorizeToken",
    accessTokenUrl: "{web}/1/OAuthGetAccessToken",
    authorizeParams: { name: "SpokeDo", scope: "read,write", expiration: "never" },
    scopes: ["read", "write"],
  },
  async fetchIdentity(context, tokens) {
    const response = await providerFetch(context, `${context.endpoints.api}/1/members/me?fields=id,username,fullName,url`, {
      headers: { Authorization: trelloAuthorization(context, tokens), Accept: "application/json" },
    });
    if (!response.ok) throw trelloError(response, [tokens.accessToken]);
    const member = jsonObject(response);
    const id = asString(member.id);
    const username = asString(member.username);
    if (!id || !username) throw new ProviderError("malformed_response", "GET /1/members/me answered without id and username.");
    const fullName = asString(member.fullName);
    return {
      accountId: id,
      label: fullName ? `${fullName} (@${username})` : `@${username}`,
      url: asString(member.url) ?? null,
      details: { username, id, ...(fullName ? { name: fullName } : {}) },
    };
  },
  async revoke(context, tokens) {
    const response = await providerFetch(context, `${context.endpoints.api}/1/tokens/${encodeURIComponent(tokens.accessToken)}`, {
      method: "DELETE",
      headers: { Authorization: trelloAuthorization(context, tokens) },
    });
    if (!response.ok) throw trelloError(response, [tokens.accessToken]);
  },
  rateLimit: {
    read(headers, now) {
      // Trello counts per token in a rolling window and says how long, not when it refills:
      // the end of one window from now is the latest the budget can come back.
      const limit = numberHeader(headers, "x-rate-limit-api-token-max");
      const remaining = numberHeader(headers, "x-rate-limit-api-token-remaining");
      const intervalMs = numberHeader(headers, "x-rate-limit-api-token-interval-ms");
      if (limit === undefined || remaining === undefined || intervalMs === undefined) return null;
      return { unit: `requests per ${intervalMs / 1000} seconds`, limit, remaining, resetAt: now + intervalMs, refill: "at-reset" };
    },
    description: "100 requests per 10 seconds per token (and 300 per API key), reported in x-rate-limit-api-token-* headers.",
  },
  configSchema: v.object({
    boardId: optionalText({ max: 24, pattern: TRELLO_ID, message: "Use the board's ID: 24 hexadecimal characters." }),
    listId: optionalText({ max: 24, pattern: TRELLO_ID, message: "Use the list's ID: 24 hexadecimal characters." }),
  }),
  configFields: [
    { name: "boardId", label: "Board", type: "text", placeholder: "5f1e0c3a9b8d7e6f5a4b3c2d" },
    { name: "listId", label: "List", type: "text", placeholder: "5f1e0c3a9b8d7e6f5a4b3c2e", hint: "Cards are added to this list." },
  ],
  overridableFields: ["boardId", "listId"],
  requiredForDelivery: ["listId"],
  requiredScopes: () => [{ anyOf: ["write"], for: "creating cards" }],
  async checkTargets(context, tokens, { config }) {
    const { boardId, listId } = config as { boardId?: string; listId?: string };
    const problems: TargetProblem[] = [];
    if (boardId) {
      const board = await trelloObject(context, tokens, `/1/boards/${encodeURIComponent(boardId)}?fields=name,closed`);
      if (!board) problems.push({ field: "boardId", message: `Board ${boardId} does not exist, or this account cannot see it.` });
      else if (board.closed === true) problems.push({ field: "boardId", message: `Board ${asString(board.name) ?? boardId} is closed.` });
    }
    if (listId) {
      const list = await trelloObject(context, tokens, `/1/lists/${encodeURIComponent(listId)}?fields=name,closed,idBoard`);
      const name = asString(list?.name) ?? listId;
      if (!list) problems.push({ field: "listId", message: `List ${listId} does not exist, or this account cannot see it.` });
      else if (list.closed === true) problems.push({ field: "listId", message: `List ${name} is archived: cards cannot be added to it.` });
      else if (boardId && asString(list.idBoard) !== boardId)
        problems.push({ field: "listId", message: `List ${name} is not on board ${boardId}.` });
    }
    return problems;
  },
  choices: {
    // The member's open boards (Trello returns them all in one answer).
    boardId: {
      async list(context, tokens, { limit }) {
        return trelloChoices(await trelloList(context, tokens, "/1/members/me/boards?filter=open&fields=name,closed"), limit);
      },
    },
    listId: {
      dependsOn: "boardId",
      async list(context, tokens, { parent, limit }) {
        const lists = await trelloList(
          context,
          tokens,
          `/1/boards/${encodeURIComponent(parent ?? "")}/lists?filter=open&fields=name,closed`,
        );
        return trelloChoices(lists, limit, false);
      },
    },
  },
  async deliver(context, tokens, input) {
    const { listId } = input.config as { listId: string };
    const response = await providerFetch(context, `${context.endpoints.api}/1/cards`, {
      creates: true,
      method: "POST",
      headers: { Authorization: trelloAuthorization(context, tokens), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ idList: listId, name: input.title, desc: `${input.body}\n\n${footer(input.idempotencyKey)}`, pos: "top" }),
    });
    if (!response.ok) throw trelloError(response, [tokens.accessToken]);
    const card = jsonObject(response);
    const id = asString(card.id);
    if (!id) throw new ProviderError("malformed_response", "The created card has no id.");
    return { id, url: asString(card.url) ?? asString(card.shortUrl) ?? null };
  },
  // A list's cards are consistent at once (Trello's search index lags behind).
  async findDelivered(context, tokens, input) {
    const { listId } = input.config as { listId: string };
    const response = await providerFetch(
      context,
      `${context.endpoints.api}/1/lists/${encodeURIComponent(listId)}/cards?fields=id,desc,url,shortUrl`,
      {
        headers: { Authorization: trelloAuthorization(context, tokens), Accept: "application/json" },
      },
    );
    if (!response.ok) throw trelloError(response, [tokens.accessToken]);
    const cards = parseJson(response.text);
    if (!Array.isArray(cards))
      throw new ProviderError("malformed_response", "The list's cards are not a list.", { status: response.status });
    const wanted = footer(input.idempotencyKey);
    const card = cards.map(asRecord).find((item) => asString(item.desc)?.includes(wanted));
    return card ? { id: asString(card.id)!, url: asString(card.url) ?? asString(card.shortUrl) ?? null } : null;
  },
};

/** Trello shows descriptions as Markdown, without hidden comments: a quiet footer carries the delivery's reference. */
function footer(key: string) {
  return `_Sent by SpokeDo · ref ${key}_`;
}
