import type * as v from "valibot";

/**
 * The one interface every provider module implements. A provider is declared as data (its
 * OAuth details, settings names, config fields) plus the few calls only it knows how to make
 * (identity, delivery, revocation). Nothing outside app/lib/providers/ branches on a provider id.
 */
export type ProviderId = string;

/** Where a provider lives, from configuration (real hosts by default, the emulator locally). */
export interface ProviderEndpoints {
  web: string;
  api: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The names of the provider's settings in the Worker's environment (.dev.vars, secrets). */
export interface ProviderEnvNames {
  clientId: string;
  clientSecret: string;
  webUrl: string;
  apiUrl: string;
  /** The secret the provider signs its revocation webhooks with (providers that push revocations). */
  webhookSecret?: string;
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

export interface RevokeOptions {
  /** SpokeDo still holds other tokens of the same provider account: another connection's, or the ones replacing these. */
  accountStillHeld: boolean;
}

/** The secret part of a token set, as the vault hands it to provider calls. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string | null;
  tokenSecret: string | null;
}

export interface AccountIdentity {
  /** Stable id of the provider account: re-authorizing as another one needs confirmation. */
  accountId: string;
  /**
   * The provider-side organization the account belongs to (a Slack team, a Linear organization),
   * where the provider can revoke a whole one at once.
   */
  organizationId?: string;
  label: string;
  url: string | null;
  details: Record<string, string>;
}

/** Everything a provider module needs to talk to its provider for one connection or flow. */
export interface ProviderContext {
  endpoints: ProviderEndpoints;
  credentials: ClientCredentials;
  fetch: typeof fetch;
  /** How long one call may take (request and body); PROVIDER_TIMEOUT_MS when absent. */
  timeoutMs?: number;
  /** Told of every answer's headers (rate-limit budgets are read from them). */
  onResponse?: (headers: Headers, status: number) => void;
  /**
   * Told just before a request marked `creates` goes out: the outbox then knows whether this
   * attempt may have created the item (and must be looked up before any resend) or not.
   */
  onCreate?: () => void;
}

/**
 * URLs are templates over the configured endpoints, e.g. "{web}/login/oauth/authorize", so a
 * provider's hosts can point at GitHub Enterprise Server or the local emulator.
 */
export type EndpointTemplate = `{${keyof ProviderEndpoints}}${string}`;

export interface OAuth2Declaration {
  protocol: "oauth2";
  authorizeUrl: EndpointTemplate;
  tokenUrl: EndpointTemplate;
  /** The reviewed scope list (see the scope snapshot test). */
  scopes: string[];
  /** How the provider wants scopes joined in the authorize URL. */
  scopeSeparator: " " | ",";
  pkce: boolean;
  /** basic: HTTP Basic with the secret; public: client_id only (PKCE-protected). */
  clientAuthentication: "basic" | "public";
  /** Extra authorize parameters, e.g. Notion's owner=user or Linear's prompt=consent. */
  authorizeParams?: Record<string, string>;
  /** Token endpoint errors arrive as HTTP 200 `{ok: false, error}` (Slack). */
  tokenResponseOkFlag?: boolean;
}

export interface OAuth1Declaration {
  protocol: "oauth1";
  requestTokenUrl: EndpointTemplate;
  authorizeUrl: EndpointTemplate;
  accessTokenUrl: EndpointTemplate;
  /** Extra parameters for the authorize page (Trello: name, scope, expiration). */
  authorizeParams: Record<string, string>;
  /** What the granted token may do, recorded on the connection. */
  scopes: string[];
}

export type OAuthDeclaration = OAuth2Declaration | OAuth1Declaration;

export interface ConfigField {
  name: string;
  label: string;
  hint?: string;
  placeholder?: string;
  /** text: one value; list: comma-separated values; mappings: key/value rows. */
  type: "text" | "list" | "mappings";
  /** What a delivery does when no value is set anywhere ("Issues land in the team's first Backlog state"). */
  whenUnset?: string;
}

export type ConfigSchema = v.GenericSchema<Record<string, unknown>, Record<string, unknown>>;

export interface DeliveryInput {
  title: string;
  body: string;
  /** The intent's effective config (connection defaults plus overrides). */
  config: Record<string, unknown>;
  /**
   * Stable across every attempt of one delivery: the provider keeps it with the item (a hidden
   * comment, message metadata, a client-chosen id, a footer) so the item can be found again.
   */
  idempotencyKey: string;
  /** The connection's account URL (e.g. the Slack team's), for building links. */
  accountUrl: string | null;
}

export interface DeliveredItem {
  id: string;
  url: string | null;
}

export interface LookupInput extends DeliveryInput {
  /** No item for this delivery can be older than this (ms since the epoch). */
  since: number;
}

/** An OAuth scope a delivery needs (any one of `anyOf`), and what for, in words. */
export interface ScopeNeed {
  anyOf: string[];
  for: string;
}

/** What a provider says is left of a connection's request budget, as of one answer. */
export interface RateBudget {
  /** What it counts, in words: "requests per hour", "complexity points per hour". */
  unit: string;
  limit: number;
  remaining: number;
  /** When the provider refills it (ms since the epoch): all at once, or (continuous) full by then. */
  resetAt: number;
  /** at-reset: a fixed window refilled at resetAt (GitHub); continuous: a leaky bucket refilling steadily until full at resetAt (Linear). */
  refill: "at-reset" | "continuous";
}

/** How a provider reports and enforces its per-token limits (read from its documented headers). */
export interface RateLimitDeclaration {
  /** The budget an answer's headers report; null when they report none. */
  read(headers: Headers, now: number): RateBudget | null;
  /** The limit in words, for the connection page ("5,000 requests per hour per user"). */
  description: string;
}

/**
 * Something a config points at that no longer exists or cannot be used (config drift): the field
 * it comes from and what is wrong, in words a person can act on.
 */
export interface TargetProblem {
  field: string;
  message: string;
}

export interface TargetCheckInput {
  /** The fields to check: a connection's defaults, or an intent's effective config. Absent fields are not checked. */
  config: Record<string, unknown>;
  /** The scopes the connection was granted. */
  scopes: string[];
  /**
   * Told, when a field checks out, the value to store for it typed as the provider's schema says
   * (Notion mappings: numbers, booleans, option lists). Absent when nothing is being saved.
   */
  typed?: (field: string, value: unknown) => void;
}

/** One entry of a config picker: the value stored, and what a person sees. */
export interface Choice {
  value: string;
  label: string;
  /** Said after the label: "private", "read-only: labels and assignee are dropped". */
  note?: string;
  /** A Notion property's type ("select", "number"…), for mapping rows. */
  kind?: string;
  /** The values a property of this kind offers (select and status options). */
  options?: string[];
}

export interface ChoiceList {
  choices: Choice[];
  /** The provider had more than the limit asked for: the rest can be typed by hand. */
  truncated: boolean;
}

/**
 * Where a config field's choices come from (a dynamic dropdown): a read-only listing that follows
 * the provider's pagination up to `limit` items. A dependent field (labels on a repository, states
 * of a team) names the field whose value it is listed for.
 */
export interface ChoiceSource {
  dependsOn?: string;
  list(context: ProviderContext, tokens: StoredTokens, input: { parent: string | null; limit: number }): Promise<ChoiceList>;
}

/** Which connections a pushed revocation reaches, by the provider account they hold (in any workspace). */
export type RevokedAccounts =
  /** Connections whose `AccountIdentity.accountId` is one of these. */
  | { accountIds: string[] }
  /** Every connection whose account belongs to this organization (`AccountIdentity.organizationId`). */
  | { organizationId: string };

/** One delivery of a provider's webhook, as received: the raw body is what was signed. */
export interface ReceivedWebhook {
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
  /** When it was received (ms since the epoch). */
  now: number;
}

/**
 * What a verified delivery says. A `revoked` event carries the key that identifies this very
 * delivery (from what the provider signed, or its delivery id) and how long a replay of it must be
 * refused: after `keepUntil` the provider's own freshness check refuses it anyway.
 */
export type WebhookEvent =
  /** A handshake to answer with this JSON (Slack's url_verification). */
  | { kind: "challenge"; answer: Record<string, string> }
  | {
      kind: "revoked";
      /** The provider's name for what happened, shown in the connection's status reason. */
      event: string;
      accounts: RevokedAccounts;
      /** When the revocation happened: connections authorized after it hold new tokens and stay. */
      occurredAt: number;
      replay: { key: string; keepUntil: number };
    }
  /** Signed and well formed, but nothing we act on: acknowledged and ignored. */
  | { kind: "ignored"; event: string };

export type WebhookReading =
  | { ok: true; event: WebhookEvent }
  /** unauthorized: unsigned, mis-signed or stale (401); malformed: signed but unreadable (400). */
  | { ok: false; problem: "unauthorized" | "malformed"; code: string; message: string };

/** A provider that pushes revocations: how to verify and read what it sends. */
export interface RevocationWebhook {
  /**
   * Verifies the signature (in constant time) and the delivery's freshness, then reads it. Never
   * throws for anything a sender controls.
   */
  read(delivery: ReceivedWebhook, secret: string): Promise<WebhookReading>;
}

export interface ProviderModule {
  id: ProviderId;
  name: string;
  /** Path of the provider's icon under public/, or a data: URL. */
  icon: string;
  /** What a connection to this provider lets intents do. */
  summary: string;
  env: ProviderEnvNames;
  defaultEndpoints: ProviderEndpoints;
  oauth: OAuthDeclaration;
  fetchIdentity(context: ProviderContext, tokens: StoredTokens): Promise<AccountIdentity>;
  /**
   * Revokes at the provider what these tokens grant, refresh token included where the provider
   * allows it; absent where the provider offers no revocation. A provider whose grant covers every
   * token of an account (GitHub) revokes the whole grant only when SpokeDo holds no other tokens
   * of that account (`accountStillHeld`).
   */
  revoke?(context: ProviderContext, tokens: StoredTokens, options: RevokeOptions): Promise<void>;
  /**
   * The webhook the provider sends when a user revokes access on its side (received at
   * /webhooks/<id>, signed with the secret named by `env.webhookSecret`); absent where it sends none.
   */
  revocationWebhook?: RevocationWebhook;
  /**
   * The per-token limits: deliveries through a connection whose budget is nearly spent wait for
   * the reset instead of being refused. Providers that report no budget still pause a connection
   * for the Retry-After of a 429.
   */
  rateLimit: RateLimitDeclaration;
  configSchema: ConfigSchema;
  configFields: ConfigField[];
  /**
   * Config fields chosen from the provider's own lists, by field name. Fields without a source
   * are typed by hand; every field can still be typed by hand (a channel the app is not in yet).
   */
  choices?: Record<string, ChoiceSource>;
  /** The config fields an intent may override. */
  overridableFields: string[];
  /** Config fields a delivery cannot do without. */
  requiredForDelivery: string[];
  /**
   * The OAuth scopes delivering with this (effective) config needs: each need is met by any one
   * of its scopes. Checked before any delivery, when an intent is shown or saved. Absent where
   * the provider has no scopes (Notion's capabilities) or grants none to check.
   */
  requiredScopes?(config: Record<string, unknown>): ScopeNeed[];
  /**
   * Config drift: asks the provider whether what the config points at (a repository, channel,
   * database and its properties, team and state, board and list) still exists and can be used.
   * Read-only calls; a target that is gone or unusable is a problem, not an error. Throws
   * ProviderError when the provider cannot answer (an outage, a refused token).
   */
  checkTargets?(context: ProviderContext, tokens: StoredTokens, input: TargetCheckInput): Promise<TargetProblem[]>;
  /**
   * Delivers an insight: creates the issue, message, page or card. Throws ProviderError. The one
   * request that creates the item is sent with `providerFetch(…, { creates: true })`; requests
   * before it (reading a schema, say) are not, so their failures are never taken for a send.
   */
  deliver(context: ProviderContext, tokens: StoredTokens, input: DeliveryInput): Promise<DeliveredItem>;
  /**
   * Finds the item an earlier attempt of this delivery created (by its idempotency key), or null
   * when there is none. Called before resending an attempt whose outcome is unknown. Throws
   * ProviderError when the provider cannot be asked. Absent: the outcome cannot be checked.
   */
  findDelivered?(context: ProviderContext, tokens: StoredTokens, input: LookupInput): Promise<DeliveredItem | null>;
}

/** "{web}/login/oauth/authorize" → "https://github.com/login/oauth/authorize". */
export function endpointUrl(template: EndpointTemplate, endpoints: ProviderEndpoints): string {
  return template.replace(/^\{(web|api)\}/, (_, key: keyof ProviderEndpoints) => endpoints[key]);
}
