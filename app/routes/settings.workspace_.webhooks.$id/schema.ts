import * as v from "valibot";
import { IdSchema } from "~/lib/platform/validation";
import { EndpointFieldEntries } from "~/lib/webhooks/validation";

export const EndpointIntentSchema = v.picklist(["save", "delete", "test", "resend"], "Unknown action.");
export type EndpointIntent = v.InferOutput<typeof EndpointIntentSchema>;

export const SaveEndpointSchema = v.object({ intent: v.literal("save"), ...EndpointFieldEntries });
export const ResendSchema = v.object({ intent: v.literal("resend"), deliveryId: IdSchema });

// `?before=<at>.<id>`: the last log row of the previous page (keyset pagination).
export const BeforeSchema = v.fallback(
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}\.[0-9a-f-]{36}$/),
      v.transform((value) => ({ at: Number(value.split(".")[0]), id: value.split(".")[1]! })),
    ),
  ),
  undefined,
);
