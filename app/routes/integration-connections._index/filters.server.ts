import * as v from "valibot";
import { CONNECTION_STATUSES } from "~/lib/platform/schema";
import { isProviderId } from "~/lib/providers/registry";

// Filters come from the URL: anything unrecognised falls back to "no filter" rather than an error.
export const FiltersSchema = v.object({
  provider: v.fallback(
    v.optional(
      v.pipe(
        v.string(),
        v.check((id: string) => isProviderId(id)),
      ),
    ),
    undefined,
  ),
  status: v.fallback(v.optional(v.picklist(CONNECTION_STATUSES)), undefined),
  state: v.fallback(v.optional(v.picklist(["enabled", "disabled"])), undefined),
  q: v.fallback(v.optional(v.pipe(v.string(), v.trim(), v.maxLength(50))), undefined),
  unused: v.fallback(v.optional(v.picklist(["1"])), undefined),
  sort: v.fallback(v.picklist(["name", "last_used", "status"]), "name"),
  page: v.fallback(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(10_000)), 1),
});
