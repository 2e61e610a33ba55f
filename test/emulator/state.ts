/** The five built-in providers; parts registered at runtime add more (see `ProviderId`). */
import type { RateLimitSettings } from "./rate-limits";

export const PROVIDERS = ["github", "slack", "notion", "linear", "trello"] as const;
export type Provider = (typeof PROVIDERS)[number];
/** A built-in provider or the id (URL prefix) of a part registered with `registerProvider`. */
export type ProviderId = Provider | (string & {});

/**
 * What a route is, for fault injection and chaos: OAuth steps, the identity look-up, the
 * delivery itself, `list` (configuration pickers: repos, channels, databases, teams, boards)
 * and `lookup` (finding an earlier delivery again: issue lists, search, history, queries).
 */
export const ENDPOINTS = ["authorize", "token", "refresh", "revoke", "identity", "deliver", "list", "lookup"] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export type Fault =
  | { kind: "deny" }
  | { kind: "invalid_code" }
  | { kind: "oauth_error"; code: string; description?: string }
  | { kind: "http"; status: number; body?: string; contentType?: string }
  | {
      kind: "rate_limited";
      retryAfterSeconds?: number;
      /** GitHub: primary (x-ratelimit-remaining: 0) or secondary (retry-after) limit; default primary unless retryAfterSeconds is set. */
      variant?: "primary" | "secondary";
      /** GitHub 403 (default) or 429; Linear 400 (default) or 200. Ignored by the others. */
      status?: number;
    }
  | { kind: "slow"; delayMs: number }
  /** Headers arrive at once; the body stalls for delayMs (the caller's AbortSignal ends the wait). */
  | { kind: "slow_body"; delayMs: number }
  /** The provider performs the request (an item is created), then the connection drops: fetch rejects. */
  | { kind: "drop_after_commit" }
  | { kind: "malformed_json" }
  | { kind: "expired_token" }
  | { kind: "revoked_token" };

export type FaultKind = Fault["kind"];

export interface EmulatorOptions {
  /** Where the emulator is reached, e.g. http://localhost:8788. */
  origin: string;
  /** The SpokeDo app; the only registered redirect URI is `${appOrigin}/integration-connections/callback/${provider}`. */
  appOrigin: string;
  /** GitHub App user tokens (ghu_/ghr_, expiring) or OAuth App tokens (gho_, no expiry, scope list). */
  githubTokenStyle: "github-app" | "oauth-app";
  /** Slack apps with token rotation get xoxe.xoxb-1-… tokens with expires_in and refresh_token. */
  slackTokenRotation: boolean;
  /** How a dead Slack refresh token is answered: the documented 200 ok:false, or the 400 invalid_grant seen in the wild. */
  slackRefreshErrorShape: "ok_false" | "invalid_grant_400";
  /** Notion's OpenAPI says OAuth errors carry `code`; its guide says `error`. */
  notionErrorShape: "code" | "error";
  /** Linear's AUTHENTICATION_ERROR has been reported as 401, 400 and 200. */
  linearAuthErrorStatus: 200 | 400 | 401;
  /** Whether refreshing kills the previous access token at once (GitHub documents it does). */
  revokeAccessTokenOnRefresh: Record<Provider, boolean>;
  /** Allowed clock skew for OAuth 1.0a timestamps. */
  oauth1TimestampSkewSeconds: number;
  /**
   * How far GitHub's and Trello's search indexes lag behind writes, on the emulator's clock
   * (both are eventually consistent; neither documents by how much). Lists stay immediate.
   */
  searchIndexDelayMs: { github: number; trello: number };
  /** GitHub answers an exhausted primary budget with 403 (default) or 429; both are documented. */
  githubRateLimitedStatus: 403 | 429;
  /** Linear's RATELIMITED answer: HTTP 400 with statusCode 429 (reported 2026) or 200 (its rate-limiting doc). */
  linearRateLimitedStatus: 200 | 400;
  /**
   * Text over 40,000 characters: `msg_too_long` (chat.postMessage's error table) or truncated to
   * 40,000 (Slack's 2018 changelog "Truncating really long messages"); the docs say both.
   */
  slackLongText: "msg_too_long" | "truncate";
  /**
   * Slack's conversations.history limits: Marketplace and internal apps get Tier 3; commercially
   * distributed non-Marketplace apps 1 request per minute with limit at most 15 (since 2025-05-29).
   */
  slackAppDistribution: "marketplace_or_internal" | "non_marketplace";
  /** Per-token request budgets; see rate-limits.ts. */
  rateLimits: RateLimitSettings;
}

