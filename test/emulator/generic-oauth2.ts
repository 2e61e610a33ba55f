// A small, standards-only OAuth 2.0 provider, for proving that a sixth provider is "one app module
// + one registry line + its emulator part". Mount it under any prefix:
//
//   const acme = createGenericOAuth2Part({ id: "acme", clientId: "acme-client", clientSecret: "acme-secret" });
//   const emu = createEmulator({ extraProviders: [acme] });   // or emu.registerProvider(acme)
//
// Endpoints, under {origin}/{id}:
//   GET|POST /oauth/authorize  authorization code (RFC 6749 §4.1) with PKCE S256 (RFC 7636), consent page
//   POST     /oauth/token      authorization_code (code_verifier required) and refresh_token (rotated:
//                              each refresh token works once; reusing a spent one revokes the grant)
//   POST     /oauth/revoke     RFC 7009: token (+ token_type_hint); 200 even for unknown tokens
//   GET      /me               the account behind a Bearer token (RFC 6750 errors)
//   POST     /items            JSON {title, body?} → 201 {id, url, title, body, created_at}; needs scope items:write
// Client authentication: HTTP Basic (client_secret_basic) or client_id/client_secret in the form body.
import { renderConsentPage, renderErrorPage } from "./consent-page";
import type { EmuRequest, HandlerContext, ProviderModule, ReplacingFault, Route } from "./context";
import { appendParams, json, malformedJson, randomBase62, rawHttpFault, redirect, splitScopes } from "./http";
import { clientCredentials, consentDecision, issueCode, newGrantId, redeemCode, redirectUriFor } from "./oauth2";
import type { Endpoint, IssuedToken } from "./state";

export interface GenericOAuth2Account {
  id: string;
  name: string;
  email: string;
}

export interface GenericOAuth2Config {
  /** Provider id and URL prefix: a lowercase URL segment not used by another part. */
  id: string;
  label?: string;
  clientId: string;
  clientSecret: string;
  /** Accounts offered on the consent page; default two. */
  accounts?: GenericOAuth2Account[];
  /** Scopes the provider knows; others are invalid_scope. Default ["profile", "items:write"]. */
  scopes?: string[];
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 30 days. */
  refreshTokenTtlSeconds?: number;
}

export interface GenericOAuth2Part extends ProviderModule {
  readonly config: Required<GenericOAuth2Config>;
  /** Items created through POST /items, in order. */
  items(ctx: Pick<HandlerContext, "state">): GenericItem[];
}

export interface GenericItem {
  id: string;
  url: string;
  title: string;
  body: string | null;
  accountId: string;
  created_at: string;
}

