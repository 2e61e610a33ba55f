import { runBatch, type Db } from "../platform/db.server";
import { decryptToken, encryptToken } from "../platform/encryption.server";
import type { OAuthFlowRow } from "../platform/schema";
import { completeAuthorization, startAuthorization, type FlowActor, type FlowDeps, type StartFlowResult } from "../oauth/flows.server";
import { getProvider } from "../providers/registry";
import type { AccountIdentity, ProviderId, TokenSet } from "../providers/types";
import { createConnection, getConnection, isAccountHeldElsewhere, isConnectionNameTaken, replaceTokensWrites } from "./repository.server";
import { revokeAtProvider, type RevocationOutcome } from "./revocation.server";
import { openTokens, sealTokens } from "./vault.server";
import { nextCheckAt } from "./status.server";

/**
 * Connecting an account and re-authorizing one: the OAuth flow (app/lib/oauth) brings tokens
 * and an identity back; this module decides what they become.
 */
const PENDING_REAUTHORIZATION_TTL_MS = 15 * 60 * 1000;

export type StartConnectResult = StartFlowResult | { ok: false; reason: "name_taken" };

export async function startConnecting(
  deps: FlowDeps,
  actor: FlowActor,
  input: { provider: ProviderId; name: string },
): Promise<StartConnectResult> {
  if (await isConnectionNameTaken(deps.db, actor.workspaceId, input.name)) return { ok: false, reason: "name_taken" };
  return startAuthorization(deps, actor, input.provider, { purpose: "new", connectionName: input.name });
}

export function startReauthorizing(
  deps: FlowDeps,
  actor: FlowActor,
  connection: { id: string; provider: ProviderId },
): Promise<StartFlowResult> {
  return startAuthorization(deps, actor, connection.provider, { purpose: "reauthorize", connectionId: connection.id });
}

export type CallbackOutcome =
  | { kind: "invalid"; message: string }
  | { kind: "denied" | "failed"; flow: OAuthFlowRow; message: string }
  | { kind: "created"; flow: OAuthFlowRow; connectionId: string; account: string }
  /** `revocation`: what became of the tokens replaced (null when the provider handed the same ones back). */
  | {
      kind: "reauthorized";
      flow: OAuthFlowRow;
      connectionId: string;
      connectionName: string;
      account: string;
      revocation: RevocationOutcome | null;
    }
  | { kind: "needs_confirmation"; flow: OAuthFlowRow; connectionId: string };

/** The provider sent the user back: a new connection, fresh tokens in place, or a question. */
export async function finishAuthorization(
  deps: FlowDeps,
  actor: FlowActor,
  provider: ProviderId,
  params: URLSearchParams,
  /** Whether the actor's role still allows what the flow started (it may have changed meanwhile). */
  allowed: (purpose: OAuthFlowRow["purpose"]) => string | null = () => null,
): Promise<CallbackOutcome> {
  const result = await completeAuthorization(deps, actor, provider, params);
  if (result.kind !== "authorized") return result;
  const { flow, tokens, identity } = result;
  const module = getProvider(provider);

  const refused = allowed(flow.purpose);
  if (refused) {
    // Nothing is kept: the tokens just issued are revoked at once.
    const revocation = await revokeAtProvider(deps.settings, { provider }, tokens, { accountStillHeld: true, label: "the new token" });
    return { kind: "failed", flow, message: `${refused} ${revocation.message}` };
  }

  if (flow.purpose === "new") {
    const id = crypto.randomUUID();
    const created = await createConnection(deps.db, {
      id,
      workspaceId: flow.workspace_id,
      provider,
      name: flow.connection_name!,
      tokens: await sealTokens(deps.ring, { id, workspace_id: flow.workspace_id }, tokens),
      identity,
      healthDueAt: nextCheckAt(deps.settings.health.intervalMs),
    });
    if (!created.ok) {
      return {
        kind: "failed",
        flow,
        message: `The name ${flow.connection_name} was taken while you were at ${module.name}. Choose another name.`,
      };
    }
    return { kind: "created", flow, connectionId: created.id, account: identity.label };
  }

  const connection = await getConnection(deps.db, flow.workspace_id, flow.connection_id!);
  if (!connection) return { kind: "failed", flow, message: "The connection was deleted while you were re-authorizing it." };
  if (connection.account_id !== identity.accountId) {
    await holdForConfirmation(deps, actor, connection, tokens, identity);
    return { kind: "needs_confirmation", flow, connectionId: connection.id };
  }
  const old = await openTokens(deps.ring, connection);
  await runBatch(
    deps.db,
    replaceTokensWrites(
      deps.db,
      connection,
      await sealTokens(deps.ring, connection, tokens),
      identity,
      nextCheckAt(deps.settings.health.intervalMs),
    ),
  );
  // The replaced tokens are revoked, unless the provider handed the same ones back. The account
  // is still held (by the new tokens): a grant shared by both stays.
  const replaced = old !== null && old.accessToken !== tokens.accessToken;
  const revocation = replaced
    ? await revokeAtProvider(deps.settings, connection, old, { accountStillHeld: true, label: "the replaced token" })
    : null;
  return { kind: "reauthorized", flow, connectionId: connection.id, connectionName: connection.name, account: identity.label, revocation };
}

