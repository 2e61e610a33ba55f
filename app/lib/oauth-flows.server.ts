import type { RequestContext } from "./context.server";
import type { AppConfig } from "./config.server";
import { redirectUri } from "./config.server";
import { createConnection, getConnection, prepareTokenReplacement, providerContext } from "./connections.server";
import { randomToken, sha256Hex } from "./crypto.server";
import { runBatch, type OAuthFlowRow } from "./db.server";
import { oauth1AuthorizationHeader } from "./oauth1.server";
import { createAuthorizationUrl, exchangeAuthorizationCode, generateCodeVerifier, generateState } from "./oauth2-client.server";
import { providerFetch, readBodyText, scrubSecrets } from "./providers/http.server";
import { getProvider } from "./providers/registry";
import { ProviderError, describeProviderError, type AccountIdentity, type OAuth1Details, type ProviderContext, type ProviderId, type TokenSet } from "./providers/types";
import { decryptToken, encryptToken, type KeyRing } from "./token-crypto.server";

export const FLOW_TTL_MS = 10 * 60 * 1000;
export const MAX_FLOWS_PER_USER_PER_WINDOW = 20;
const PENDING_REAUTHORIZATION_TTL_MS = 15 * 60 * 1000;

export interface FlowActor {
  workspaceId: string;
  userId: string;
  sessionId: string;
}

export type StartFlowInput =
  | { provider: ProviderId; purpose: "new"; connectionName: string }
  | { provider: ProviderId; purpose: "reauthorize"; connectionId: string };

export type StartFlowResult =
  | { ok: true; url: string }
  | { ok: false; reason: "not_configured" | "rate_limited" }
  | { ok: false; reason: "provider_error"; message: string };

/** Starting an authorization: a POST that records a single-use flow and returns where to send the user. */
export async function startAuthorization(
  context: RequestContext,
  config: AppConfig,
  ring: KeyRing,
  actor: FlowActor,
  input: StartFlowInput,
): Promise<StartFlowResult> {
  const provider = getProvider(input.provider);
  const providerCtx = providerContext(config, input.provider);
  if (!providerCtx || !config.appUrl) return { ok: false, reason: "not_configured" };

  const now = Date.now();
  const recent = await context.db
    .selectFrom("oauth_flows")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", actor.userId)
    .where("created_at", ">", now - FLOW_TTL_MS)
    .executeTakeFirstOrThrow();
  if (Number(recent.n) >= MAX_FLOWS_PER_USER_PER_WINDOW) return { ok: false, reason: "rate_limited" };

  const state = generateState();
  const flowId = await sha256Hex(state);
  const seal = (value: string, field: string) => encryptToken(ring, value, { workspaceId: actor.workspaceId, recordId: flowId, field });
  const base = {
    id: flowId,
    provider: input.provider,
    purpose: input.purpose,
    workspace_id: actor.workspaceId,
    user_id: actor.userId,
    session_id: actor.sessionId,
    connection_id: input.purpose === "reauthorize" ? input.connectionId : null,
    connection_name: input.purpose === "new" ? input.connectionName : null,
    created_at: now,
    expires_at: now + FLOW_TTL_MS,
    used_at: null,
  };
  const callback = redirectUri(config, input.provider);

  if (provider.oauth.protocol === "oauth1") {
    let requestToken: { token: string; secret: string };
    try {
      requestToken = await fetchRequestToken(providerCtx, provider.oauth, callback);
    } catch (error) {
      if (error instanceof ProviderError) return { ok: false, reason: "provider_error", message: `${provider.name}: ${describeProviderError(error)}` };
      throw error;
    }
    await context.db
      .insertInto("oauth_flows")
      .values({
        ...base,
        code_verifier_ct: null,
        request_token: requestToken.token,
        request_token_secret_ct: await seal(requestToken.secret, "request_token_secret"),
      })
      .execute();
    const url = new URL(provider.oauth.authorizeUrl(providerCtx.endpoints));
    url.searchParams.set("oauth_token", requestToken.token);
    url.searchParams.set("name", "SpokeDo");
    url.searchParams.set("scope", provider.oauth.scope);
    url.searchParams.set("expiration", provider.oauth.expiration);
    return { ok: true, url: url.toString() };
  }

  const codeVerifier = provider.oauth.pkce ? generateCodeVerifier() : null;
  await context.db
    .insertInto("oauth_flows")
    .values({
      ...base,
      code_verifier_ct: codeVerifier ? await seal(codeVerifier, "code_verifier") : null,
      request_token: null,
      request_token_secret_ct: null,
    })
    .execute();
  const url = createAuthorizationUrl({
    clientId: providerCtx.credentials.clientId,
    clientSecret: provider.oauth.clientAuthentication === "basic" ? providerCtx.credentials.clientSecret : null,
    redirectUri: callback,
    authorizeUrl: provider.oauth.authorizeUrl(providerCtx.endpoints),
    state,
    scopes: provider.oauth.scopes,
    codeVerifier,
    extraParams: provider.oauth.extraAuthorizeParams,
  });
  return { ok: true, url: url.toString() };
}

