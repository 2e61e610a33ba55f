import { deleteConnection, isAccountHeldElsewhere } from "./repository.server";
import { revokeAtProvider, type RevocationOutcome } from "./revocation.server";
import { openTokens, type VaultDeps } from "./vault.server";
import type { ConnectionRow } from "../platform/schema";

export type DeleteAndRevokeResult =
  { ok: true; revocation: RevocationOutcome } | { ok: false; reason: "not_found" } | { ok: false; reason: "in_use"; intentCount: number };

/**
 * Deletes a connection (unless intents depend on it), then revokes what its tokens grant at the
 * provider, refresh token included: the whole grant unless another connection holds the account.
 */
export async function deleteConnectionAndRevoke(deps: VaultDeps, connection: ConnectionRow): Promise<DeleteAndRevokeResult> {
  // Read the tokens first: once the row is gone they cannot be revoked any more.
  const tokens = await openTokens(deps.ring, connection);
  const deleted = await deleteConnection(deps.db, connection.workspace_id, connection.id);
  if (!deleted.ok) return deleted;
  const accountStillHeld = await isAccountHeldElsewhere(deps.db, connection.provider, connection.account_id, connection.id);
  return { ok: true, revocation: await revokeAtProvider(deps.settings, connection, tokens, { accountStillHeld }) };
}
