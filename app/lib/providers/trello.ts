import * as v from "valibot";
import { optionalText } from "../validation";
import { asString, providerFetch, readJsonObject, retryAfterSeconds, scrubSecrets } from "./http.server";
import { ProviderError, type ProviderContext, type ProviderModule, type StoredTokens } from "./types";

const TRELLO_ID = /^[0-9a-f]{24}$/i;

/** Trello API calls authenticate with the app's key and the member's token in a header. */
export function trelloAuthorization(context: ProviderContext, tokens: StoredTokens) {
  return `OAuth oauth_consumer_key="${context.credentials.clientId}", oauth_token="${tokens.accessToken}"`;
}

/** Trello answers auth failures as 401 text/plain ("invalid token", "expired token"). */
export async function trelloError(response: Response, secrets: (string | null)[] = []): Promise<ProviderError> {
  const text = (await response.text()).trim();
  let message = text;
  if (response.headers.get("Content-Type")?.includes("json")) {
    try {
      const data = JSON.parse(text) as Record<string, unknown>;
      message = [asString(data.error), asString(data.message)].filter(Boolean).join(": ") || text;
    } catch {
      // keep the text
    }
  }
  message = scrubSecrets(message || `HTTP ${response.status}`, secrets);
  const status = response.status;
  if (status === 401) {
    return new ProviderError(/expired/i.test(text) ? "token_expired" : "unauthorized", message, { status });
  }
  if (status === 429) return new ProviderError("rate_limited", message, { status, retryAfterSeconds: retryAfterSeconds(response) ?? 10 });
  return new ProviderError(status >= 500 ? "server_error" : "client_error", message, { status });
}

export const trello: ProviderModule = {
  id: "trello",
  name: "Trello",
  icon: "/providers/trello.svg",
  summary: "Add cards to a list on a board.",
  defaultEndpoints: { web: "https://trello.com", api: "https://api.trello.com" },
  // Trello speaks OAuth 1.0a (Arctic has no support): every step is a server redirect, no client JS.
  oauth: {
    protocol: "oauth1",
    requestTokenUrl: (endpoints) => `${endpoints.web}/1/OAuthGetRequestToken`,
    authorizeUrl: (endpoints) => `${endpoints.web}/1/OAuthAuthorizeToken`,
    accessTokenUrl: (endpoints) => `${endpoints.web}/1/OAuthGetAccessToken`,
    scope: "read,write",
    expiration: "never",
  },
  async fetchIdentity(context, tokens) {
    const response = await providerFetch(context, `${context.endpoints.api}/1/members/me?fields=id,username,fullName,url`, {
      headers: { Authorization: trelloAuthorization(context, tokens), Accept: "application/json" },
    });
    if (!response.ok) throw await trelloError(response, [tokens.accessToken]);
    const member = await readJsonObject(response);
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
    if (!response.ok) throw await trelloError(response, [tokens.accessToken]);
    await response.body?.cancel();
  },
  configSchema: v.object({
    boardId: optionalText({ max: 24, pattern: TRELLO_ID, message: "Use the board's ID: 24 hexadecimal characters." }),
    listId: optionalText({ max: 24, pattern: TRELLO_ID, message: "Use the list's ID: 24 hexadecimal characters." }),
  }),
  configFields: [
    { name: "boardId", label: "Board ID", type: "text", placeholder: "5f1e0c3a9b8d7e6f5a4b3c2d" },
    { name: "listId", label: "List ID", type: "text", placeholder: "5f1e0c3a9b8d7e6f5a4b3c2e", hint: "Cards are added to this list." },
  ],
  overridableFields: ["boardId", "listId"],
  requiredForDelivery: ["listId"],
  async deliver(context, tokens, input) {
    const { listId } = input.config as { listId: string };
    const response = await providerFetch(context, `${context.endpoints.api}/1/cards`, {
      method: "POST",
      headers: { Authorization: trelloAuthorization(context, tokens), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ idList: listId, name: input.title, desc: input.body, pos: "top" }),
    });
    if (!response.ok) throw await trelloError(response, [tokens.accessToken]);
    const card = await readJsonObject(response);
    const id = asString(card.id);
    if (!id) throw new ProviderError("malformed_response", "The created card has no id.");
    return { id, url: asString(card.url) ?? asString(card.shortUrl) ?? null };
  },
};
