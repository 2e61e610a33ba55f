import * as v from "valibot";
import type { ProviderModule } from "~/lib/providers/types";
import type { ConfigFormValue } from "~/lib/providers/config-form";
import { ConnectionNameSchema, IdSchema } from "~/lib/platform/validation";

export const DetailIntentSchema = v.picklist(
  ["save", "test", "reauthorize", "confirm-account", "cancel-account", "repoint-intents", "redeliver-failed", "disable", "enable"],
  "Unknown action.",
);
export type DetailIntent = v.InferOutput<typeof DetailIntentSchema>;

/** The browser-side part of the settings form; the provider's config schema is applied on the server. */
export const SettingsNameSchema = v.object({ name: ConnectionNameSchema });

export type SettingsShape = { name: string; config: Record<string, ConfigFormValue> };

/** The whole settings form, with the provider's own config schema. */
export function settingsSchema(provider: ProviderModule) {
  return v.object({
    intent: v.literal("save"),
    name: ConnectionNameSchema,
    config: v.optional(provider.configSchema, {}),
  });
}

export const RepointSchema = v.object({ targetConnectionId: IdSchema });
