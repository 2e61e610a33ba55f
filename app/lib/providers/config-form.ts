import type { Choice, ConfigField } from "./types";

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
          ? Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
              key,
              value: describeConfigValue(v),
            }))
          : [];
    } else values[field.name] = typeof value === "string" ? value : "";
  }
  return values;
}

/** Whether two configs read the same in their form (typed values compared as the text they show). */
export function sameConfig(fields: ConfigField[], a: Record<string, unknown>, b: Record<string, unknown>) {
  return JSON.stringify(configFormValues(fields, a)) === JSON.stringify(configFormValues(fields, b));
}

/** Drops unset fields so the stored JSON only holds real values. */
export function compactConfig(config: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

function itemText(item: unknown): string {
  return item && typeof item === "object" && "label" in item ? String(item.label) : describeConfigValue(item);
}

/** A config value as one line of text, for effective-value tables and messages. */
export function describeConfigValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  // Lists of typed items (a Notion people mapping stores {id, label}) read as their labels.
  if (Array.isArray(value)) return (value as unknown[]).map(itemText).join(", ");
  if (typeof value === "object")
    return Object.entries(value)
      .map(([key, item]) => `${key} → ${describeConfigValue(item)}`)
      .join("; ");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * How a config field is offered in a form: a select of what the provider listed (filtered by a
 * search), a text box (typed by hand, or nothing to choose from), or a note that its parent must
 * be chosen first.
 */
export type PickerView =
  | {
      mode: "select";
      /** What the select offers: the matches of the search, at most a page of them. */
      options: Choice[];
      /** How many the provider listed, and how many match the search. */
      total: number;
      matching: number;
      search: string;
      /** Long lists get a search box. */
      searchable: boolean;
      truncated: boolean;
      fetchedAt: number;
      /** Shown from an earlier listing: why the provider was not asked again. */
      stale?: string;
      /** The fields listed for this one's value (a repository's labels and assignees). */
      dependents: string[];
    }
  | { mode: "text"; reason: "typed" | "needs-parent" | "unavailable"; message?: string; parentField?: string; dependents: string[] };
