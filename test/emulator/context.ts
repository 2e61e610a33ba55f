import type { ParsedBody } from "./http";
import type { EmulatorOptions, EmulatorState, Endpoint, Fault, Provider } from "./state";

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

export interface ProviderModule {
  provider: Provider;
  /** Which route a request is; null when the path is none of this provider's. */
  route(request: EmuRequest): Route | null;
  notFound(request: EmuRequest): Response;
  /** The provider's own answer for a fault that replaces the normal response. */
  faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response;
}

export function isReplacingFault(fault: Fault): fault is ReplacingFault {
  return fault.kind === "oauth_error" || fault.kind === "http" || fault.kind === "rate_limited" || fault.kind === "malformed_json";
}
