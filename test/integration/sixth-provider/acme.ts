/**
 * A sixth provider, written the way a new module in app/lib/providers/ would be, from the shared
 * building blocks only. The test that uses it registers it at runtime: nothing else in the app
 * knows it exists.
 */
import * as v from "valibot";
import { optionalText } from "~/lib/providers/config-schema";
import { ProviderError } from "~/lib/providers/errors";
import {
  asString,
  basicAuth,
  jsonObject,
  NO_BUDGET_HEADERS,
  parseJson,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "~/lib/providers/http.server";
import type { ProviderModule, StoredTokens } from "~/lib/providers/types";

const ERRORS: ErrorVocabulary = { unauthorized: ["invalid_token"], defaultRetryAfterSeconds: 5 };

/** RFC 6750: `{error, error_description}`. */
function readAcmeError(response: ProviderResponse) {
  const data = parseJson(response.text) as Record<string, unknown> | undefined;
  return { code: asString(data?.error), message: asString(data?.error_description) };
}

const bearer = (tokens: StoredTokens) => ({ Authorization: `Bearer ${tokens.accessToken}`, Accept: "application/json" });

export const acme: ProviderModule = {
  id: "acme",
  name: "Acme",
  icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23555'/%3E%3C/svg%3E",
  summary: "File items in an Acme project.",
  env: { clientId: "ACME_CLIENT_ID", clientSecret: "ACME_CLIENT_SECRET", webUrl: "ACME_WEB_URL", apiUrl: "ACME_API_URL" },
  defaultEndpoints: { web: "https://acme.example", api: "https://api.acme.example" },
  oauth: {
    protocol: "oauth2",
    authorizeUrl: "{web}/oauth/authorize",
    tokenUrl: "{web}/oauth/token",
    scopes: ["profile", "items:write"],
    scopeSeparator: " ",
    pkce: true,
    clientAuthentication: "basic",
  },
  async fetchIdentity(context, tokens) {
    const response = await providerFetch(context, `${context.endpoints.api}/me`, { headers: bearer(tokens) });
    if (!response.ok) throw providerError(response, ERRORS, readAcmeError, [tokens.accessToken]);
    const me = jsonObject(response);
    const id = asString(me.id);
    if (!id) throw new ProviderError("malformed_response", "GET /me answered without an id.");
    const name = asString(me.name) ?? id;
    return { accountId: id, label: name, url: null, details: { id, ...(asString(me.email) ? { email: asString(me.email)! } : {}) } };
  },
  async revoke(context, tokens) {
    for (const [token, hint] of [
      [tokens.refreshToken, "refresh_token"],
      [tokens.accessToken, "access_token"],
    ] as const) {
      if (!token) continue;
      const response = await providerFetch(context, `${context.endpoints.web}/oauth/revoke`, {
        method: "POST",
        headers: { Authorization: basicAuth(context.credentials), "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, token_type_hint: hint }),
      });
      if (!response.ok) throw providerError(response, ERRORS, readAcmeError, [token, context.credentials.clientSecret]);
    }
  },
  rateLimit: { read: NO_BUDGET_HEADERS, description: "Acme documents no limits; a 429's Retry-After pauses the connection." },
  configSchema: v.object({
    project: optionalText({ max: 40, pattern: /^[a-z0-9-]+$/, message: "Use the project's slug, like ops." }),
  }),
  configFields: [{ name: "project", label: "Default project", type: "text", placeholder: "ops" }],
  overridableFields: ["project"],
  requiredForDelivery: ["project"],
  async deliver(context, tokens, input) {
    const { project } = input.config as { project: string };
    const response = await providerFetch(context, `${context.endpoints.api}/items`, {
      creates: true,
      method: "POST",
      headers: { ...bearer(tokens), "Content-Type": "application/json" },
      body: JSON.stringify({ title: `[${project}] ${input.title}`, body: input.body }),
    });
    if (response.status !== 201) throw providerError(response, ERRORS, readAcmeError, [tokens.accessToken]);
    const item = jsonObject(response);
    const id = asString(item.id);
    if (!id) throw new ProviderError("malformed_response", "The created item has no id.");
    return { id, url: asString(item.url) ?? null };
  },
};
