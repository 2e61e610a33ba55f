import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import * as v from "valibot";
import { authenticateApiKey } from "~/lib/accounts/api-keys.server";
import { LOG_PAGE_SIZE, loadInsightPage } from "~/lib/delivery/log.server";
import { insightApiView } from "~/lib/delivery/api-views.server";
import { apiError, apiJson, apiUnauthorized } from "~/lib/platform/api.server";

const PageSchema = v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number), v.minValue(1));

/** GET /api/v1/insights/:id: the insight, each delivery's state and its integration log (50 deliveries a page). */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const key = await authenticateApiKey(context.db, request.headers.get("Authorization"));
  if (!key) return apiUnauthorized();
  const url = new URL(request.url);
  const page = v.safeParse(PageSchema, url.searchParams.get("page") ?? "1");
  if (!page.success) {
    return apiError(400, "validation_failed", "Some query parameters are invalid.", {
      fields: { page: ["page must be a whole number from 1."] },
    });
  }
  const log = await loadInsightPage(context.db, key.workspaceId, params.id ?? "", page.output);
  if (!log) return apiError(404, "insight_not_found", "This workspace has no insight with that id.");
  const origin = context.settings.appUrl ?? url.origin;
  return apiJson(insightApiView(log, { origin, page: page.output, pageSize: LOG_PAGE_SIZE }));
}
