import { parseWithValibot } from "@conform-to/valibot";
import type { GenericSchema } from "valibot";

/**
 * Parses a submitted form with its valibot schema. Validation runs on the server for every
 * submission, with or without JavaScript, so both show the same messages. Empty fields stay empty strings (conform's coercion would drop them), so each field
 * reports its own "enter …" message rather than a generic one.
 */
export function parseForm<Schema extends GenericSchema>(formData: FormData | URLSearchParams, schema: Schema) {
  return parseWithValibot(formData, { schema, disableAutoCoercion: true });
}
