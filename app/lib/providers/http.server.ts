import { withDeadline } from "../platform/http.server";
import { ProviderError, type ProviderErrorKind } from "./errors";
import type { ProviderContext, RateBudget, TokenSet } from "./types";

/** Every provider call gives up after this long (shorter than any refresh lease). */
export const PROVIDER_TIMEOUT_MS = 10_000;

/** A provider's answer, read whole: the status, the headers and the body text. */
export interface ProviderResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
}

/**
 * One provider exchange, request and body alike, under one deadline: a provider that answers
 * its headers and then stalls in the body is a timeout like any other, never a raw exception.
 */
export async function providerFetch(
  context: ProviderContext,
  url: string,
  { creates = false, ...init }: RequestInit & { creates?: boolean } = {},
): Promise<ProviderResponse> {
  const timeoutMs = Math.min(context.timeoutMs ?? PROVIDER_TIMEOUT_MS, PROVIDER_TIMEOUT_MS);
  return withDeadline(timeoutMs, async (signal) => {
    if (creates) context.onCreate?.();
    let response: Response;
    try {
      response = await context.fetch(url, { ...init, signal });
    } catch (error) {
      throw transportError(error, timeoutMs);
    }
    context.onResponse?.(response.headers, response.status);
    try {
      const text = new TextDecoder().decode(await response.arrayBuffer());
      return { status: response.status, ok: response.ok, headers: response.headers, text };
    } catch (error) {
      throw transportError(error, timeoutMs);
    }
  });
}

function transportError(error: unknown, timeoutMs: number): ProviderError {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return new ProviderError("timeout", `No answer within ${timeoutMs / 1000} seconds.`);
  }
  return new ProviderError("network", "The provider could not be reached.");
}

/** A whole-number header, or undefined. */
export function numberHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** The budget with the smaller share left, of those reported. */
export function tightest(...budgets: (RateBudget | null)[]): RateBudget | null {
  const reported = budgets.filter((budget): budget is RateBudget => budget !== null && budget.limit > 0);
  if (!reported.length) return null;
  return reported.reduce((a, b) => (b.remaining / b.limit < a.remaining / a.limit ? b : a));
}

/** Providers that report no remaining budget (Slack, Notion): only their 429s pause a connection. */
export const NO_BUDGET_HEADERS = () => null;

/** The body as a JSON object, or a malformed_response error. */
export function jsonObject(response: ProviderResponse): Record<string, unknown> {
  const data = parseJson(response.text);
  if (data && typeof data === "object" && !Array.isArray(data)) return data as Record<string, unknown>;
  throw new ProviderError("malformed_response", `Answered HTTP ${response.status} with a body that is not a JSON object.`, {
    status: response.status,
  });
}

