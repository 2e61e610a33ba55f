import * as v from "valibot";
import { ConnectionNameSchema } from "~/lib/validation";

export const DetailIntentSchema = v.picklist(
  ["save", "test", "reauthorize", "confirm-account", "cancel-account"],
  "Unknown action.",
);
export type DetailIntent = v.InferOutput<typeof DetailIntentSchema>;

/** The browser-side part of the settings form; the provider's config schema is applied on the server. */
export const SettingsNameSchema = v.object({ name: ConnectionNameSchema });

export type FormValue = string | { key: string; value: string }[];
export type SettingsShape = { name: string; config: Record<string, FormValue> };