/** Another account: the new tokens wait, encrypted, until the user explicitly confirms. */
async function holdForConfirmation(
  deps: FlowDeps,
  actor: FlowActor,
  connection: { id: string; workspace_id: string },
  tokens: TokenSet,
  identity: AccountIdentity,
) {
  const now = Date.now();
  const id = crypto.randomUUID();
  await runBatch(deps.db, [
    deps.db.deleteFrom("pending_reauthorizations").where("connection_id", "=", connection.id),
    deps.db.insertInto("pending_reauthorizations").values({
      id,
      connection_id: connection.id,
      workspace_id: connection.workspace_id,
      session_id: actor.sessionId,
      tokens_ct: await encryptToken(deps.ring, JSON.stringify(tokens), {
        workspaceId: connection.workspace_id,
        recordId: id,
        field: "tokens",
      }),
      identity_json: JSON.stringify(identity),
      created_at: now,
      expires_at: now + PENDING_REAUTHORIZATION_TTL_MS,
    }),
  ]);
}

function pendingFor(db: Db, actor: FlowActor, connectionId: string) {
  return db
    .selectFrom("pending_reauthorizations")
    .where("connection_id", "=", connectionId)
    .where("session_id", "=", actor.sessionId)
    .where("workspace_id", "=", actor.workspaceId)
    .where("expires_at", ">", Date.now());
}

/** The pending re-authorization of this session and the connection it is for, read side by side. */
async function pendingWithConnection(db: Db, actor: FlowActor, connectionId: string) {
  const [pending, connection] = await Promise.all([
    pendingFor(db, actor, connectionId).selectAll().executeTakeFirst(),
    getConnection(db, actor.workspaceId, connectionId),
  ]);
  return { pending, connection };
}

/** The tokens and identity a pending re-authorization holds (encrypted under its own record id). */
async function openPending(deps: FlowDeps, pending: { id: string; workspace_id: string; tokens_ct: string; identity_json: string }) {
  const tokens = JSON.parse(
    await decryptToken(deps.ring, pending.tokens_ct, { workspaceId: pending.workspace_id, recordId: pending.id, field: "tokens" }),
  ) as TokenSet;
  return { tokens, identity: JSON.parse(pending.identity_json) as AccountIdentity };
}

export interface PendingReauthorization {
  accountLabel: string;
  accountUrl: string | null;
  expiresAt: number;
}

export async function getPendingReauthorization(db: Db, actor: FlowActor, connectionId: string): Promise<PendingReauthorization | null> {
  const row = await pendingFor(db, actor, connectionId).select(["identity_json", "expires_at"]).executeTakeFirst();
  if (!row) return null;
  const identity = JSON.parse(row.identity_json) as AccountIdentity;
  return { accountLabel: identity.label, accountUrl: identity.url, expiresAt: row.expires_at };
}

/**
 * The user confirmed: the connection now uses the other account's tokens (same id, name, config),
 * and the first account's tokens are revoked. Null when there was nothing (left) to confirm.
 */
export async function confirmReauthorization(
  deps: FlowDeps,
  actor: FlowActor,
  connectionId: string,
): Promise<{ revocation: RevocationOutcome; accountLabel: string } | null> {
  const { pending, connection } = await pendingWithConnection(deps.db, actor, connectionId);
  if (!pending || !connection) return null;
  const old = await openTokens(deps.ring, connection);
  const { tokens, identity } = await openPending(deps, pending);
  await runBatch(deps.db, [
    ...replaceTokensWrites(
      deps.db,
      connection,
      await sealTokens(deps.ring, connection, tokens),
      identity,
      nextCheckAt(deps.settings.health.intervalMs),
    ),
    deps.db.deleteFrom("pending_reauthorizations").where("id", "=", pending.id),
  ]);
  const accountStillHeld = await isAccountHeldElsewhere(deps.db, connection.provider, connection.account_id, connection.id);
  return {
    accountLabel: identity.label,
    revocation: await revokeAtProvider(deps.settings, connection, old, {
      accountStillHeld,
      label: `the token of ${connection.account_label}`,
    }),
  };
}

/**
 * "Keep the current account": the other account's tokens, authorized but never used, are dropped
 * and revoked at the provider. Null when nothing was pending.
 */
export async function discardPendingReauthorization(
  deps: FlowDeps,
  actor: FlowActor,
  connectionId: string,
): Promise<{ revocation: RevocationOutcome; accountLabel: string } | null> {
  const { pending, connection } = await pendingWithConnection(deps.db, actor, connectionId);
  await deps.db
    .deleteFrom("pending_reauthorizations")
    .where("connection_id", "=", connectionId)
    .where("workspace_id", "=", actor.workspaceId)
    .execute();
  if (!pending || !connection) return null;
  const { tokens, identity } = await openPending(deps, pending);
  const accountStillHeld = await isAccountHeldElsewhere(deps.db, connection.provider, identity.accountId, "");
  return {
    accountLabel: identity.label,
    revocation: await revokeAtProvider(
      deps.settings,
      connection,
      { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenSecret: tokens.tokenSecret },
      { accountStillHeld, label: `the token of ${identity.label}` },
    ),
  };
}

export async function prunePendingReauthorizations(db: Db, now = Date.now()) {
  await db.deleteFrom("pending_reauthorizations").where("expires_at", "<=", now).execute();
}
