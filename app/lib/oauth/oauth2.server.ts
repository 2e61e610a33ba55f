/**
 * The only module that imports Arctic (deprecated upstream in July 2026 and pinned at 3.7.0),
 * so replacing it touches this file alone. Only `OAuth2Client` is used: the provider classes
 * hard-code production hosts and miss Slack OAuth v2, Linear/Notion refresh and GitHub PKCE.
 */
import {
  ArcticFetchError,
  CodeChallengeMethod,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
  generateCodeVerifier,
  generateState,
} from "arctic";
import { ProviderError } from "../providers/errors";
import { PROVIDER_TIMEOUT_MS, asString, errorKindForStatus, scrubSecrets } from "../providers/http.server";

export { generateCodeVerifier, generateState };

export interface OAuth2ClientOptions {
  clientId: string;
  /** null for a public client (PKCE only): Arctic then sends client_id in the body, no secret. */
  clientSecret: string | null;
  redirectUri: string;
}

function client(options: OAuth2ClientOptions) {
  return new OAuth2Client(options.clientId, options.clientSecret, options.redirectUri);
}

export function createAuthorizationUrl(
  options: OAuth2ClientOptions & {
    authorizeUrl: string;
    state: string;
    /** Already joined the way the provider wants (Arctic would join with spaces). */
    scope: string;
    codeVerifier: string | null;
    extraParams?: Record<string, string>;
  },
): URL {
  const scopes = options.scope ? [options.scope] : [];
  const url = options.codeVerifier
    ? client(options).createAuthorizationURLWithPKCE(
        options.authorizeUrl,
        options.state,
        CodeChallengeMethod.S256,
        options.codeVerifier,
        scopes,
      )
    : client(options).createAuthorizationURL(options.authorizeUrl, options.state, scopes);
  for (const [name, value] of Object.entries(options.extraParams ?? {})) url.searchParams.set(name, value);
  return url;
}

/** Exchanges a code; returns the raw token response for the provider module to interpret. */
export function exchangeAuthorizationCode(
  options: OAuth2ClientOptions & { tokenUrl: string; code: string; codeVerifier: string | null },
): Promise<Record<string, unknown>> {
  return withTimeout(async () => {
    const tokens = await client(options).validateAuthorizationCode(options.tokenUrl, options.code, options.codeVerifier);
    return tokens.data as Record<string, unknown>;
  }, [options.code, options.codeVerifier, options.clientSecret]);
}

export function refreshAccessToken(
  options: OAuth2ClientOptions & { tokenUrl: string; refreshToken: string },
): Promise<Record<string, unknown>> {
  return withTimeout(async () => {
    const tokens = await client(options).refreshAccessToken(options.tokenUrl, options.refreshToken, []);
    return tokens.data as Record<string, unknown>;
  }, [options.refreshToken, options.clientSecret]);
}

// Arctic's requests take no AbortSignal: bound them here so no token call hangs past the limit.
async function withTimeout<T>(call: () => Promise<T>, secrets: (string | null)[]): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderError("timeout", `No answer within ${PROVIDER_TIMEOUT_MS / 1000} seconds.`)),
      PROVIDER_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (error) {
    throw toProviderError(error, secrets);
  } finally {
    clearTimeout(timer);
  }
}

function toProviderError(error: unknown, secrets: (string | null)[]): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OAuth2RequestError) {
    const message = error.description ? `${error.code}: ${error.description}` : error.code;
    return new ProviderError(error.code === "invalid_client" ? "client_error" : "unauthorized", scrubSecrets(message, secrets), {
      code: error.code,
    });
  }
  if (error instanceof UnexpectedErrorResponseBodyError) {
    // Notion answers OAuth errors as {object:"error", status, code, message}, not RFC 6749's `error`.
    const data = (error.data ?? {}) as Record<string, unknown>;
    const code = asString(data.code) ?? asString(data.error);
    const description = asString(data.message) ?? asString(data.error_description);
    const message = [code, description].filter(Boolean).join(": ") || `HTTP ${error.status}`;
    const kind = code === "invalid_grant" ? "unauthorized" : errorKindForStatus(error.status);
    return new ProviderError(kind, scrubSecrets(message, secrets), { status: error.status, code });
  }
  if (error instanceof UnexpectedResponseError) {
    const status = error.status;
    if (status === 200 || status === 400 || status === 401) {
      return new ProviderError("malformed_response", `Answered HTTP ${status} with a body that is not JSON.`, { status });
    }
    return new ProviderError(errorKindForStatus(status), `Answered HTTP ${status}.`, { status });
  }
  if (error instanceof ArcticFetchError) return new ProviderError("network", "The provider could not be reached.");
  return new ProviderError("malformed_response", "The token response could not be read.");
}