/** A POST signed with the app's consumer key (and the request token, once there is one). */
async function signedOAuth1Post(context: ProviderContext, url: string, signing: { token?: string; tokenSecret?: string; oauthParams: Record<string, string> }) {
  const authorization = await oauth1AuthorizationHeader({
    method: "POST",
    url,
    consumerKey: context.credentials.clientId,
    consumerSecret: context.credentials.clientSecret,
    ...signing,
  });
  return providerFetch(context, url, { method: "POST", headers: { Authorization: authorization } });
}

async function fetchRequestToken(context: ProviderContext, oauth: OAuth1Details, callback: string) {
  const response = await signedOAuth1Post(context, oauth.requestTokenUrl(context.endpoints), { oauthParams: { oauth_callback: callback } });
  const body = new URLSearchParams(await readBodyText(response));
  const token = body.get("oauth_token");
  const secret = body.get("oauth_token_secret");
  if (!response.ok || !token || !secret) {
    throw new ProviderError(response.ok ? "malformed_response" : response.status >= 500 ? "server_error" : "client_error", `request token refused (HTTP ${response.status})`, {
      status: response.status,
    });
  }
  return { token, secret };
}

export type CallbackResult =
  | { kind: "invalid"; message: string }
  | { kind: "denied"; flow: OAuthFlowRow; message: string }
  | { kind: "failed"; flow: OAuthFlowRow; message: string }
  | { kind: "created"; flow: OAuthFlowRow; connectionId: string }
  | { kind: "reauthorized"; flow: OAuthFlowRow; connectionId: string }
  | { kind: "needs_confirmation"; flow: OAuthFlowRow; connectionId: string };

/**
 * The provider sent the user back. Every check on the pending flow happens before any request
 * to the provider: an unknown, expired, reused or foreign `state`, or a callback on another
 * provider's path, never reaches the token endpoint.
 */