export interface RecordedRequest {
  provider: ProviderId;
  /** null when the path is not one of the provider's endpoints. */
  endpoint: Endpoint | null;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** Filled in once answered. */
  status?: number;
  /** Faults that shaped the answer. */
  faults: FaultKind[];
  /** The fault was drawn by chaos mode (`setChaos`) rather than queued with failNext. */
  chaos?: boolean;
}

export interface AuthorizationCode {
  provider: ProviderId;
  code: string;
  clientId: string;
  /** As sent to the authorize endpoint; null when it was omitted there. */
  redirectUri: string | null;
  scopes: string[];
  /** The scope parameter exactly as requested (delimiters kept). */
  rawScope: string;
  userScopes: string[];
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | "plain" | null;
  accountId: string;
  expiresAt: number;
  used: boolean;
  extra: Record<string, string>;
}

export interface IssuedToken {
  provider: ProviderId;
  clientId: string;
  accountId: string;
  accessToken: string;
  refreshToken?: string;
  scopes: string[];
  issuedAt: number;
  /** Epoch ms; undefined for tokens that never expire. */
  expiresAt?: number;
  refreshExpiresAt?: number;
  revoked: boolean;
  /** The refresh token was spent on a rotation. */
  refreshUsed: boolean;
  /** Tokens from one authorization (and its refreshes) share a grant. */
  grantId: string;
  /** Slack: bot or user token. */
  kind: "bot" | "user" | "default";
  extra: Record<string, string>;
}

export interface CreatedItem {
  provider: ProviderId;
  kind: string;
  id: string;
  url: string;
  accountId: string;
  payload: unknown;
  at: number;
}

export interface OAuth1RequestToken {
  token: string;
  secret: string;
  consumerKey: string;
  callback: string;
  verifier: string | null;
  accountId: string | null;
  scope: string;
  expiration: string;
  name: string;
  used: boolean;
  denied: boolean;
  createdAt: number;
}

interface PendingFault {
  provider: ProviderId;
  endpoint: Endpoint;
  fault: Fault;
  remaining: number;
}

export type TokenProblem = "missing" | "unknown" | "expired" | "revoked";
export type TokenCheck = { ok: true; token: IssuedToken } | { ok: false; problem: TokenProblem };

export class EmulatorState {
  codes = new Map<string, AuthorizationCode>();
  tokens: IssuedToken[] = [];
  requests: RecordedRequest[] = [];
  created: CreatedItem[] = [];
  oauth1RequestTokens = new Map<string, OAuth1RequestToken>();
  usedNonces = new Set<string>();
  private faults: PendingFault[] = [];
  private counters = new Map<string, number>();
  private collections = new Map<string, unknown[]>();
  private clockOffsetMs = 0;

  /** Provider data that lives as long as the emulator (issues, messages, pages, cards…), by name. */
  collection<T>(name: string): T[] {
    let items = this.collections.get(name);
    if (!items) {
      items = [];
      this.collections.set(name, items);
    }
    return items as T[];
  }

  now() {
    return Date.now() + this.clockOffsetMs;
  }

  advanceTime(ms: number) {
    this.clockOffsetMs += ms;
  }