/** The body as a JSON array, or a malformed_response error. */
export function jsonArray(response: ProviderResponse): unknown[] {
  const data = parseJson(response.text);
  if (Array.isArray(data)) return data;
  throw new ProviderError("malformed_response", `Answered HTTP ${response.status} with a body that is not a JSON list.`, {
    status: response.status,
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function retryAfterSeconds(headers: Headers): number | undefined {
  const header = headers.get("Retry-After");
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** How one provider words its errors: which codes mean what, and how long to wait by default. */
export interface ErrorVocabulary {
  unauthorized?: readonly string[];
  tokenExpired?: readonly string[];
  rateLimited?: readonly string[];
  /** Codes that refuse this one request (a permission on one object), whatever the status: the token itself is fine. */
  forbidden?: readonly string[];
  /** Seconds to wait on a rate limit that came without Retry-After. */
  defaultRetryAfterSeconds: number;
}

/** What a provider's error body said, in its own terms. */
export interface ErrorReading {
  code?: string;
  message?: string;
  /** The provider signals a rate limit some other way (GitHub's 403 with x-ratelimit-remaining: 0). */
  rateLimited?: boolean;
  retryAfterSeconds?: number;
}

/**
 * The one place a provider's answer becomes a classified ProviderError: each provider module
 * only says how to read its error body (`read`) and what its codes mean (`vocabulary`).
 */
export function providerError(
  response: ProviderResponse,
  vocabulary: ErrorVocabulary,
  read: (response: ProviderResponse) => ErrorReading,
  secrets: (string | null | undefined)[] = [],
): ProviderError {
  const { status } = response;
  const reading = read(response);
  const code = reading.code;
  const words = !reading.message ? code : !code || reading.message.startsWith(code) ? reading.message : `${code}: ${reading.message}`;
  const message = scrubSecrets(words || `HTTP ${status}`, secrets);
  const has = (list?: readonly string[]) => code !== undefined && (list ?? []).includes(code);
  let kind: ProviderErrorKind;
  if (has(vocabulary.tokenExpired)) kind = "token_expired";
  else if (has(vocabulary.unauthorized)) kind = "unauthorized";
  else if (has(vocabulary.forbidden)) kind = "client_error";
  else if (status === 429 || reading.rateLimited || has(vocabulary.rateLimited)) kind = "rate_limited";
  // A success status with no error in words: the answer itself is broken.
  else if (status >= 200 && status < 300 && !code) kind = "malformed_response";
  else kind = errorKindForStatus(status);
  const retryAfter =
    kind === "rate_limited"
      ? (reading.retryAfterSeconds ?? retryAfterSeconds(response.headers) ?? vocabulary.defaultRetryAfterSeconds)
      : undefined;
  return new ProviderError(kind, message, {
    status,
    ...(code ? { code } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}

/** Maps an HTTP status with no better signal to an error kind. */
export function errorKindForStatus(status: number): ProviderErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  // Any other status, 2xx included (Slack and Linear answer refusals with 200): a refusal.
  return "client_error";
}

const TOKEN_PATTERNS = [
  /\bgh[opusr]_[A-Za-z0-9_]{8,}/g,
  /\bxox[a-z]?[.-][A-Za-z0-9.-]{8,}/g,
  /\b(?:secret|ntn|nrt|lin_oauth|lin_api|lin_refresh)_[A-Za-z0-9_]{8,}/g,
  /\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b[A-Fa-f0-9]{64}\b/g,
];

/** Provider wording is kept as it was, minus anything shaped like a credential, and bounded. */
export function scrubSecrets(message: string, secrets: (string | null | undefined)[] = []): string {
  let text = message;
  for (const secret of secrets) if (secret && secret.length >= 6) text = text.split(secret).join("[redacted]");
  for (const pattern of TOKEN_PATTERNS) text = text.replace(pattern, "[redacted]");
  return text.length > 500 ? `${text.slice(0, 497)}…` : text;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function basicAuth(credentials: { clientId: string; clientSecret: string }) {
  return `Basic ${btoa(`${credentials.clientId}:${credentials.clientSecret}`)}`;
}

/** Splits a scope string that may use commas or spaces (GitHub and Slack return comma lists). */
export function splitScopes(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === "string");
  if (typeof value !== "string") return [];
  return value.split(/[\s,]+/).filter(Boolean);
}

function expiresAt(now: number, seconds: unknown): number | null {
  return typeof seconds === "number" && seconds > 0 ? now + seconds * 1000 : null;
}

/** The token set in an OAuth 2 token response. */
export function tokenSetFrom(data: Record<string, unknown>, now: number): TokenSet {
  const accessToken = asString(data.access_token);
  if (!accessToken) throw new ProviderError("malformed_response", "The token response has no access_token.");
  return {
    accessToken,
    refreshToken: asString(data.refresh_token) ?? null,
    tokenSecret: null,
    accessTokenExpiresAt: expiresAt(now, data.expires_in),
    refreshTokenExpiresAt: expiresAt(now, data.refresh_token_expires_in),
    scopes: splitScopes(data.scope),
  };
}
