import * as v from "valibot";
import { IntentNameSchema, ConnectionPickEntries } from "~/lib/platform/validation";

export const IntentActionSchema = v.picklist(["save", "delete"], "Unknown action.");

export const SaveIntentSchema = v.object({
  intent: v.literal("save"),
  name: IntentNameSchema,
  enabled: v.optional(v.literal("on")),
  // Checked against the target connection's provider on the server.
  overrides: v.optional(v.record(v.string(), v.unknown()), {}),
  ...ConnectionPickEntries,
});
