import type { ConfigField } from "./types";

/** How a config field travels through a form: text, or key/value rows for mappings. */
export type ConfigFormValue = string | { key: string; value: string }[];

/**
 * Stored config (a connection's defaults or an intent's overrides) → the strings and rows its
 * form shows: lists comma-joined, mappings as key/value rows.
 */
export function configFormValues(fields: ConfigField[], config: Record<string, unknown>): Record<string, ConfigFormValue> {
  const values: Record<string, ConfigFormValue> = {};
  for (const field of fields) {
    const value = config[field.name];
    if (field.type === "list") values[field.name] = Array.isArray(value) ? value.join(", ") : "";
    else if (field.type === "mappings") {
      values[field.name] =
        value && typeof value === "object"
          ? Object.entries(value as Record<string, string>).map(([key, v]) => ({ key, value: String(v) }))
          : [];
    } else values[field.name] = typeof value === "string" ? value : "";
  }
  return values;
}

/** Drops unset fields so the stored JSON only holds real values. */
export function compactConfig(config: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

/** A config value as one line of text, for effective-value tables and messages. */
export function describeConfigValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object")
    return Object.entries(value)
      .map(([key, item]) => `${key} → ${describeConfigValue(item)}`)
      .join("; ");
  return typeof value === "string" ? value : JSON.stringify(value);
}
