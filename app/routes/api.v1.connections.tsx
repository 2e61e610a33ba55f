import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import * as v from "valibot";
import { authenticateApiKey } from "~/lib/accounts/api-keys.server";
import { listConnectionsAfter } from "~/lib/connections/repository.server";
import { connectionApiView } from "~/lib/connections/views.server";
import { apiError, apiJson, apiUnauthorized, decodeCursor, encodeCursor } from "~/lib/platform/api.server";
import { fieldErrors } from "~/lib/platform/forms";
import { CONNECTION_STATUSES } from "~/lib/platform/schema";
import { isProviderId, listProviders } from "~/lib/providers/registry";

const QuerySchema = v.strictObject({
  status: v.optional(v.picklist(CONNECTION_STATUSES, `status must be one of: ${CONNECTION_STATUSES.join(", ")}.`)),
  provider: v.optional(
    v.pipe(
      v.string(),
      v.check((id) => isProviderId(id), "provider must be one of the providers SpokeDo knows."),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, "limit must be a whole number from 1 to 100."),
      v.transform(Number),
      v.minValue(1, "limit must be a whole number from 1 to 100."),
      v.maxValue(100, "limit must be a whole number from 1 to 100."),
    ),
  ),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512, "cursor is not one this API gave out."))),
});

/** GET /api/v1/connections: the workspace's connections with status, health and expiry, a page at a time. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const key = await authenticateApiKey(context.db, request.headers.get("Authorization"));
  if (!key) return apiUnauthorized();
  const url = new URL(request.url);
  const parsed = v.safeParse(QuerySchema, Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    return apiError(400, "validation_failed", "Some query parameters are invalid.", {
      fields: fieldErrors(parsed.issues),
      providers: listProviders().map((provider) => provider.id),
    });
  }
  const { status, provider, limit = 50, cursor } = parsed.output;
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after !== undefined && typeof after !== "string") {
    return apiError(400, "validation_failed", "Some query parameters are invalid.", {
      fields: { cursor: ["cursor is not one this API gave out."] },
    });
  }
  const page = await listConnectionsAfter(context.db, key.workspaceId, { status, provider, afterName: after, limit });
  const last = page.rows.at(-1);
  const next = page.more && last ? new URL(url) : null;
  next?.searchParams.set("cursor", encodeCursor(last!.name));
  return apiJson({
    data: page.rows.map(connectionApiView),
    nextCursor: next ? next.searchParams.get("cursor") : null,
    next: next?.toString() ?? null,
  });
}
