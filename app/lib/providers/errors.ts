export type ProviderErrorKind =
  | "unauthorized" // the token is revoked, invalid or belongs to a removed app
  | "token_expired" // the provider says the token expired
  | "rate_limited"
  | "client_error" // any other 4xx: a configuration or permission problem
  | "server_error" // 5xx
  | "timeout"
  | "network"
  | "malformed_response";

export interface ProviderErrorDetails {
  status?: number;
  code?: string;
  retryAfterSeconds?: number;
}

/** A provider answered with an error. `message` is the provider's own wording, scrubbed of secrets. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    public readonly kind: ProviderErrorKind,
    message: string,
    public readonly details: ProviderErrorDetails = {},
  ) {
    super(message);
  }
}

/** "HTTP 502: Bad Gateway": the status (when known) and the provider's own words, once each. */
export function describeProviderError(error: ProviderError): string {
  const status = error.details.status;
  // An error inside a 200 answer (Slack's ok:false, Linear's GraphQL errors) is its own words.
  if (!status || status < 300 || error.message.startsWith("HTTP ")) return error.message;
  return `HTTP ${status}: ${error.message}`;
}

/** The token itself was refused: only a refresh or a re-authorization can help. */
export function isAuthFailure(error: ProviderError): boolean {
  return error.kind === "unauthorized" || error.kind === "token_expired";
}

/** Worth trying again later: the provider was busy, down, slow or garbled its answer. */
export function isTransient(error: ProviderError): boolean {
  return (
    error.kind === "rate_limited" ||
    error.kind === "server_error" ||
    error.kind === "timeout" ||
    error.kind === "network" ||
    error.kind === "malformed_response"
  );
}
