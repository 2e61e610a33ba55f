import { randomToken } from "./crypto.server";

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

export async function signatureBaseString(method: string, url: string, params: [string, string][]) {
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
  const base = await signatureBaseString(options.method, options.url, [
    ...Object.entries(protocol),
    ...Object.entries(options.bodyParams ?? {}),
  ]);
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
