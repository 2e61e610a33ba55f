import { sha256Hex } from "../platform/crypto.server";
import type { Db } from "../platform/db.server";
import { decryptToken, encryptToken, type KeyRing } from "../platform/encryption.server";
import type { OAuthFlowRow } from "../platform/schema";
import { providerContext, redirectUri, type Settings } from "../platform/settings.server";
import { describeProviderError, ProviderError } from "../providers/errors";
import { scrubSecrets } from "../providers/http.server";
import { getProvider } from "../providers/registry";
import type { AccountIdentity, ProviderId, TokenSet } from "../providers/types";
import { protocolOf } from "./protocols.server";

/**
 * Authorization flows, for any provider and either protocol: a single-use, 10-minute record
 * bound to the session that started it, checked completely before any request to the provider.
 * What the tokens are then used for (a new connection, a re-authorization) is the caller's.
 */
const FLOW_TTL_MS = 10 * 60 * 1000;
const MAX_FLOWS_PER_USER_PER_WINDOW = 20;

export interface FlowActor {
  workspaceId: string;
  userId: string;
  sessionId: string;
}

export type FlowPurpose = { purpose: "new"; connectionName: string } | { purpose: "reauthorize"; connectionId: string };

export type StartFlowResult =
  | { ok: true; url: string }
  | { ok: false; reason: "not_configured" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number }
  | { ok: false; reason: "provider_error"; message: string };

export interface FlowDeps {
  db: Db;
  settings: Settings;
  ring: KeyRing;
}

const sealFor = (ring: KeyRing, flow: { workspaceId: string; id: string }) => (value: string) =>
  encryptToken(ring, value, { workspaceId: flow.workspaceId, recordId: flow.id, field: "flow_secrets" });

/** Starting an authorization (a POST): records a single-use flow and returns where to send the user. */
export async function startAuthorization(
  deps: FlowDeps,
  actor: FlowActor,
  provider: ProviderId,
  purpose: FlowPurpose,
): Promise<StartFlowResult> {
  const module = getProvider(provider);
  const context = providerContext(deps.settings, provider);
  if (!context || !deps.settings.appUrl) return { ok: false, reason: "not_configured" };

  const now = Date.now();
  const recent = await deps.db
    .selectFrom("oauth_flows")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", actor.userId)
    .where("created_at", ">", now - FLOW_TTL_MS)
    .executeTakeFirstOrThrow();
  if (Number(recent.n) >= MAX_FLOWS_PER_USER_PER_WINDOW) {
    const retryAt = Number(recent.oldest) + FLOW_TTL_MS;
    return { ok: false, reason: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) };
  }

  let started;
  try {
    started = await protocolOf(module.oauth).start(context, module.oauth, redirectUri(deps.settings, provider));
  } catch (error) {
    if (error instanceof ProviderError)
      return { ok: false, reason: "provider_error", message: `${module.name}: ${describeProviderError(error)}` };
    throw error;
  }
  const id = await sha256Hex(started.correlation);
  await deps.db
    .insertInto("oauth_flows")
    .values({
      id,
      provider,
      purpose: purpose.purpose,
      workspace_id: actor.workspaceId,
      user_id: actor.userId,
      session_id: actor.sessionId,
      connection_id: purpose.purpose === "reauthorize" ? purpose.connectionId : null,
      connection_name: purpose.purpose === "new" ? purpose.connectionName : null,
      secrets_ct: await sealFor(deps.ring, { workspaceId: actor.workspaceId, id })(JSON.stringify(started.secrets)),
      created_at: now,
      expires_at: now + FLOW_TTL_MS,
      used_at: null,
    })
    .execute();
  return { ok: true, url: started.url };
}

export type CallbackResult =
  | { kind: "invalid"; message: string }
  | { kind: "denied"; flow: OAuthFlowRow; message: string }
  | { kind: "failed"; flow: OAuthFlowRow; message: string }
  | { kind: "authorized"; flow: OAuthFlowRow; tokens: TokenSet; identity: AccountIdentity };

/**
 * The provider sent the user back. Every check on the pending flow happens before any request
 * to the provider: an unknown, expired, reused or foreign flow, or a callback on another
 * provider's path, never reaches the token endpoint.
 */
export async function completeAuthorization(
  deps: FlowDeps,
  actor: FlowActor,
  provider: ProviderId,
  params: URLSearchParams,
): Promise<CallbackResult> {
  const module = getProvider(provider);
  const protocol = protocolOf(module.oauth);
  const invalid = (message: string): CallbackResult => ({ kind: "invalid", message });
  const now = Date.now();

  const correlation = protocol.correlation(params);
  if (!correlation || correlation.length > 200) return invalid("The authorization response is missing its state.");
  const flow = await deps.db
    .selectFrom("oauth_flows")
    .selectAll()
    .where("id", "=", await sha256Hex(correlation))
    .executeTakeFirst();
  if (!flow) return invalid("This authorization is unknown. Start again from SpokeDo.");
  if (flow.provider !== provider) return invalid("This authorization was started for another provider.");
  if (flow.session_id !== actor.sessionId || flow.user_id !== actor.userId)
    return invalid("This authorization was started in another session.");
  if (flow.workspace_id !== actor.workspaceId)
    return invalid("This authorization was started in another workspace. Switch back to it and start again.");
  if (flow.used_at !== null) return invalid("This authorization was already used. Start again from SpokeDo.");
  if (flow.expires_at <= now) return invalid("This authorization expired after 10 minutes. Start again.");

  // Single use, atomically: only one request can flip used_at.
  const claimed = await deps.db
    .updateTable("oauth_flows")
    .set({ used_at: now })
    .where("id", "=", flow.id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return invalid("This authorization was already used. Start again from SpokeDo.");

  const context = providerContext(deps.settings, provider);
  if (!context) return { kind: "failed", flow, message: `${module.name} is not configured on this server.` };

  const verdict = protocol.verdict(params);
  if (verdict.kind === "denied")
    return { kind: "denied", flow, message: `You cancelled the authorization at ${module.name}. Nothing was changed.` };
  if (verdict.kind === "refused") {
    return { kind: "failed", flow, message: `${module.name} refused the authorization: ${scrubSecrets(verdict.message).slice(0, 300)}` };
  }

  try {
    const secrets = JSON.parse(
      await decryptToken(deps.ring, flow.secrets_ct, { workspaceId: flow.workspace_id, recordId: flow.id, field: "flow_secrets" }),
    ) as Record<string, string>;
    // The same redirect URI as at the start: both come from configuration, never from the request.
    const tokens = await protocol.finish(context, module.oauth, params, secrets, redirectUri(deps.settings, provider));
    const identity = await module.fetchIdentity(context, tokens);
    return { kind: "authorized", flow, tokens, identity };
  } catch (failure) {
    if (!(failure instanceof ProviderError)) throw failure;
    return { kind: "failed", flow, message: `${module.name} did not complete the authorization: ${describeProviderError(failure)}` };
  }
}

export async function pruneOAuthFlows(db: Db, now = Date.now()) {
  await db
    .deleteFrom("oauth_flows")
    .where("expires_at", "<=", now - FLOW_TTL_MS)
    .execute();
}
