export function json(body: unknown, status = 200, headers: HeadersInit = {}) {
  const response = new Response(JSON.stringify(body), { status, headers });
  if (!response.headers.has("Content-Type")) {
    response.headers.set("Content-Type", "application/json; charset=utf-8");
  }
  return response;
}

export function text(body: string, status = 200, headers: HeadersInit = {}) {
  const response = new Response(body, { status, headers });
  if (!response.headers.has("Content-Type")) response.headers.set("Content-Type", "text/plain; charset=utf-8");
  return response;
}

export function html(body: string, status = 200, headers: HeadersInit = {}) {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

export function formEncoded(values: Record<string, string | number | boolean>, status = 200) {
  const body = new URLSearchParams(Object.entries(values).map(([k, v]) => [k, String(v)])).toString();
  return new Response(body, { status, headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } });
}

export function redirect(location: string, status = 302) {
  return new Response(null, { status, headers: { Location: location, "Cache-Control": "no-store" } });
}

/** A body cut off mid-way, as a dropped connection or a broken proxy would leave it. */
export function malformedJson(prefix = '{"ok":true,"access_token":"') {
  return new Response(prefix, { status: 200, headers: { "Content-Type": "application/json; charset=utf-8" } });
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The raw `http` fault: whatever status and body the test asked for. */
export function rawHttpFault(fault: { status: number; body?: string; contentType?: string }) {
  const body = fault.body ?? STATUS_TEXT[fault.status] ?? `HTTP ${fault.status}`;
  return new Response(body, {
    status: fault.status,
    headers: { "Content-Type": fault.contentType ?? "text/plain; charset=utf-8" },
  });
}

export function appendParams(url: string, params: Record<string, string | undefined>) {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) target.searchParams.append(key, value);
  return target.toString();
}

/**
 * A request value as text: strings as they are, other primitives as String() gives them, objects
 * and arrays as JSON (String() would make "[object Object]" of them).
 */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === "symbol" || typeof value === "function") return value.toString();
  return JSON.stringify(value);
}

export function escapeHtml(value: string) {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/**
 * What fetch rejects with when the connection drops after the provider committed the request
 * (workerd's wording for a lost connection).
 */
export class EmulatedNetworkError extends TypeError {
  constructor(message = "Network connection lost.") {
    super(message);
    this.name = "TypeError";
  }
}

export function isEmulatedNetworkError(error: unknown): error is EmulatedNetworkError {
  return error instanceof EmulatedNetworkError;
}

/**
 * The same status and headers at once, then a body that arrives only after `delayMs`; if the
 * caller's signal aborts first, reading the body rejects with its reason, as fetch's body does.
 */
export async function stallBody(response: Response, delayMs: number, signal?: AbortSignal | null) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        await sleep(delayMs, signal);
      } catch (reason) {
        controller.error(reason);
        return;
      }
      if (bytes.byteLength) controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Resolves after `ms`, or rejects with the signal's reason if it aborts first. */
export async function sleep(ms: number, signal?: AbortSignal | null) {
  signal?.throwIfAborted();
  const aborted = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // The abort reason is whatever the caller aborted with (fetch rejects with it as it is).
  if (aborted) throw signal!.reason;
}

/** Settles like `promise`, unless `signal` aborts first (then rejects with its reason, as fetch does). */
export async function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal | null): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort = () => {};
  const aborted = new Promise<{ aborted: true }>((resolve) => {
    onAbort = () => resolve({ aborted: true });
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([promise.then((value) => ({ aborted: false as const, value })), aborted]);
    if (outcome.aborted) throw signal.reason;
    return outcome.value;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

// ---------- request parsing ----------

export interface ParsedBody {
  /** Form fields, or the top-level string/number/boolean members of a JSON object. */
  fields: Map<string, string>;
  json: unknown;
  kind: "form" | "json" | "empty" | "other";
  /** The body claimed (or looked like) JSON but did not parse. */
  invalidJson: boolean;
}

export function parseBody(bodyText: string, contentType: string): ParsedBody {
  const fields = new Map<string, string>();
  const type = contentType.toLowerCase();
  if (bodyText.trim() === "") return { fields, json: undefined, kind: "empty", invalidJson: false };
  if (type.includes("application/json") || (!type.includes("form-urlencoded") && /^\s*[{[]/.test(bodyText))) {
    let value: unknown;
    try {
      value = JSON.parse(bodyText);
    } catch {
      return { fields, json: undefined, kind: "json", invalidJson: true };
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, member] of Object.entries(value)) {
        if (typeof member === "string" || typeof member === "number" || typeof member === "boolean") {
          fields.set(key, String(member));
        }
      }
    }
    return { fields, json: value, kind: "json", invalidJson: false };
  }
  if (type.includes("application/x-www-form-urlencoded") || type === "") {
    for (const [key, value] of new URLSearchParams(bodyText)) if (!fields.has(key)) fields.set(key, value);
    return { fields, json: undefined, kind: "form", invalidJson: false };
  }
  return { fields, json: undefined, kind: "other", invalidJson: false };
}

export function parseBasicAuth(headers: Headers): { id: string; secret: string } | null {
  const match = /^Basic\s+(\S+)\s*$/i.exec(headers.get("Authorization") ?? "");
  if (!match) return null;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return null;
  // RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
  const unescape = (value: string) => {
    try {
      return decodeURIComponent(value.replaceAll("+", " "));
    } catch {
      return value;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

/** The token after one of `schemes` (case-insensitive) in the Authorization header. */
export function authorizationToken(headers: Headers, schemes: string[] = ["Bearer"]) {
  const header = headers.get("Authorization") ?? "";
  for (const scheme of schemes) {
    const match = new RegExp(`^${scheme}\\s+(\\S+)\\s*$`, "i").exec(header);
    if (match) return match[1]!;
  }
  return null;
}

// ---------- randomness and hashing ----------

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomBase62(length: number) {
  let out = "";
  while (out.length < length) {
    // Rejection sampling: 248 = 62 * 4, so bytes below it map uniformly.
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function randomHex(bytes: number) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomDigits(length: number) {
  return [...crypto.getRandomValues(new Uint8Array(length))].map((b) => String(b % 10)).join("");
}

export function base64Url(bytes: ArrayBuffer | Uint8Array) {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of array) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** RFC 7636: does `verifier` answer the `challenge` sent at authorize? */
export async function pkceMatches(challenge: string, method: "S256" | "plain", verifier: string) {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  if (method === "plain") return verifier === challenge;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(digest) === challenge;
}

export function splitScopes(raw: string | null | undefined) {
  return (raw ?? "")
    .split(/[\s,]+/)
    .map((scope) => scope.trim())
    .filter(Boolean);
}

export function slugify(value: string, max = 60) {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, max)
      .replace(/-+$/, "") || "untitled"
  );
}