export function createGenericOAuth2Part(input: GenericOAuth2Config): GenericOAuth2Part {
  const config: Required<GenericOAuth2Config> = {
    label: input.id,
    accounts: [
      { id: "acct-1", name: "Ada Example", email: "ada@example.emu" },
      { id: "acct-2", name: "Grace Example", email: "grace@example.emu" },
    ],
    scopes: ["profile", "items:write"],
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 30 * 86_400,
    ...input,
  };
  const provider = config.id;
  const itemsOf = (ctx: Pick<HandlerContext, "state">) => ctx.state.collection<GenericItem>(`${provider}:items`);
  const oauthError = (status: number, error: string, description: string, headers: HeadersInit = {}) =>
    json({ error, error_description: description }, status, { "Cache-Control": "no-store", ...headers });

  function authorize(ctx: HandlerContext): Response {
    const clientId = ctx.param("client_id");
    if (clientId !== config.clientId) return renderErrorPage(config.label, "Unknown client", "invalid client_id");
    const registered = redirectUriFor(ctx, provider);
    const redirectUri = ctx.param("redirect_uri") ?? registered;
    // RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI.
    if (redirectUri !== registered) return renderErrorPage(config.label, "Invalid redirect_uri", "redirect_uri is not registered");
    const state = ctx.param("state") ?? undefined;
    const fail = (error: string, description: string) =>
      redirect(appendParams(redirectUri, { error, error_description: description, state }));
    if (ctx.param("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
    const scopes = splitScopes(ctx.param("scope"));
    const unknown = scopes.filter((scope) => !config.scopes.includes(scope));
    if (unknown.length) return fail("invalid_scope", `unknown scope: ${unknown.join(" ")}`);
    const challenge = ctx.param("code_challenge");
    if (!challenge) return fail("invalid_request", "code_challenge is required (PKCE)");
    if (ctx.param("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
    const decision = consentDecision(ctx);
    if (decision.decided && !decision.approve) return fail("access_denied", "The user denied the request");
    if (decision.decided) {
      const account = config.accounts.find((candidate) => candidate.id === decision.accountId) ?? config.accounts[0]!;
      const code = issueCode(ctx, {
        provider,
        clientId,
        redirectUri,
        scopes,
        rawScope: scopes.join(" "),
        codeChallenge: challenge,
        codeChallengeMethod: "S256",
        accountId: account.id,
      });
      return redirect(appendParams(redirectUri, { code: code.code, state }));
    }
    const hidden: Record<string, string> = {};
    for (const name of ["client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"]) {
      const value = ctx.param(name);
      if (value !== null) hidden[name] = value;
    }
    return renderConsentPage({
      providerLabel: config.label,
      action: ctx.url.pathname,
      scopeHeading: "Scopes",
      scopes,
      accounts: config.accounts.map((account) => ({ id: account.id, label: account.name, detail: account.email })),
      hidden,
    });
  }

  function issue(ctx: HandlerContext, accountId: string, scopes: string[], grantId: string) {
    const now = ctx.state.now();
    const token = ctx.state.addToken({
      provider,
      clientId: config.clientId,
      accountId,
      accessToken: `${provider}_at_${randomBase62(32)}`,
      refreshToken: `${provider}_rt_${randomBase62(40)}`,
      scopes,
      expiresAt: now + config.accessTokenTtlSeconds * 1000,
      refreshExpiresAt: now + config.refreshTokenTtlSeconds * 1000,
      grantId,
      kind: "default",
      extra: {},
    });
    return json(
      {
        access_token: token.accessToken,
        token_type: "Bearer",
        expires_in: config.accessTokenTtlSeconds,
        refresh_token: token.refreshToken,
        scope: scopes.join(" "),
      },
      200,
      { "Cache-Control": "no-store" },
    );
  }

  function authenticateClient(ctx: HandlerContext): Response | null {
    const credentials = clientCredentials(ctx, { basic: true, body: true });
    if (credentials.id === config.clientId && credentials.secret === config.clientSecret) return null;
    // RFC 6749 §5.2: 401 with WWW-Authenticate when the client tried HTTP Basic.
    return credentials.via === "basic"
      ? oauthError(401, "invalid_client", "Client authentication failed", { "WWW-Authenticate": `Basic realm="${provider}"` })
      : oauthError(400, "invalid_client", "Client authentication failed");
  }

  async function token(ctx: HandlerContext): Promise<Response> {
    if (ctx.body.kind !== "form") return oauthError(400, "invalid_request", "Use application/x-www-form-urlencoded");
    const refused = authenticateClient(ctx);
    if (refused) return refused;
    const grantType = ctx.param("grant_type");
    if (grantType === "refresh_token") {
      const value = ctx.param("refresh_token");
      const known = ctx.state.tokens.find((candidate) => candidate.provider === provider && candidate.refreshToken === value);
      if (known?.refreshUsed && !known.revoked) {
        // A spent refresh token came back: someone else may hold it, so the whole grant dies.
        ctx.state.revokeGrant(known.grantId);
      }
      const old = ctx.fault?.kind === "invalid_code" ? undefined : ctx.state.usableRefreshToken(provider, value, config.clientId);
      if (!old) return oauthError(400, "invalid_grant", "The refresh token is invalid, expired, revoked or already used");
      const requested = splitScopes(ctx.param("scope"));
      if (requested.some((scope) => !old.scopes.includes(scope)))
        return oauthError(400, "invalid_scope", "A refresh cannot widen the grant");
      old.refreshUsed = true;
      return issue(ctx, old.accountId, requested.length ? requested : old.scopes, old.grantId);
    }
    if (grantType !== "authorization_code")
      return oauthError(400, "unsupported_grant_type", `Unsupported grant_type ${grantType ?? "(none)"}`);
    const result = await redeemCode(ctx, provider, {
      code: ctx.param("code"),
      clientId: config.clientId,
      redirectUri: ctx.param("redirect_uri"),
      codeVerifier: ctx.param("code_verifier"),
    });
    if (!result.ok) return oauthError(400, "invalid_grant", `The authorization code is invalid (${result.problem})`);
    return issue(ctx, result.code.accountId, result.code.scopes, newGrantId());
  }

  function revoke(ctx: HandlerContext) {
    const refused = authenticateClient(ctx);
    if (refused) return refused;
    const value = ctx.param("token");
    if (!value) return oauthError(400, "invalid_request", "token is required");
    const hint = ctx.param("token_type_hint");
    if (hint !== null && hint !== "access_token" && hint !== "refresh_token")
      return oauthError(400, "unsupported_token_type", `Unsupported token_type_hint ${hint}`);
    const found = ctx.state.tokens.find(
      (candidate) => candidate.provider === provider && (candidate.accessToken === value || candidate.refreshToken === value),
    );
    if (found) {
      // Revoking a refresh token ends its grant; an access token ends alone (RFC 7009 §2.1).
      if (found.refreshToken === value) ctx.state.revokeGrant(found.grantId);
      else found.revoked = true;
    }
    return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
  }

  function bearer(
    ctx: HandlerContext,
  ): { ok: true; token: IssuedToken; account: GenericOAuth2Account } | { ok: false; response: Response } {
    const header = ctx.headers.get("Authorization") ?? "";
    const value = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!value)
      return { ok: false, response: new Response(null, { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${provider}"` } }) };
    const check = ctx.state.checkAccessToken(provider, value, ctx.fault);
    if (!check.ok) {
      const description = check.problem === "expired" ? "The access token expired" : "The access token is invalid or revoked";
      return {
        ok: false,
        response: json({ error: "invalid_token", error_description: description }, 401, {
          "WWW-Authenticate": `Bearer realm="${provider}", error="invalid_token", error_description="${description}"`,
        }),
      };
    }
    return { ok: true, token: check.token, account: config.accounts.find((account) => account.id === check.token.accountId)! };
  }

  function me(ctx: HandlerContext) {
    const auth = bearer(ctx);
    if (!auth.ok) return auth.response;
    return json({ id: auth.account.id, name: auth.account.name, email: auth.token.scopes.includes("profile") ? auth.account.email : null });
  }

  function createItem(ctx: HandlerContext) {
    const auth = bearer(ctx);
    if (!auth.ok) return auth.response;
    if (!auth.token.scopes.includes("items:write")) {
      return json({ error: "insufficient_scope", error_description: "items:write is required" }, 403, {
        "WWW-Authenticate": `Bearer realm="${provider}", error="insufficient_scope", scope="items:write"`,
      });
    }
    const body = ctx.body.json as Record<string, unknown> | undefined;
    if (ctx.body.invalidJson || !body || typeof body !== "object" || Array.isArray(body))
      return json({ error: "invalid_request", error_description: "Send a JSON object" }, 400);
    if (typeof body.title !== "string" || body.title.trim() === "")
      return json({ error: "invalid_request", error_description: "title is required" }, 422);
    const id = `item_${ctx.state.next(`${provider}:item-ids`)}`;
    const item: GenericItem = {
      id,
      url: `${ctx.options.origin}/${provider}/items/${id}`,
      title: body.title,
      body: typeof body.body === "string" ? body.body : null,
      accountId: auth.account.id,
      created_at: new Date(ctx.state.now()).toISOString(),
    };
    itemsOf(ctx).push(item);
    ctx.state.created.push({ provider, kind: "item", id, url: item.url, accountId: auth.account.id, payload: body, at: ctx.state.now() });
    return json(item, 201, { Location: item.url });
  }

  function route(request: EmuRequest): Route | null {
    const { method, path } = request;
    if (path === "/oauth/authorize" && (method === "GET" || method === "POST"))
      return { endpoint: "authorize", consent: true, handle: authorize };
    if (path === "/oauth/token" && method === "POST")
      return { endpoint: request.param("grant_type") === "refresh_token" ? "refresh" : "token", handle: token };
    if (path === "/oauth/revoke" && method === "POST") return { endpoint: "revoke", handle: revoke };
    if (path === "/me" && method === "GET") return { endpoint: "identity", handle: me };
    if (path === "/items" && method === "POST") return { endpoint: "deliver", handle: createItem };
    return null;
  }

  function faultResponse(fault: ReplacingFault, ctx: HandlerContext, endpoint: Endpoint): Response {
    switch (fault.kind) {
      case "http":
        return rawHttpFault(fault);
      case "malformed_json":
        return malformedJson('{"access_token":"');
      case "oauth_error":
        if (endpoint === "authorize")
          return redirect(
            appendParams(redirectUriFor(ctx, provider), {
              error: fault.code,
              error_description: fault.description,
              state: ctx.param("state") ?? undefined,
            }),
          );
        return oauthError(400, fault.code, fault.description ?? fault.code);
      case "rate_limited":
        return json({ error: "rate_limited", error_description: "Too many requests" }, 429, {
          "Retry-After": String(fault.retryAfterSeconds ?? 1),
        });
    }
  }

  return {
    provider,
    label: config.label,
    bases: { web: "", api: "" },
    config,
    route,
    notFound: () => json({ error: "not_found" }, 404),
    faultResponse,
    items: itemsOf,
  };
}
