import * as v from "valibot";
import { parseForm } from "../platform/forms";
import type { ConfigFormValue, PickerView } from "../providers/config-form";
import type { Choice, ConfigField, ProviderModule } from "../providers/types";
import type { FieldChoices } from "./choices.server";

/**
 * The settings forms' pickers without JavaScript (decision 023): the form is submitted with GET
 * to search a list, show a parent's dependent choices, type a value by hand or refresh from the
 * provider. The address then carries the unsaved values (never a secret: config is names and
 * ids), and the page is drawn again from them.
 */
export interface PickerQuery {
  /** The form's values as submitted with GET, or null on a plain visit. */
  draft: Record<string, unknown> | null;
  /** Fields typed by hand instead of chosen. */
  typed: Set<string>;
  /** Search text per field. */
  search: Record<string, string>;
  refresh: boolean;
}

/** A select offers at most this many entries; the search narrows longer lists. */
export const SHOWN_CHOICES = 100;
/** Lists longer than this get a search box. */
export const SEARCH_FROM = 20;

export function readPickerQuery(params: URLSearchParams, prefix: string): PickerQuery {
  const isDraft = [...params.keys()].some((name) => name === "name" || name.startsWith(`${prefix}.`) || name.startsWith(`${prefix}[`));
  const payload = isDraft ? (parseForm(params, v.unknown()).payload as Record<string, unknown>) : null;
  const typed = new Set(params.getAll("typed").filter(Boolean));
  for (const field of params.getAll("type")) typed.add(field);
  for (const field of params.getAll("pick")) typed.delete(field);
  const search: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name.startsWith("find.") && value.trim()) search[name.slice(5)] = value.trim().slice(0, 100);
  }
  return { draft: payload, typed, search, refresh: params.get("refresh") === "1" };
}

/** The draft's values under `prefix` (config or overrides), as the form shows them. */
export function draftValues(query: PickerQuery, prefix: string): Record<string, ConfigFormValue> | null {
  const values = query.draft?.[prefix];
  if (!query.draft) return null;
  const result: Record<string, ConfigFormValue> = {};
  for (const [name, value] of Object.entries(values && typeof values === "object" ? values : {})) {
    if (typeof value === "string") result[name] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === "string")) result[name] = value.join(", ");
    else if (Array.isArray(value)) {
      result[name] = value.map((row) => {
        const cells = row && typeof row === "object" ? (row as Record<string, unknown>) : {};
        return { key: typeof cells.key === "string" ? cells.key : "", value: typeof cells.value === "string" ? cells.value : "" };
      });
    }
  }
  return result;
}

/** A text field's value (or a list field's comma-separated values) as a list. */
function currentValues(value: ConfigFormValue | undefined): string[] {
  if (typeof value !== "string") return [];
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** How each field with a choice source is offered, from what was listed and what the address asks. */
export function pickerViews(
  provider: ProviderModule,
  fields: ConfigField[],
  choices: Record<string, FieldChoices>,
  query: PickerQuery,
  values: Record<string, ConfigFormValue>,
): Record<string, PickerView> {
  const sources = provider.choices ?? {};
  const views: Record<string, PickerView> = {};
  for (const field of fields) {
    const source = sources[field.name];
    if (!source) continue;
    const dependents = fields.filter((other) => sources[other.name]?.dependsOn === field.name).map((other) => other.name);
    const listed = choices[field.name];
    if (query.typed.has(field.name)) {
      views[field.name] = { mode: "text", reason: "typed", dependents };
    } else if (!listed || listed.state === "needs-parent") {
      views[field.name] = { mode: "text", reason: "needs-parent", parentField: source.dependsOn, dependents };
    } else if (listed.state === "unavailable") {
      views[field.name] = { mode: "text", reason: "unavailable", message: listed.reason, dependents };
    } else {
      const search = query.search[field.name] ?? "";
      const matches = search ? listed.choices.filter((choice) => matchesSearch(choice, search.toLowerCase())) : listed.choices;
      const shown = field.type === "mappings" ? matches : matches.slice(0, SHOWN_CHOICES);
      // The current value is always offered, even when the search or the page leaves it out.
      const current = currentValues(values[field.name])
        .map((value) => listed.choices.find((choice) => choice.value === value))
        .filter((choice): choice is Choice => choice !== undefined && !shown.includes(choice));
      views[field.name] = {
        mode: "select",
        options: [...current, ...shown],
        total: listed.choices.length,
        matching: matches.length,
        search,
        searchable: field.type !== "mappings" && listed.choices.length > SEARCH_FROM,
        truncated: listed.truncated,
        fetchedAt: listed.fetchedAt,
        ...(listed.stale ? { stale: listed.stale } : {}),
        dependents,
      };
    }
  }
  return views;
}

function matchesSearch(choice: Choice, search: string) {
  return (
    choice.label.toLowerCase().includes(search) ||
    choice.value.toLowerCase().includes(search) ||
    !!choice.note?.toLowerCase().includes(search)
  );
}

/** The values dependent lists are asked for: each field's string value (comma lists and rows are never parents). */
export function parentValues(values: Record<string, ConfigFormValue>, inherited: Record<string, unknown> = {}) {
  const parents: Record<string, unknown> = { ...inherited };
  for (const [name, value] of Object.entries(values)) if (typeof value === "string" && value.trim()) parents[name] = value.trim();
  return parents;
}

/**
 * Enter pressed in a search box submits the form with its default button, a POST: when that
 * default button was the submitter and a search box holds a new search, the form's values go
 * back to the page's address as a search instead of being saved. Null: save.
 */
export function searchInsteadOfSave(formData: FormData, url: URL): string | null {
  if (formData.get("intent") !== "default") return null;
  const searched = [...formData].some(
    ([name, value]) => name.startsWith("find.") && typeof value === "string" && value.trim() !== "" && value !== url.searchParams.get(name),
  );
  if (!searched) return null;
  return `${url.pathname}?${draftParams(formData)}`;
}

/** A posted form as the address a GET of it would have: drawing a refused save's pickers for what was submitted. */
export function draftParams(formData: FormData): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of formData) if (name !== "intent" && typeof value === "string") params.append(name, value);
  return params;
}
