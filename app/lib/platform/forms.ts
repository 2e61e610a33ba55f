import { parseWithValibot } from "@conform-to/valibot";
import * as v from "valibot";

/**
 * Parses a submitted form with its valibot schema. Validation runs on the server for every
 * submission, with or without JavaScript, so both show the same messages. Empty fields stay
 * empty strings (conform's coercion would drop them), so each field reports its own "enter …"
 * message rather than a generic one.
 */
export function parseForm<Schema extends v.GenericSchema>(formData: FormData | URLSearchParams, schema: Schema) {
  return parseWithValibot(formData, { schema, disableAutoCoercion: true });
}

/**
 * Issues grouped by field path (`prefix` + dot path; "" for the whole input). Unlike
 * `v.flatten`, which assigns into a plain object, a hostile key such as `__proto__` in a JSON
 * body becomes an ordinary entry here.
 */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[], prefix = ""): Record<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const issue of issues) {
    const key = `${prefix}${v.getDotPath(issue) ?? ""}`;
    grouped.set(key, [...(grouped.get(key) ?? []), issue.message]);
  }
  return Object.fromEntries(grouped);
}
