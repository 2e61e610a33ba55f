// OAuth 1.0a (RFC 5849) signature checking, written independently of the app's
// signer so that a mistake in one is caught by the other.

/** RFC 3986 unreserved characters stay; everything else is %XX (uppercase). */
export function percentEncode(value: string) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function percentDecode(value: string) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `OAuth realm="x", oauth_consumer_key="…", …` → its parameters (decoded), or null if not an OAuth header. */
export function parseOAuthHeader(header: string | null): Map<string, string> | null {
  if (!header) return null;
  const match = /^OAuth\s+(.*)$/is.exec(header.trim());
  if (!match) return null;
  const params = new Map<string, string>();
  const pattern = /([^\s=,]+)\s*=\s*(?:"([^"]*)"|([^\s,]*))/g;
  for (const part of match[1]!.matchAll(pattern)) {
    params.set(percentDecode(part[1]!), percentDecode(part[2] ?? part[3] ?? ""));
  }
  return params;
}

/** RFC 5849 §3.4.1.2: scheme and host lowercased, default port dropped, no query or fragment. */
export function baseStringUri(url: URL) {
  const scheme = url.protocol.replace(":", "").toLowerCase();
  const defaultPort = (scheme === "http" && url.port === "80") || (scheme === "https" && url.port === "443");
  const port = url.port && !defaultPort ? `:${url.port}` : "";
  return `${scheme}://${url.hostname.toLowerCase()}${port}${url.pathname}`;
}

/** RFC 5849 §3.4.1: METHOD & enc(base URI) & enc(sorted, encoded parameters). */
export function signatureBaseString(method: string, url: URL, params: [string, string][]) {
  const normalized = params
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  return [method.toUpperCase(), percentEncode(baseStringUri(url)), percentEncode(normalized)].join("&");
}

export async function hmacSha1Base64(key: string, message: string) {
  const cryptoKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(message)));
  let binary = "";
  for (const byte of signature) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export interface OAuth1Request {
  method: string;
  url: URL;
  headers: Headers;
  bodyText: string;
}

/**
 * The protocol parameters (oauth_*) from wherever the client put them: the
 * Authorization header (preferred), the form body or the query string.
 */
export function collectOAuthParams(request: OAuth1Request) {
  const fromHeader = parseOAuthHeader(request.headers.get("Authorization"));
  const oauth = new Map<string, string>();
  const add = (name: string, value: string) => {
    if (name.startsWith("oauth_") && !oauth.has(name)) oauth.set(name, value);
  };
  for (const [name, value] of fromHeader ?? []) add(name, value);
  for (const [name, value] of formParams(request)) add(name, value);
  for (const [name, value] of request.url.searchParams) add(name, value);
  return { oauth, header: fromHeader };
}

function formParams(request: OAuth1Request): [string, string][] {
  const type = (request.headers.get("Content-Type") ?? "").toLowerCase();
  if (!type.includes("application/x-www-form-urlencoded") || !request.bodyText) return [];
  return [...new URLSearchParams(request.bodyText)];
}

/** Every parameter that goes into the signature base string (§3.4.1.3). */
export function signatureParams(request: OAuth1Request): [string, string][] {
  const params: [string, string][] = [];
  const header = parseOAuthHeader(request.headers.get("Authorization"));
  for (const [name, value] of header ?? []) {
    if (name !== "realm" && name !== "oauth_signature") params.push([name, value]);
  }
  for (const [name, value] of request.url.searchParams) if (name !== "oauth_signature") params.push([name, value]);
  for (const [name, value] of formParams(request)) if (name !== "oauth_signature") params.push([name, value]);
  return params;
}

export type OAuth1Failure =
  "missing_params" | "unsupported_signature_method" | "unsupported_version" | "invalid_timestamp" | "nonce_reused" | "invalid_signature";

/**
 * Checks the signature, timestamp and nonce of a signed request. The caller
 * has already looked the consumer and token secrets up.
 */
export async function verifyOAuth1Signature(
  request: OAuth1Request,
  secrets: { consumerSecret: string; tokenSecret: string },
  checks: { nowMs: number; skewSeconds: number; usedNonces: Set<string> },
): Promise<{ ok: true } | { ok: false; failure: OAuth1Failure }> {
  const { oauth } = collectOAuthParams(request);
  const signature = oauth.get("oauth_signature");
  const timestamp = oauth.get("oauth_timestamp");
  const nonce = oauth.get("oauth_nonce");
  const consumerKey = oauth.get("oauth_consumer_key");
  if (!signature || !timestamp || !nonce || !consumerKey) return { ok: false, failure: "missing_params" };
  if (oauth.get("oauth_signature_method") !== "HMAC-SHA1") return { ok: false, failure: "unsupported_signature_method" };
  const version = oauth.get("oauth_version");
  if (version !== undefined && version !== "1.0" && version.toUpperCase() !== "1.0A") {
    return { ok: false, failure: "unsupported_version" };
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - checks.nowMs / 1000) > checks.skewSeconds) {
    return { ok: false, failure: "invalid_timestamp" };
  }
  const key = `${percentEncode(secrets.consumerSecret)}&${percentEncode(secrets.tokenSecret)}`;
  const base = signatureBaseString(request.method, request.url, signatureParams(request));
  if ((await hmacSha1Base64(key, base)) !== signature) return { ok: false, failure: "invalid_signature" };
  // §3.3: a nonce is unique per consumer, token and timestamp; only a validly signed request spends it.
  const nonceKey = `${consumerKey}|${oauth.get("oauth_token") ?? ""}|${timestamp}|${nonce}`;
  if (checks.usedNonces.has(nonceKey)) return { ok: false, failure: "nonce_reused" };
  checks.usedNonces.add(nonceKey);
  return { ok: true };
}
