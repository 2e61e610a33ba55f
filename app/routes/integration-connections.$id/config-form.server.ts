import * as v from "valibot";
import type { ConfigField, ProviderModule } from "~/lib/providers/types";
import { ConnectionNameSchema } from "~/lib/validation";
import type { FormValue } from "./schema";

export function settingsSchema(provider: ProviderModule) {
  return v.object({
    intent: v.literal("save"),
    name: ConnectionNameSchema,
    config: v.optional(provider.configSchema, {}),
  });
}


/** Stored config → the strings and rows the form shows. */
export function configFormValues(fields: ConfigField[], config: Record<string, unknown>): Record<string, FormValue> {
  const values: Record<string, FormValue> = {};
  for (const field of fields) {
    const value = config[field.name];
    if (field.type === "list") values[field.name] = Array.isArray(value) ? value.join(", ") : "";
    else if (field.type === "mappings") {
      values[field.name] =
        value && typeof value === "object" ? Object.entries(value as Record<string, string>).map(([key, v]) => ({ key, value: String(v) })) : [];
    } else values[field.name] = typeof value === "string" ? value : "";
  }
  return values;
}

/** Drops unset fields so the stored JSON only holds real defaults. */
export function compactConfig(config: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}
