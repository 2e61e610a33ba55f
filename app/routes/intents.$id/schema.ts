import * as v from "valibot";
import { IntentNameSchema, ConnectionPickEntries } from "~/lib/platform/validation";

/** `default` is the hidden first button Enter presses: it saves unless a search box holds a new search. */
export const IntentActionSchema = v.picklist(["save", "default"], "Unknown action.");

export const SaveIntentSchema = v.object({
  intent: v.picklist(["save", "default"]),
  name: IntentNameSchema,
  enabled: v.optional(v.literal("on")),
  // Checked against the target connection's provider on the server.
  overrides: v.optional(v.record(v.string(), v.unknown()), {}),
  ...ConnectionPickEntries,
});
