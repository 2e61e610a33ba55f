import * as v from "valibot";
import { ConnectionNameSchema } from "~/lib/validation";

export const DetailIntentSchema = v.picklist(
  ["save", "test", "reauthorize", "confirm-account", "cancel-account", "repoint-intents"],
  "Unknown action.",
);
export type DetailIntent = v.InferOutput<typeof DetailIntentSchema>;

/** The browser-side part of the settings form; the provider's config schema is applied on the server. */
export const SettingsNameSchema = v.object({ name: ConnectionNameSchema });

export type { ConfigFormValue as FormValue } from "~/components/config-fields";
import type { ConfigFormValue } from "~/components/config-fields";
export type SettingsShape = { name: string; config: Record<string, ConfigFormValue> };
