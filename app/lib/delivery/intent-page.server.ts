import { loadChoices } from "../connections/choices.server";
import { draftValues, parentValues, pickerViews, readPickerQuery } from "../connections/pickers.server";
import { getConnection, listConnectionChoices } from "../connections/repository.server";
import type { VaultDeps } from "../connections/vault.server";
import { driftView, providerView } from "../connections/views.server";
import { configFormValues, describeConfigValue } from "../providers/config-form";
import { getProvider } from "../providers/registry";
import { effectiveConfig } from "./effective-config.server";
import { getIntent } from "./intents.server";
import { missingScopes } from "./scope-preflight.server";

/**
 * What the intent page shows: the intent, its connection, effective values and where each comes
 * from, and the overrides form with the provider's lists (as saved, or as the address carries
 * them while the user searches a list or picks a parent).
 */
export async function loadIntentPage(deps: VaultDeps, workspaceId: string, id: string, params: URLSearchParams) {
  const { db } = deps;
  const intent = id.length <= 64 ? await getIntent(db, workspaceId, id) : undefined;
  if (!intent) return null;
  const [connection, choices] = await Promise.all([
    getConnection(db, workspaceId, intent.connection_id),
    listConnectionChoices(db, workspaceId),
  ]);
  if (!connection) return null;
  const provider = getProvider(connection.provider);
  const overrides = JSON.parse(intent.overrides_json) as Record<string, unknown>;
  const effective = effectiveConfig(provider, JSON.parse(connection.config_json) as Record<string, unknown>, overrides);
  const fields = provider.configFields.filter((field) => provider.overridableFields.includes(field.name));
  const query = readPickerQuery(params, "overrides");
  const connectionConfig = JSON.parse(connection.config_json) as Record<string, unknown>;
  const overrideValues = draftValues(query, "overrides") ?? configFormValues(fields, overrides);
  const pickerChoices = await loadChoices(deps, connection, {
    config: parentValues(overrideValues, connectionConfig),
    fields: fields.map((field) => field.name),
    refresh: query.refresh,
  });
  const draft = query.draft;
  // The current connection is always a choice, even past the list's limit.
  const listed = choices.choices.some((choice) => choice.id === connection.id)
    ? choices.choices
    : [{ id: connection.id, name: connection.name, provider: connection.provider, status: connection.status }, ...choices.choices];
  return {
    intent: {
      id: intent.id,
      name: intent.name,
      enabled: intent.enabled === 1,
      /** The form's values while the user searches a list or picks a parent (the address carries them). */
      draft: draft ? { name: typeof draft.name === "string" ? draft.name : intent.name, enabled: draft.enabled === "on" } : null,
      connectionId: intent.connection_id,
      attention: intent.attention_reason
        ? { reason: intent.attention_reason, insightId: intent.attention_insight_id, at: intent.attention_at }
        : null,
    },
    connection: { id: connection.id, name: connection.name, status: connection.status },
    provider: providerView(provider.id),
    fields,
    effective: effective.map((field) => ({
      name: field.name,
      source: field.source,
      value: describeConfigValue(field.value),
      connectionValue: describeConfigValue(field.connectionValue),
    })),
    overrideValues,
    typed: [...query.typed],
    pickers: pickerViews(provider, fields, pickerChoices, query, overrideValues),
    choices: listed.map((choice) => ({ ...choice, providerName: getProvider(choice.provider).name })),
    moreChoices: choices.more,
    /** What SpokeDo's last check found wrong with what the effective settings point at. */
    drift: driftView(connection.provider, intent.drift_json, intent.drift_checked_at),
    /** Overrides saved but not yet checked with the provider. */
    unverified: intent.drift_json === null && Object.keys(overrides).length > 0 && provider.checkTargets !== undefined,
    /** Scopes its deliveries need that the connection was not granted (re-authorizing asks for them). */
    missingScopes: missingScopes(provider, connection.scopes, Object.fromEntries(effective.map((field) => [field.name, field.value]))),
  };
}
