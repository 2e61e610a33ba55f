import { ProviderError, type ProviderContext, type TokenSet } from "./types";

/** Every provider call gives up after this long (shorter than any refresh lease). */
export const PROVIDER_TIMEOUT_MS = 10_000;

export async function providerFetch(context: ProviderContext, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await context.fetch(url, { ...init, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError" || name === "AbortError") {
      throw new ProviderError("timeout", `No answer within ${PROVIDER_TIMEOUT_MS / 1000} seconds.`);
    }
    throw new ProviderError("network", "The provider could not be reached.");
  }
}

export async function readJsonObject(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const data: unknown = JSON.parse(text);
    if (data && typeof data === "object" && !Array.isArray(data)) return data as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProviderError("malformed_response", `Answered HTTP ${response.status} with a body that is not a JSON object.`, {
    status: response.status,
  });
}

/** A body read as UTF-8 whatever its Content-Type (form-encoded OAuth 1.0a answers included). */
export async function readBodyText(response: Response): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

export function retryAfterSeconds(response: Response): number | undefined {
  const header = response.headers.get("Retry-After");
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
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

export function basicAuth(credentials: { clientId: string; clientSecret: string }) {
  return `Basic ${btoa(`${credentials.clientId}:${credentials.clientSecret}`)}`;
}

/** Splits a scope string that may use commas or spaces (GitHub and Slack return comma lists). */
export function splitScopes(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === "string");
  if (typeof value !== "string") return [];
  return value.split(/[\s,]+/).filter(Boolean);
}

export function expiresAt(now: number, seconds: unknown): number | null {
  return typeof seconds === "number" && seconds > 0 ? now + seconds * 1000 : null;
}

/** Maps an HTTP status with no better signal to an error kind. */
export function errorKindForStatus(status: number) {
  if (status === 401) return "unauthorized" as const;
  if (status === 429) return "rate_limited" as const;
  if (status >= 500) return "server_error" as const;
  return "client_error" as const;
}

/** The token set in an OAuth 2 token response; each provider checks its own error shape first. */
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
