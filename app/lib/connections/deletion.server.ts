import { deleteConnection } from "./repository.server";
import { revokeAtProvider, type RevocationOutcome } from "./revocation.server";
import { openTokens, type VaultDeps } from "./vault.server";
import type { ConnectionRow } from "../platform/schema";

export type DeleteAndRevokeResult =
  { ok: true; revocation: RevocationOutcome } | { ok: false; reason: "not_found" } | { ok: false; reason: "in_use"; intentCount: number };

/** Deletes a connection (unless intents depend on it), then revokes its token at the provider. */
export async function deleteConnectionAndRevoke(deps: VaultDeps, connection: ConnectionRow): Promise<DeleteAndRevokeResult> {
  // Read the tokens first: once the row is gone they cannot be revoked any more.
  const tokens = await openTokens(deps.ring, connection);
  const deleted = await deleteConnection(deps.db, connection.workspace_id, connection.id);
  if (!deleted.ok) return deleted;
  return { ok: true, revocation: await revokeAtProvider(deps.settings, connection, tokens) };
}
