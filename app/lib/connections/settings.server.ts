import { configFormValues, sameConfig } from "../providers/config-form";
import { getProvider } from "../providers/registry";
import type { ConnectionRow } from "../platform/schema";
import { loadChoices } from "./choices.server";
import { draftValues, parentValues, pickerViews, readPickerQuery } from "./pickers.server";
import { getConnection, updateConnectionSettings } from "./repository.server";
import { driftView, providerView } from "./views.server";
import { problemsByField, verifyTargets } from "./targets.server";
import type { VaultDeps } from "./vault.server";

export type SaveSettingsResult =
  /** `stored`: the name and defaults as saved, for the audit trail's before/after. */
  | { ok: true; message: string; verified: boolean; stored: { name: string; config: Record<string, unknown> } }
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
  const stored = JSON.parse(connection.config_json) as Record<string, unknown>;
  const changed = !sameConfig(provider.configFields, input.config, stored);
  const verdict = changed ? await verifyTargets(deps, connection, input.config) : null;
  if (verdict?.verified && verdict.problems.length) {
    return { ok: false, reason: "invalid", fieldErrors: problemsByField(verdict.problems, "config.") };
  }
  // Unchanged: kept as stored (typed); checked: stored typed as the provider's schema says.
  const config = !changed ? stored : verdict?.verified ? { ...input.config, ...verdict.typed } : input.config;
  const saved = await updateConnectionSettings(deps.db, connection.workspace_id, connection.id, {
    name: input.name,
    config,
    verified: verdict?.verified ? verdict.problems : null,
  });
  if (!saved.ok && saved.reason === "name_taken") {
    return { ok: false, reason: "invalid", fieldErrors: { name: [`This workspace already has a connection named ${input.name}.`] } };
  }
  if (!saved.ok) return { ok: false, reason: "not_found" };
  const result = { stored: { name: input.name, config } };
  if (!verdict) return { ok: true, message: "Settings saved.", verified: true, ...result };
  if (verdict.verified) {
    return { ok: true, message: `Settings saved: ${provider.name} confirmed what they point at.`, verified: true, ...result };
  }
  return {
    ok: true,
    message: `Settings saved, not verified yet: ${verdict.reason}. SpokeDo checks them again at its next run.`,
    verified: false,
    ...result,
  };
}

/**
 * The settings page: the name and defaults as saved (or as the address carries them while the
 * user searches a list or picks a parent), with each field's choices from the provider.
 */
export async function loadSettingsPage(deps: VaultDeps, workspaceId: string, id: string, params: URLSearchParams) {
  const row = id.length <= 64 ? await getConnection(deps.db, workspaceId, id) : undefined;
  if (!row) return null;
  const provider = getProvider(row.provider);
  const query = readPickerQuery(params, "config");
  const values =
    draftValues(query, "config") ?? configFormValues(provider.configFields, JSON.parse(row.config_json) as Record<string, unknown>);
  const choices = await loadChoices(deps, row, { config: parentValues(values), refresh: query.refresh });
  const draftName = query.draft?.name;
  return {
    connection: { id: row.id, name: row.name, status: row.status, accountLabel: row.account_label, disabledAt: row.disabled_at },
    provider: providerView(provider.id),
    name: typeof draftName === "string" ? draftName : row.name,
    fields: provider.configFields,
    overridable: provider.overridableFields,
    values,
    typed: [...query.typed],
    pickers: pickerViews(provider, provider.configFields, choices, query, values),
    drift: driftView(row.provider, row.drift_json, row.drift_checked_at),
  };
}
