import * as v from "valibot";
import type { ConfigFormValue } from "~/lib/providers/config-form";
import type { ProviderModule } from "~/lib/providers/types";
import { ConnectionNameSchema } from "~/lib/platform/validation";

/** The browser-side part of the settings form; the provider's config schema is applied on the server. */
export const SettingsNameSchema = v.object({ name: ConnectionNameSchema });

export type SettingsShape = { name: string; config: Record<string, ConfigFormValue> };

/**
 * The whole settings form, with the provider's own config schema. `default` is the hidden first
 * button that Enter presses (decision 023): it saves unless a search box holds a new search.
 */
export function settingsSchema(provider: ProviderModule) {
  return v.object({
    intent: v.picklist(["save", "default"], "Unknown action."),
    name: ConnectionNameSchema,
    config: v.optional(provider.configSchema, {}),
  });
}
