import type { ParsedBody } from "./http";
import type { RateLimiter } from "./rate-limits";
import type { EmulatorOptions, EmulatorState, Endpoint, Fault, IssuedToken, ProviderId } from "./state";
import type { WebhookTarget } from "./webhooks";

/** An incoming request, body already read once (so it can be recorded and parsed). */
export interface EmuRequest {
  raw: Request;
  method: string;
  url: URL;
  /** Path below the provider prefix: "/login/oauth/authorize" for "/github/login/oauth/authorize". */
  path: string;
  headers: Headers;
  bodyText: string;
  body: ParsedBody;
  /** A body field, else a query parameter. */
  param(name: string): string | null;
}

export interface HandlerContext extends EmuRequest {
  state: EmulatorState;
  options: EmulatorOptions;
  limits: RateLimiter;
  /** A queued fault that changes behaviour rather than replacing the answer (deny, invalid_code, expired/revoked token). */
  fault?: Fault;
}

export interface Route {
  endpoint: Endpoint | null;
  /** A consent page (GET shows it, POST answers it): the only place a `deny` fault applies. */
  consent?: boolean;
  handle(ctx: HandlerContext): Response | Promise<Response>;
}

export type ReplacingFault = Extract<Fault, { kind: "oauth_error" | "http" | "rate_limited" | "malformed_json" }>;

/** One provider's part of the emulator: the five built-ins, or one registered at runtime. */
export interface ProviderModule {
  /** Also the URL prefix: requests to `{origin}/{provider}/…` are this part's. */
  provider: ProviderId;
  /** Shown on the index page. */
  label?: string;
  /** The bases an app is configured with (`*_WEB_URL`, `*_API_URL`), relative to `{origin}/{provider}`. */
  bases?: { web: string; api: string };
  /** Which route a request is; null when the path is none of this provider's. */
  route(request: EmuRequest): Route | null;
  notFound(request: EmuRequest): Response;
  /** The provider's own answer for a fault that replaces the normal response. */
  faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response;
  /** Forget state kept outside EmulatorState (called by emulator.reset()). */
  reset?(): void;
  /**
   * The signed webhook requests the provider sends when a user revokes the app (`revokeTokensOf`
   * with a webhook target set); none when the provider documents no such webhook.
   */
  revocationWebhooks?(input: {
    accountId: string;
    revoked: IssuedToken[];
    target: WebhookTarget;
    options: EmulatorOptions;
    now: number;
  }): Promise<{ event: string; request: Request }[]>;
}

/** What `registerProvider` / `createEmulator({ extraProviders })` take. */
export type ProviderPart = ProviderModule;

export function isReplacingFault(fault: Fault): fault is ReplacingFault {
  return fault.kind === "oauth_error" || fault.kind === "http" || fault.kind === "rate_limited" || fault.kind === "malformed_json";
}
