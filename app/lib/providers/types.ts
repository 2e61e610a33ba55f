import type * as v from "valibot";

export const PROVIDER_IDS = ["github", "slack", "notion", "linear", "trello"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Where a provider lives, from configuration (real hosts by default, the emulator locally). */
export interface ProviderEndpoints {
  web: string;
  api: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Tokens as a provider handed them to us, normalized. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  /** OAuth 1.0a token secret (Trello). */
  tokenSecret: string | null;
  accessTokenExpiresAt: number | null;
  refreshTokenExpiresAt: number | null;
  scopes: string[];
}

export interface AccountIdentity {
  /** Stable id of the provider account: re-authorizing as another one needs confirmation. */
  accountId: string;
  label: string;
  url: string | null;
  details: Record<string, string>;
}

/** Everything a provider module needs to talk to its provider for one connection or flow. */
export interface ProviderContext {
  endpoints: ProviderEndpoints;
  credentials: ClientCredentials;
  fetch: typeof fetch;
}

export type ProviderErrorKind =
  | "unauthorized" // the token is revoked, invalid or belongs to a removed app
  | "token_expired" // the provider says the token expired
  | "rate_limited"
  | "client_error" // any other 4xx: a configuration or permission problem
  | "server_error" // 5xx
  | "timeout"
  | "network"
  | "malformed_response";

/** A provider answered with an error. `message` is the provider's own wording, scrubbed of secrets. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    public readonly kind: ProviderErrorKind,
    message: string,
    public readonly details: { status?: number; code?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}

export interface ConfigField {
  name: string;
  label: string;
  hint?: string;
  placeholder?: string;
  /** text: one value; list: comma-separated values; mappings: key/value rows. */
  type: "text" | "list" | "mappings";
}

export interface OAuth2Details {
  protocol: "oauth2";
  authorizeUrl(endpoints: ProviderEndpoints): string;
  tokenUrl(endpoints: ProviderEndpoints): string;
  /** The reviewed scope list, already joined the way the provider expects (see tests). */
  scopes: string[];
  pkce: boolean;
  /** basic: HTTP Basic with the secret; public: client_id only (PKCE-protected). */
  clientAuthentication: "basic" | "public";
  extraAuthorizeParams?: Record<string, string>;
  /** Turns a token-endpoint body into tokens; throws ProviderError for errors hidden in a 200. */
  parseTokenResponse(data: Record<string, unknown>, now: number): TokenSet;
  supportsRefresh: boolean;
}

export interface OAuth1Details {
  protocol: "oauth1";
  requestTokenUrl(endpoints: ProviderEndpoints): string;
  authorizeUrl(endpoints: ProviderEndpoints): string;
  accessTokenUrl(endpoints: ProviderEndpoints): string;
  scope: string;
  expiration: string;
}

export interface DeliveryInput {
  title: string;
  body: string;
  /** The intent's effective config (connection defaults plus overrides). */
  config: Record<string, unknown>;
  /** Stable across retries of one delivery, for providers that can de-duplicate. */
  idempotencyKey: string;
  /** The connection's account URL (e.g. the Slack team's), for building links. */
  accountUrl: string | null;
}

export interface DeliveredItem {
  id: string;
  url: string | null;
}

export interface ProviderModule {
  id: ProviderId;
  name: string;
  /** Path of the provider's icon under public/. */
  icon: string;
  /** What a connection to this provider lets intents do. */
  summary: string;
  defaultEndpoints: ProviderEndpoints;
  oauth: OAuth2Details | OAuth1Details;
  fetchIdentity(context: ProviderContext, tokens: StoredTokens): Promise<AccountIdentity>;
  /** Revokes the token at the provider; absent where the provider offers no revocation. */
  revoke?(context: ProviderContext, tokens: StoredTokens): Promise<void>;
  configSchema: v.GenericSchema<Record<string, unknown>, Record<string, unknown>>;
  configFields: ConfigField[];
  /** The config fields an intent may override. */
  overridableFields: string[];
  /** Config fields a delivery cannot do without. */
  requiredForDelivery: string[];
  /** Delivers an insight: creates the issue, message, page or card. Throws ProviderError. */
  deliver(context: ProviderContext, tokens: StoredTokens, input: DeliveryInput): Promise<DeliveredItem>;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken: string | null;
  tokenSecret: string | null;
}

/** "HTTP 502: Bad Gateway": the status (when known) and the provider's own words, once each. */
export function describeProviderError(error: ProviderError): string {
  const status = error.details.status;
  if (!status || error.message.startsWith("HTTP ")) return error.message;
  return `HTTP ${status}: ${error.message}`;
}