export async function completeAuthorization(
  context: RequestContext,
  config: AppConfig,
  ring: KeyRing,
  actor: FlowActor,
  provider: ProviderId,
  params: URLSearchParams,
): Promise<CallbackResult> {
  const module = getProvider(provider);
  const invalid = (message: string): CallbackResult => ({ kind: "invalid", message });
  const now = Date.now();

  let flow: OAuthFlowRow | undefined;
  if (module.oauth.protocol === "oauth1") {
    const requestToken = params.get("oauth_token");
    if (!requestToken || requestToken.length > 200) return invalid("The authorization response is missing its token.");
    flow = await context.db.selectFrom("oauth_flows").selectAll().where("request_token", "=", requestToken).executeTakeFirst();
  } else {
    const state = params.get("state");
    if (!state || state.length > 200) return invalid("The authorization response is missing its state.");
    flow = await context.db.selectFrom("oauth_flows").selectAll().where("id", "=", await sha256Hex(state)).executeTakeFirst();
  }
  if (!flow) return invalid("This authorization is unknown. Start again from SpokeDo.");
  if (flow.provider !== provider) return invalid("This authorization was started for another provider.");
  if (flow.session_id !== actor.sessionId || flow.user_id !== actor.userId) return invalid("This authorization was started in another session.");
  if (flow.workspace_id !== actor.workspaceId) return invalid("This authorization was started in another workspace. Switch back to it and start again.");
  if (flow.used_at !== null) return invalid("This authorization was already used. Start again from SpokeDo.");
  if (flow.expires_at <= now) return invalid("This authorization expired after 10 minutes. Start again.");

  // Single use, atomically: only one request can flip used_at.
  const claimed = await context.db
    .updateTable("oauth_flows")
    .set({ used_at: now })
    .where("id", "=", flow.id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return invalid("This authorization was already used. Start again from SpokeDo.");

  const providerCtx = providerContext(config, provider);
  if (!providerCtx) return { kind: "failed", flow, message: `${module.name} is not configured on this server.` };

  const error = params.get("error");
  if (error || (module.oauth.protocol === "oauth1" && !params.get("oauth_verifier"))) {
    const description = params.get("error_description");
    const denied = !error || error === "access_denied";
    const message = denied
      ? `You cancelled the authorization at ${module.name}. Nothing was changed.`
      : `${module.name} refused the authorization: ${scrubSecrets(description ? `${error}: ${description}` : error!).slice(0, 300)}`;
    return denied ? { kind: "denied", flow, message } : { kind: "failed", flow, message };
  }

  let tokens: TokenSet;
  let identity: AccountIdentity;
  try {
    tokens = await exchangeForTokens(providerCtx, ring, flow, params, redirectUri(config, provider));
    identity = await module.fetchIdentity(providerCtx, tokens);
  } catch (failure) {
    if (!(failure instanceof ProviderError)) throw failure;
    return { kind: "failed", flow, message: `${module.name} did not complete the authorization: ${describeProviderError(failure)}` };
  }

  if (flow.purpose === "new") {
    const created = await createConnection(context.dbHandle, ring, {
      workspaceId: flow.workspace_id,
      provider,
      name: flow.connection_name!,
      tokens,
      identity,
    });
    if (!created.ok) {
      return { kind: "failed", flow, message: `The name ${flow.connection_name} was taken while you were at ${module.name}. Choose another name.` };
    }
    return { kind: "created", flow, connectionId: created.id };
  }

  const connection = await getConnection(context.db, flow.workspace_id, flow.connection_id!);
  if (!connection) return { kind: "failed", flow, message: "The connection was deleted while you were re-authorizing it." };
  if (connection.account_id !== identity.accountId) {
    // Another account: keep the new tokens aside until the user explicitly confirms.
    await context.db.deleteFrom("pending_reauthorizations").where("connection_id", "=", connection.id).execute();
    const pendingId = crypto.randomUUID();
    await context.db
      .insertInto("pending_reauthorizations")
      .values({
        id: pendingId,
        connection_id: connection.id,
        workspace_id: connection.workspace_id,
        session_id: actor.sessionId,
        tokens_ct: await encryptToken(ring, JSON.stringify(tokens), { workspaceId: connection.workspace_id, recordId: pendingId, field: "tokens" }),
        identity_json: JSON.stringify(identity),
        created_at: now,
        expires_at: now + PENDING_REAUTHORIZATION_TTL_MS,
      })
      .execute();
    return { kind: "needs_confirmation", flow, connectionId: connection.id };
  }
  await runBatch(context.dbHandle, [await prepareTokenReplacement(context.db, ring, connection, tokens, identity)]);
  return { kind: "reauthorized", flow, connectionId: connection.id };
}

async function exchangeForTokens(
  context: ProviderContext,
  ring: KeyRing,
  flow: OAuthFlowRow,
  params: URLSearchParams,
  callback: string,
): Promise<TokenSet> {
  const module = getProvider(flow.provider);
  const open = (value: string, field: string) => decryptToken(ring, value, { workspaceId: flow.workspace_id, recordId: flow.id, field });
  if (module.oauth.protocol === "oauth1") {
    const response = await signedOAuth1Post(context, module.oauth.accessTokenUrl(context.endpoints), {
      token: flow.request_token!,
      tokenSecret: await open(flow.request_token_secret_ct!, "request_token_secret"),
      oauthParams: { oauth_verifier: params.get("oauth_verifier")! },
    });
    const text = await readBodyText(response);
    if (!response.ok) {
      throw new ProviderError(response.status >= 500 ? "server_error" : "unauthorized", scrubSecrets(text.trim() || `HTTP ${response.status}`).slice(0, 300), { status: response.status });
    }
    const body = new URLSearchParams(text);
    const token = body.get("oauth_token");
    const secret = body.get("oauth_token_secret");
    if (!token || !secret) throw new ProviderError("malformed_response", "The access token response has no oauth_token.");
    return { accessToken: token, refreshToken: null, tokenSecret: secret, accessTokenExpiresAt: null, refreshTokenExpiresAt: null, scopes: module.oauth.scope.split(",") };
  }

  const code = params.get("code");
  if (!code || code.length > 2000) throw new ProviderError("malformed_response", "The authorization response has no code.");
  const data = await exchangeAuthorizationCode({
    clientId: context.credentials.clientId,
    clientSecret: module.oauth.clientAuthentication === "basic" ? context.credentials.clientSecret : null,
    // Identical to the authorize request's: both come from configuration.
    redirectUri: callback,
    tokenUrl: module.oauth.tokenUrl(context.endpoints),
    code,
    codeVerifier: flow.code_verifier_ct ? await open(flow.code_verifier_ct, "code_verifier") : null,
  });
  return module.oauth.parseTokenResponse(data, Date.now());
}

export interface PendingReauthorization {
  accountLabel: string;
  accountUrl: string | null;
  expiresAt: number;
}

export async function getPendingReauthorization(context: RequestContext, actor: FlowActor, connectionId: string): Promise<PendingReauthorization | null> {
  const row = await context.db
    .selectFrom("pending_reauthorizations")
    .select(["identity_json", "expires_at"])
    .where("connection_id", "=", connectionId)
    .where("workspace_id", "=", actor.workspaceId)
    .where("session_id", "=", actor.sessionId)
    .where("expires_at", ">", Date.now())
    .executeTakeFirst();
  if (!row) return null;
  const identity = JSON.parse(row.identity_json) as AccountIdentity;
  return { accountLabel: identity.label, accountUrl: identity.url, expiresAt: row.expires_at };
}

/** The user confirmed: the connection now uses the other account's tokens (same id, name, config). */
export async function confirmReauthorization(context: RequestContext, ring: KeyRing, actor: FlowActor, connectionId: string): Promise<boolean> {
  const pending = await context.db
    .selectFrom("pending_reauthorizations")
    .selectAll()
    .where("connection_id", "=", connectionId)
    .where("workspace_id", "=", actor.workspaceId)
    .where("session_id", "=", actor.sessionId)
    .where("expires_at", ">", Date.now())
    .executeTakeFirst();
  const connection = pending && (await getConnection(context.db, actor.workspaceId, connectionId));
  if (!pending || !connection) return false;
  const tokens = JSON.parse(
    await decryptToken(ring, pending.tokens_ct, { workspaceId: pending.workspace_id, recordId: pending.id, field: "tokens" }),
  ) as TokenSet;
  const identity = JSON.parse(pending.identity_json) as AccountIdentity;
  await runBatch(context.dbHandle, [
    await prepareTokenReplacement(context.db, ring, connection, tokens, identity),
    context.db.deleteFrom("pending_reauthorizations").where("id", "=", pending.id),
  ]);
  return true;
}

export async function discardPendingReauthorization(context: RequestContext, actor: FlowActor, connectionId: string) {
  await context.db
    .deleteFrom("pending_reauthorizations")
    .where("connection_id", "=", connectionId)
    .where("workspace_id", "=", actor.workspaceId)
    .execute();
}

export async function pruneOAuthFlows(db: RequestContext["db"], now = Date.now()) {
  await db.deleteFrom("oauth_flows").where("expires_at", "<=", now - FLOW_TTL_MS).execute();
  await db.deleteFrom("pending_reauthorizations").where("expires_at", "<=", now).execute();
}
