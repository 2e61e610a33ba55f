import type { ConnectionRow, ConnectionStatus } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { isAuthFailure } from "../providers/errors";
import { getProvider } from "../providers/registry";
import { ACTIVE, changeStatus, statusAfterAuthFailure, statusAfterProviderFailure, type StatusChange } from "./status.server";
import { withTokens, type VaultDeps } from "./vault.server";

export type ConnectionTestOutcome = { status: ConnectionStatus; message: string };

/**
 * "Test connection": asks the provider who the token belongs to (refreshing once if it rejects
 * a token we can refresh). Success makes the connection active; a refused token marks it revoked
 * or expired; anything else marks it error.
 */
export async function testConnection(deps: VaultDeps, connection: ConnectionRow): Promise<ConnectionTestOutcome> {
  const provider = getProvider(connection.provider);
  const context = providerContext(deps.settings, connection.provider);
  if (!context) return { status: connection.status, message: `${provider.name} is not configured on this server, so it cannot be tested.` };

  const result = await withTokens(deps, connection, (tokens) => provider.fetchIdentity(context, tokens));
  let change: StatusChange;
  let message: string;
  if (result.ok) {
    const identity = result.value;
    if (identity.accountId !== connection.account_id) {
      const reason = `The token now belongs to ${identity.label}, not ${connection.account_label}. Re-authorize to choose.`;
      change = { status: "error", reason, error: { message: reason } };
      message = reason;
    } else {
      change = ACTIVE;
      message = `${provider.name} confirmed the connection works (${identity.label}).`;
    }
  } else if (result.problem === "provider") {
    change = isAuthFailure(result.error)
      ? statusAfterAuthFailure(result.error, result.connection, provider.name)
      : statusAfterProviderFailure(result.error, provider.name);
    message = change.reason!;
  } else if (result.problem === "unavailable") {
    change = statusAfterProviderFailure(result.error, provider.name);
    message = change.reason!;
  } else {
    change = result.change;
    message = change.reason!;
  }
  await changeStatus(deps.db, connection, change);
  return { status: change.status, message };
}

/** Connections in error are probed no sooner than this after they went into error. */
const PROBE_AFTER_MS = 5 * 60_000;

/**
 * The cron's probe: connections in error (oldest first, a bounded number per run) are tested, so
 * one that works again returns to active without waiting for a delivery.
 */
export async function probeConnectionsInError(deps: VaultDeps, options: { now?: number; limit?: number } = {}) {
  const now = options.now ?? Date.now();
  const rows = await deps.db
    .selectFrom("connections")
    .selectAll()
    .where("status", "=", "error")
    .where("status_changed_at", "<=", now - PROBE_AFTER_MS)
    .orderBy("status_changed_at")
    .limit(options.limit ?? 10)
    .execute();
  let healed = 0;
  for (const row of rows) if ((await testConnection(deps, row)).status === "active") healed += 1;
  return { probed: rows.length, healed };
}
