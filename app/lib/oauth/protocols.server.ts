import { ProviderError } from "../providers/errors";
import { asString, scrubSecrets, tokenSetFrom } from "../providers/http.server";
import {
  endpointUrl,
  type OAuth1Declaration,
  type OAuth2Declaration,
  type OAuthDeclaration,
  type ProviderContext,
  type TokenSet,
} from "../providers/types";
import { exchangeVerifier, fetchRequestToken } from "./oauth1.server";
import {
  createAuthorizationUrl,
  exchangeAuthorizationCode,
  generateCodeVerifier,
  generateState,
  refreshAccessToken,
} from "./oauth2.server";

/**
 * What an authorization protocol does for a flow, whichever provider declared it: send the user
 * to the consent page, recognise the callback, and turn it into tokens. The flow code calls
 * these and never asks which protocol (or provider) it is talking to.
 */
export interface Started {
  /** Where to send the user. */
  url: string;
  /** The value the provider echoes on the callback; the flow is stored under its hash. */
  correlation: string;
  /** Values the callback needs back (PKCE verifier, OAuth 1.0a request token); stored encrypted. */
  secrets: Record<string, string>;
}

export type CallbackVerdict = { kind: "approved" } | { kind: "denied" } | { kind: "refused"; message: string };

interface Protocol<D extends OAuthDeclaration> {
  start(context: ProviderContext, declaration: D, callback: string): Promise<Started>;
  /** The correlation value in the callback's query, or null when it is missing. */
  correlation(params: URLSearchParams): string | null;
  verdict(params: URLSearchParams): CallbackVerdict;
  finish(
    context: ProviderContext,
    declaration: D,
    params: URLSearchParams,
    secrets: Record<string, string>,
    callback: string,
  ): Promise<TokenSet>;
}

// RFC 6749 errors that mean our client registration is wrong, not the user's grant.
const CLIENT_ERRORS = new Set([
  "invalid_client",
  "incorrect_client_credentials",
  "bad_client_secret",
  "invalid_client_id",
  "unauthorized_client",
]);

/**
 * A token endpoint answer → tokens. Some providers hide errors in HTTP 200 bodies: GitHub with
 * RFC 6749's `error`, Slack with `{ok: false, error}` (declared by `tokenResponseOkFlag`).
 */
function readTokenResponse(declaration: OAuth2Declaration, data: Record<string, unknown>, secrets: (string | null)[]): TokenSet {
  const failed = declaration.tokenResponseOkFlag ? data.ok !== true : typeof data.error === "string";
  if (failed) {
    const code = asString(data.error) ?? "unknown_error";
    const description = asString(data.error_description);
    throw new ProviderError(
      CLIENT_ERRORS.has(code) ? "client_error" : "unauthorized",
      scrubSecrets(description ? `${code}: ${description}` : code, secrets),
      { code },
    );
  }
  return tokenSetFrom(data, Date.now());
}

function clientOptions(context: ProviderContext, declaration: OAuth2Declaration, redirectUri: string) {
  return {
    clientId: context.credentials.clientId,
    clientSecret: declaration.clientAuthentication === "basic" ? context.credentials.clientSecret : null,
    redirectUri,
  };
}

const oauth2: Protocol<OAuth2Declaration> = {
  start(context, declaration, callback) {
    const state = generateState();
    const codeVerifier = declaration.pkce ? generateCodeVerifier() : null;
    const url = createAuthorizationUrl({
      ...clientOptions(context, declaration, callback),
      authorizeUrl: endpointUrl(declaration.authorizeUrl, context.endpoints),
      state,
      scope: declaration.scopes.join(declaration.scopeSeparator),
      codeVerifier,
      extraParams: declaration.authorizeParams,
    });
    const secrets: Record<string, string> = codeVerifier ? { code_verifier: codeVerifier } : {};
    return Promise.resolve({ url: url.toString(), correlation: state, secrets });
  },
  correlation: (params) => params.get("state"),
  verdict(params) {
    const error = params.get("error");
    if (!error) return { kind: "approved" };
    if (error === "access_denied") return { kind: "denied" };
    const description = params.get("error_description");
    return { kind: "refused", message: description ? `${error}: ${description}` : error };
  },
  async finish(context, declaration, params, secrets, callback) {
    const code = params.get("code");
    if (!code || code.length > 2000) throw new ProviderError("malformed_response", "The authorization response has no code.");
    const data = await exchangeAuthorizationCode({
      ...clientOptions(context, declaration, callback),
      tokenUrl: endpointUrl(declaration.tokenUrl, context.endpoints),
      code,
      codeVerifier: secrets.code_verifier ?? null,
    });
    return readTokenResponse(declaration, data, [code, context.credentials.clientSecret]);
  },
};

const oauth1: Protocol<OAuth1Declaration> = {
  async start(context, declaration, callback) {
    const request = await fetchRequestToken(context, endpointUrl(declaration.requestTokenUrl, context.endpoints), callback);
    const url = new URL(endpointUrl(declaration.authorizeUrl, context.endpoints));
    url.searchParams.set("oauth_token", request.token);
    for (const [name, value] of Object.entries(declaration.authorizeParams)) url.searchParams.set(name, value);
    return {
      url: url.toString(),
      correlation: request.token,
      secrets: { request_token: request.token, request_token_secret: request.secret },
    };
  },
  correlation: (params) => params.get("oauth_token"),
  // RFC 5849 has no error parameter: a callback without a verifier is a refusal.
  verdict: (params) => (params.get("oauth_verifier") ? { kind: "approved" } : { kind: "denied" }),
  async finish(context, declaration, params, secrets) {
    const access = await exchangeVerifier(context, endpointUrl(declaration.accessTokenUrl, context.endpoints), {
      token: secrets.request_token ?? "",
      secret: secrets.request_token_secret ?? "",
      verifier: params.get("oauth_verifier") ?? "",
    });
    return {
      accessToken: access.token,
      refreshToken: null,
      tokenSecret: access.secret,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
      scopes: declaration.scopes,
    };
  },
};

const PROTOCOLS = { oauth2, oauth1 } as const;

/** The protocol a provider declared. */
export function protocolOf<D extends OAuthDeclaration>(declaration: D): Protocol<D> {
  return PROTOCOLS[declaration.protocol] as unknown as Protocol<D>;
}

/** A refresh-token grant (OAuth 2 only; the vault checks the protocol first). */
export async function refreshTokens(context: ProviderContext, declaration: OAuth2Declaration, refreshToken: string): Promise<TokenSet> {
  const data = await refreshAccessToken({
    ...clientOptions(context, declaration, ""),
    tokenUrl: endpointUrl(declaration.tokenUrl, context.endpoints),
    refreshToken,
  });
  return readTokenResponse(declaration, data, [refreshToken, context.credentials.clientSecret]);
}
