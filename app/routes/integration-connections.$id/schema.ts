import * as v from "valibot";
import { IdSchema } from "~/lib/platform/validation";

export const DetailIntentSchema = v.picklist(
  ["test", "reauthorize", "confirm-account", "cancel-account", "repoint-intents", "redeliver-failed", "disable", "enable"],
  "Unknown action.",
);
export type DetailIntent = v.InferOutput<typeof DetailIntentSchema>;

export const RepointSchema = v.object({ targetConnectionId: IdSchema });
