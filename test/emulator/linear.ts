import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { renderConsentPage, renderErrorPage } from "./consent-page";
import { EMULATOR_CLIENTS, LINEAR_ACCOUNTS } from "./fixtures";
import { appendParams, authorizationToken, json, malformedJson, rawHttpFault, randomHex, redirect, text } from "./http";
import { graphqlEndpoint, graphqlErrorResponse, isIssueLookup, isListQuery, isMutationRequest, peekRateHeaders } from "./linear-api";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint } from "./state";
import { buildLinearWebhookRequest, linearOAuthAppRevoked } from "./webhooks";

const CLIENT = EMULATOR_CLIENTS.linear;
const ACCESS_TOKEN_TTL_S = 86399;
const KNOWN_SCOPES = [
  "read",
  "write",
  "issues:create",
  "comments:create",
  "timeSchedule:write",
  "admin",
  "app:assignable",
  "app:mentionable",
];

const accountById = (id: string) => LINEAR_ACCOUNTS.find((account) => account.viewer.id === id);

function tokenError(status: number, error: string, description: string) {
  return json({ error, error_description: description }, status);
}

// ---------- authorize ----------

function authorize(ctx: HandlerContext): Response {
  const clientId = ctx.param("client_id");
  if (clientId !== CLIENT.clientId) return renderErrorPage("Linear", "Invalid OAuth request", "Invalid client_id.");
  const registered = redirectUriFor(ctx, "linear");
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri !== registered) {
    return renderErrorPage(
      "Linear",
      "Invalid OAuth request",
      "Invalid redirect_uri: it must match one of the application's callback URLs.",
    );
  }
  const state = ctx.param("state") ?? undefined;
  const fail = (error: string, description: string) => redirect(appendParams(registered, { error, error_description: description, state }));
  if (ctx.param("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
  const rawScope = ctx.param("scope") ?? "read";
  const requested = rawScope.split(/[\s,]+/).filter(Boolean);
  const unknown = requested.filter((scope) => !KNOWN_SCOPES.includes(scope) && !/^(customer|initiative):/.test(scope));
  if (unknown.length) return fail("invalid_scope", `Invalid scope: ${unknown.join(", ")}`);
  const actor = ctx.param("actor") ?? "user";
  if (actor !== "user" && actor !== "app") return fail("invalid_request", "actor must be user or app");
  if (actor === "app" && requested.includes("admin")) return fail("invalid_scope", "actor=app cannot request the admin scope");
  const challenge = ctx.param("code_challenge");
  const method = challenge ? (ctx.param("code_challenge_method") ?? "plain") : null;
  if (method !== null && method !== "S256" && method !== "plain")
    return fail("invalid_request", "code_challenge_method must be S256 or plain");

  const decision = consentDecision(ctx);
  if (decision.decided && !decision.approve) return redirect(appendParams(registered, { error: "access_denied", state }));
  if (decision.decided) {
    const account = accountById(decision.accountId ?? "") ?? LINEAR_ACCOUNTS[0];
    // `read` is always granted; the scope string is echoed with the delimiter the app used.
    const scopes = requested.includes("read") ? requested : ["read", ...requested];
    const delimiter = rawScope.includes(",") ? "," : " ";
    const code = issueCode(
      ctx,
      {
        provider: "linear",
        clientId,
        redirectUri,
        scopes,
        rawScope: scopes.join(delimiter),
        codeChallenge: challenge,
        codeChallengeMethod: method,
        accountId: account.viewer.id,
        extra: { actor },
      },
      () => randomHex(32),
    );
    return redirect(appendParams(registered, { code: code.code, state }));
  }

  const hidden: Record<string, string> = { client_id: clientId };
  for (const name of ["redirect_uri", "response_type", "scope", "state", "actor", "prompt", "code_challenge", "code_challenge_method"]) {
    const value = ctx.param(name);
    if (value !== null) hidden[name] = value;
  }
  return renderConsentPage({
    providerLabel: "Linear",
    action: ctx.url.pathname,
    scopeHeading: actor === "app" ? "Scopes (installed as an app)" : "Scopes",
    scopes: requested.includes("read") ? requested : ["read", ...requested],
    accounts: LINEAR_ACCOUNTS.map((account) => ({
      id: account.viewer.id,
      label: account.organization.name,
      detail: `${account.viewer.name} <${account.viewer.email}>`,
    })),
    hidden,
  });
}

// ---------- token, revoke ----------

function issueTokens(
  ctx: HandlerContext,
  input: { accountId: string; scopes: string[]; rawScope: string; grantId: string; extra: Record<string, string> },
) {
  const token = ctx.state.addToken({
    provider: "linear",
    clientId: CLIENT.clientId,
    accountId: input.accountId,
    accessToken: `lin_oauth_${randomHex(32)}`,
    refreshToken: `lin_refresh_${randomHex(32)}`,
    scopes: input.scopes,
    expiresAt: ctx.state.now() + ACCESS_TOKEN_TTL_S * 1000,
    grantId: input.grantId,
    kind: "default",
    extra: { ...input.extra, rawScope: input.rawScope },
  });
  return json({
    access_token: token.accessToken,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL_S,
    scope: input.rawScope,
    refresh_token: token.refreshToken,
  });
}

async function token(ctx: HandlerContext): Promise<Response> {
  if (ctx.body.kind !== "form") {
    return tokenError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  const credentials = clientCredentials(ctx, { basic: true, body: true });
  // RFC 6749 §5.2: a client that tried HTTP Basic gets 401, one that used the body 400.
  const invalidClient = () => tokenError(credentials.via === "basic" ? 401 : 400, "invalid_client", "Client authentication failed");
  if (credentials.id !== CLIENT.clientId) return invalidClient();
  if (credentials.secret !== null && credentials.secret !== CLIENT.clientSecret) return invalidClient();
  const grantType = ctx.param("grant_type");

  if (grantType === "refresh_token") {
    const old =
      ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken("linear", ctx.param("refresh_token"), CLIENT.clientId);
    // An unknown or used refresh token is invalid_grant whoever asks; only tokens obtained with
    // PKCE may then be refreshed without the secret.
    if (!old) return tokenError(400, "invalid_grant", "The refresh token is invalid or has been revoked");
    if (credentials.secret === null && old.extra.pkce !== "1") return invalidClient();
    old.refreshUsed = true;
    if (ctx.options.revokeAccessTokenOnRefresh.linear) old.revoked = true;
    return issueTokens(ctx, {
      accountId: old.accountId,
      scopes: old.scopes,
      rawScope: old.extra.rawScope ?? old.scopes.join(" "),
      grantId: old.grantId,
      extra: old.extra,
    });
  }
  if (grantType === "client_credentials") {
    // The one error body Linear documents, word for word.
    return tokenError(400, "Error", "Client does not support the client_credentials grant type");
  }
  if (grantType !== "authorization_code") {
    return tokenError(400, "unsupported_grant_type", `Unsupported grant type: ${grantType ?? "(none)"}`);
  }
  const redirectUri = ctx.param("redirect_uri");
  if (redirectUri === null) return tokenError(400, "invalid_request", "redirect_uri is required");
  const verifier = ctx.param("code_verifier");
  if (credentials.secret === null && verifier === null) return invalidClient();
  const result = await redeemCode(ctx, "linear", {
    code: ctx.param("code"),
    clientId: CLIENT.clientId,
    redirectUri,
    codeVerifier: verifier,
  });
  if (!result.ok) {
    const description = {
      unknown: "Invalid authorization code",
      used: "Authorization code has already been used",
      expired: "Authorization code has expired",
      client_mismatch: "Invalid authorization code",
      redirect_mismatch: "redirect_uri does not match the one used in the authorization request",
      pkce_missing: "code_verifier is required",
      pkce_mismatch: "code_verifier does not match the code_challenge",
    }[result.problem];
    return tokenError(400, "invalid_grant", description);
  }
  const { code } = result;
  return issueTokens(ctx, {
    accountId: code.accountId,
    scopes: code.scopes,
    rawScope: code.rawScope,
    grantId: newGrantId(),
    extra: { actor: code.extra.actor ?? "user", pkce: code.codeChallenge ? "1" : "0" },
  });
}

/** Bearer access token, or a form `access_token` / `refresh_token` (not RFC 7009's `token`). */
function revoke(ctx: HandlerContext) {
  const bearer = authorizationToken(ctx.headers);
  const accessField = ctx.body.fields.get("access_token") ?? null;
  const refreshField = ctx.body.fields.get("refresh_token") ?? null;
  const value = bearer ?? accessField ?? refreshField;
  if (!value) return tokenError(400, "invalid_request", "No token provided");
  const token = ctx.state.tokens.find(
    (t) => t.provider === "linear" && (t.accessToken === value || (bearer === null && t.refreshToken === value)),
  );
  if (!token)
    return bearer
      ? tokenError(401, "invalid_token", "Could not authenticate with the token")
      : tokenError(400, "invalid_request", "Could not revoke the token");
  if (token.revoked || ctx.fault?.kind === "revoked_token") return tokenError(400, "invalid_request", "Token has already been revoked");
  ctx.state.revokeGrant(token.grantId);
  return new Response(null, { status: 200 });
}

// ---------- webhooks ----------

/** The app was revoked from the workspace: Linear's `OAuthApp` webhook with action `revoked`. */
async function revocationWebhooks(input: Parameters<NonNullable<ProviderModule["revocationWebhooks"]>>[0]) {
  const account = accountById(input.accountId);
  if (!account) return [];
  const payload = linearOAuthAppRevoked({ organizationId: account.organization.id, oauthClientId: CLIENT.clientId, nowMs: input.now });
  return [
    { event: "OAuthApp", request: await buildLinearWebhookRequest(input.target.url, input.target.secret, payload, { nowMs: input.now }) },
  ];
}

// ---------- routing and faults ----------

function graphqlEndpointKind(request: EmuRequest): Endpoint {
  const body = request.body.json as { query?: unknown; operationName?: unknown } | undefined;
  if (isMutationRequest(body?.query, body?.operationName)) return "deliver";
  if (isIssueLookup(body?.query)) return "lookup";
  if (isListQuery(body?.query)) return "list";
  return "identity";
}

function route(request: EmuRequest): Route | null {
  const { method, path } = request;
  if (path === "/oauth/authorize" && (method === "GET" || method === "POST")) {
    return { endpoint: "authorize", consent: true, handle: authorize };
  }
  if (method !== "POST") return null;
  if (path === "/api/oauth/token") {
    return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: token };
  }
  if (path === "/api/oauth/revoke") return { endpoint: "revoke", handle: revoke };
  if (path === "/api/graphql") return { endpoint: graphqlEndpointKind(request), handle: graphqlEndpoint };
  return null;
}

function notFound(request: EmuRequest) {
  if (request.path.startsWith("/api/")) return text("Not Found", 404);
  return renderErrorPage("Linear", "Page not found", "This page does not exist.", 404);
}

function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
  const isGraphql = ctx.path === "/api/graphql";
  switch (fault.kind) {
    case "http":
      return rawHttpFault(fault);
    case "malformed_json":
      return malformedJson(isGraphql ? '{"data":{"viewer":{"id":"' : '{"access_token":"lin_oauth_');
    case "oauth_error":
      if (endpoint === "authorize") {
        return redirect(
          appendParams(redirectUriFor(ctx, "linear"), {
            error: fault.code,
            error_description: fault.description,
            state: ctx.param("state") ?? undefined,
          }),
        );
      }
      if (isGraphql) {
        return graphqlErrorResponse(400, [
          {
            message: fault.description ?? fault.code,
            type: fault.code.toLowerCase().replaceAll("_", " "),
            code: fault.code,
            statusCode: 400,
          },
        ]);
      }
      return tokenError(400, fault.code, fault.description ?? fault.code);
    case "rate_limited": {
      const retry: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
      if (!isGraphql) return text("Too many requests\n", 429, { "Retry-After": String(fault.retryAfterSeconds ?? 60) });
      // Reported both as HTTP 200 (older docs) and 400 with statusCode 429 (2026); default to the newer.
      return graphqlErrorResponse(
        fault.status ?? ctx.options.linearRateLimitedStatus,
        [
          {
            message: "Rate limit exceeded",
            type: "ratelimited",
            code: "RATELIMITED",
            statusCode: 429,
            userPresentableMessage: "You have exceeded the rate limit. Please try again later.",
          },
        ],
        { ...peekRateHeaders(ctx, 0), ...retry },
      );
    }
  }
}

export const linear: ProviderModule = {
  provider: "linear",
  label: "Linear",
  bases: { web: "", api: "/api" },
  route,
  notFound,
  faultResponse,
  revocationWebhooks,
};
