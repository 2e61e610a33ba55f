import { getProvider } from "../providers/registry";
import type { ConnectionRow } from "../platform/schema";
import { updateConnectionSettings } from "./repository.server";
import { problemsByField, verifyTargets } from "./targets.server";
import type { VaultDeps } from "./vault.server";

export type SaveSettingsResult =
  | { ok: true; message: string; verified: boolean }
  | { ok: false; reason: "invalid"; fieldErrors: Record<string, string[]> }
  | { ok: false; reason: "not_found" };

/**
 * Saves a connection's name and defaults. New defaults are first checked with the provider:
 * what they point at must exist and be usable (field errors otherwise, nothing saved). When the
 * provider cannot be asked, they are saved marked "not verified yet", never lost.
 */
export async function saveConnectionSettings(
  deps: VaultDeps,
  connection: ConnectionRow,
  input: { name: string; config: Record<string, unknown> },
): Promise<SaveSettingsResult> {
  const provider = getProvider(connection.provider);
  const changed = JSON.stringify(input.config) !== connection.config_json;
  const verdict = changed ? await verifyTargets(deps, connection, input.config) : null;
  if (verdict?.verified && verdict.problems.length) {
    return { ok: false, reason: "invalid", fieldErrors: problemsByField(verdict.problems, "config.") };
  }
  const saved = await updateConnectionSettings(deps.db, connection.workspace_id, connection.id, {
    ...input,
    verified: verdict?.verified ? verdict.problems : null,
  });
  if (!saved.ok && saved.reason === "name_taken") {
    return { ok: false, reason: "invalid", fieldErrors: { name: [`This workspace already has a connection named ${input.name}.`] } };
  }
  if (!saved.ok) return { ok: false, reason: "not_found" };
  if (!verdict) return { ok: true, message: "Settings saved.", verified: true };
  if (verdict.verified) return { ok: true, message: `Settings saved: ${provider.name} confirmed what they point at.`, verified: true };
  return {
    ok: true,
    message: `Settings saved, not verified yet: ${verdict.reason}. SpokeDo checks them again at its next run.`,
    verified: false,
  };
}
