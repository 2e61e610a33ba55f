import { randomToken } from "../platform/crypto.server";
import { ProviderError } from "../providers/errors";
import { providerFetch, scrubSecrets, type ProviderResponse } from "../providers/http.server";
import type { ProviderContext } from "../providers/types";

/** RFC 5849 percent-encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface OAuth1RequestOptions {
  method: "GET" | "POST" | "DELETE";
  url: string;
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  /** Extra protocol parameters: oauth_callback, oauth_verifier. */
  oauthParams?: Record<string, string>;
  /** Form-encoded body parameters, which are part of the signature. */
  bodyParams?: Record<string, string>;
  now?: number;
  nonce?: string;
  /** oauth_version is optional in RFC 5849; sent by default as most providers' samples do. */
  includeVersion?: boolean;
}

export function signatureBaseString(method: string, url: string, params: [string, string][]) {
  const parsed = new URL(url);
  const all = [...params, ...[...parsed.searchParams.entries()]];
  const normalized = all
    .map(([key, value]) => [percentEncode(key), percentEncode(value)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const baseUrl = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  return [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join("&");
}

/** Builds the `Authorization: OAuth …` header for an HMAC-SHA1 signed request. */
export async function oauth1AuthorizationHeader(options: OAuth1RequestOptions): Promise<string> {
  const protocol: Record<string, string> = {
    oauth_consumer_key: options.consumerKey,
    oauth_nonce: options.nonce ?? randomToken(16),
    oauth_signature_method: "HMAC-SHA1",
    oauth_timestamp: String(Math.floor((options.now ?? Date.now()) / 1000)),
    ...(options.includeVersion === false ? {} : { oauth_version: "1.0" }),
    ...(options.token ? { oauth_token: options.token } : {}),
    ...options.oauthParams,
  };
  const base = signatureBaseString(options.method, options.url, [...Object.entries(protocol), ...Object.entries(options.bodyParams ?? {})]);
  const signingKey = `${percentEncode(options.consumerSecret)}&${percentEncode(options.tokenSecret ?? "")}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(signingKey), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(base)));
  let binary = "";
  for (const byte of signature) binary += String.fromCharCode(byte);
  protocol.oauth_signature = btoa(binary);
  return `OAuth ${Object.entries(protocol)
    .map(([key, value]) => `${percentEncode(key)}="${percentEncode(value)}"`)
    .join(", ")}`;
}

/** A POST signed with the app's consumer key (and the request token, once there is one). */
async function signedPost(
  context: ProviderContext,
  url: string,
  signing: { token?: string; tokenSecret?: string; oauthParams: Record<string, string> },
) {
  const authorization = await oauth1AuthorizationHeader({
    method: "POST",
    url,
    consumerKey: context.credentials.clientId,
    consumerSecret: context.credentials.clientSecret,
    ...signing,
  });
  return providerFetch(context, url, { method: "POST", headers: { Authorization: authorization } });
}

/** `oauth_token=…&oauth_token_secret=…`, or the provider's refusal as a ProviderError. */
function tokenPair(response: ProviderResponse, secrets: string[]) {
  const body = new URLSearchParams(response.text);
  const token = body.get("oauth_token");
  const secret = body.get("oauth_token_secret");
  if (response.ok && token && secret) return { token, secret };
  if (response.ok) throw new ProviderError("malformed_response", "The token response has no oauth_token.", { status: response.status });
  const kind = response.status >= 500 ? "server_error" : response.status === 401 ? "unauthorized" : "client_error";
  throw new ProviderError(kind, scrubSecrets(response.text.trim() || `HTTP ${response.status}`, secrets).slice(0, 300), {
    status: response.status,
  });
}

/** Step 1 of RFC 5849: a temporary request token bound to our callback. */
export async function fetchRequestToken(context: ProviderContext, url: string, callback: string) {
  return tokenPair(await signedPost(context, url, { oauthParams: { oauth_callback: callback } }), [context.credentials.clientSecret]);
}

/** Step 3 of RFC 5849: the verifier the user brought back, exchanged for the access token. */
export async function exchangeVerifier(
  context: ProviderContext,
  url: string,
  request: { token: string; secret: string; verifier: string },
) {
  const response = await signedPost(context, url, {
    token: request.token,
    tokenSecret: request.secret,
    oauthParams: { oauth_verifier: request.verifier },
  });
  return tokenPair(response, [context.credentials.clientSecret, request.secret]);
}