  /** 1, 2, 3… per key: issue numbers, identifiers, ids. */
  next(key: string) {
    const value = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, value);
    return value;
  }

  reset() {
    this.codes.clear();
    this.tokens.length = 0;
    this.requests.length = 0;
    this.created.length = 0;
    this.oauth1RequestTokens.clear();
    this.usedNonces.clear();
    this.faults.length = 0;
    this.counters.clear();
    this.collections.clear();
    this.clockOffsetMs = 0;
  }

  addFault(provider: ProviderId, endpoint: Endpoint, fault: Fault, times: number) {
    this.faults.push({ provider, endpoint, fault, remaining: times });
  }

  clearFaults() {
    this.faults.length = 0;
  }

  pendingFaults() {
    return this.faults.map(({ provider, endpoint, fault, remaining }) => ({ provider, endpoint, fault, remaining }));
  }

  /** Consumes one use of the first queued fault for this endpoint that `applies` accepts. */
  takeFault(provider: ProviderId, endpoint: Endpoint, applies: (fault: Fault) => boolean): Fault | undefined {
    const index = this.faults.findIndex(
      (pending) => pending.provider === provider && pending.endpoint === endpoint && applies(pending.fault),
    );
    if (index === -1) return undefined;
    const pending = this.faults[index]!;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.faults.splice(index, 1);
    return pending.fault;
  }

  addToken(token: Omit<IssuedToken, "issuedAt" | "revoked" | "refreshUsed">): IssuedToken {
    const issued: IssuedToken = { ...token, issuedAt: this.now(), revoked: false, refreshUsed: false };
    this.tokens.push(issued);
    return issued;
  }

  /**
   * Looks an access token up the way an API would. `fault` lets a queued
   * expired_token / revoked_token fault make a good token answer as such.
   */
  checkAccessToken(provider: ProviderId, value: string | null | undefined, fault?: Fault): TokenCheck {
    if (!value) return { ok: false, problem: "missing" };
    const token = this.tokens.find((t) => t.provider === provider && t.accessToken === value);
    if (!token) return { ok: false, problem: "unknown" };
    if (fault?.kind === "revoked_token") return { ok: false, problem: "revoked" };
    if (fault?.kind === "expired_token") return { ok: false, problem: "expired" };
    if (token.revoked) return { ok: false, problem: "revoked" };
    if (token.expiresAt !== undefined && token.expiresAt <= this.now()) return { ok: false, problem: "expired" };
    return { ok: true, token };
  }

  /** A refresh token that can still be spent, or undefined. */
  usableRefreshToken(provider: ProviderId, value: string | null | undefined, clientId?: string) {
    if (!value) return undefined;
    const token = this.tokens.find((t) => t.provider === provider && t.refreshToken === value);
    if (!token || token.revoked || token.refreshUsed) return undefined;
    if (clientId !== undefined && token.clientId !== clientId) return undefined;
    if (token.refreshExpiresAt !== undefined && token.refreshExpiresAt <= this.now()) return undefined;
    return token;
  }

  revokeGrant(grantId: string) {
    for (const token of this.tokens) if (token.grantId === grantId) token.revoked = true;
  }

  revokeTokensOf(provider: ProviderId, accountId: string) {
    const revoked: IssuedToken[] = [];
    for (const token of this.tokens) {
      if (token.provider === provider && token.accountId === accountId && !token.revoked) {
        token.revoked = true;
        revoked.push(token);
      }
    }
    return revoked;
  }

  expireAccessTokens(provider: ProviderId) {
    const past = this.now() - 1000;
    for (const token of this.tokens) {
      if (token.provider === provider && !token.revoked) token.expiresAt = past;
    }
  }
}

/** Which fault kinds a request can take: the rest stay queued for a request they fit. */
export function faultApplies(fault: Fault, endpoint: Endpoint, isConsentPage: boolean) {
  switch (fault.kind) {
    case "deny":
      return isConsentPage;
    case "invalid_code":
      return endpoint === "token" || endpoint === "refresh";
    case "expired_token":
    case "revoked_token":
      return endpoint === "identity" || endpoint === "deliver" || endpoint === "revoke" || endpoint === "list" || endpoint === "lookup";
    default:
      return true;
  }
}
