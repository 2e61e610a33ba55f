import { json, type ActionFunctionArgs } from "@remix-run/cloudflare";
import * as v from "valibot";
import { authenticateApiKey } from "~/lib/accounts/api-keys.server";
import { startDeliveries } from "~/lib/delivery/outbox.server";
import { createInsight } from "~/lib/delivery/insights.server";
import { fieldErrors } from "~/lib/platform/forms";
import { readBodyWithin } from "~/lib/platform/http.server";
import { InsightBodySchema, InsightTitleSchema } from "~/lib/platform/validation";

const MAX_BODY_BYTES = 64 * 1024;

const CreateInsightSchema = v.strictObject(
  {
    title: InsightTitleSchema,
    body: InsightBodySchema,
    intents: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string("Each intent is a name or an id."),
            v.nonEmpty("Each intent is a name or an id."),
            v.maxLength(64, "Intent names and ids have at most 64 characters."),
          ),
          "intents must be an array of intent names or ids.",
        ),
        v.maxLength(50, "At most 50 intents per insight."),
      ),
    ),
  },
  "Unknown field: send only title, body and intents.",
);

function error(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: HeadersInit = {}) {
  return json({ error: { code, message, ...extra } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export function loader() {
  return error(405, "method_not_allowed", "Use POST to create an insight.", {}, { Allow: "POST" });
}

/** POST /api/v1/insights with `Authorization: Bearer <workspace API key>`. */
export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return error(405, "method_not_allowed", "Use POST to create an insight.", {}, { Allow: "POST" });
  const key = await authenticateApiKey(context.db, request.headers.get("Authorization"));
  if (!key)
    return error(
      401,
      "unauthorized",
      "Send a valid workspace API key as `Authorization: Bearer <key>`.",
      {},
      { "WWW-Authenticate": 'Bearer realm="SpokeDo"' },
    );

  if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json"))
    return error(415, "unsupported_media_type", "Send JSON with Content-Type: application/json.");
  const raw = await readBodyWithin(request, MAX_BODY_BYTES);
  if (!raw) return error(413, "too_large", "The request body is larger than 64 KiB.");
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return error(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = v.safeParse(CreateInsightSchema, payload);
  if (!parsed.success) return error(400, "validation_failed", "Some fields are invalid.", { fields: fieldErrors(parsed.issues) });

  const { title, body, intents } = parsed.output;
  const created = await createInsight(context.db, key.workspaceId, {
    title,
    body,
    source: "api",
    targets: intents?.length ? { names: intents } : { all: true },
  });
  if (!created.ok && created.reason === "unknown_intents") {
    return error(404, "intent_not_found", `No intent in this workspace is named or identified as: ${created.unknown.join(", ")}.`, {
      intents: created.unknown,
    });
  }
  if (!created.ok)
    return error(400, "validation_failed", "Some intents are disabled.", {
      fields: { intents: [`Disabled: ${created.disabled.join(", ")}.`] },
    });
  startDeliveries(context.env, context.settings, context.db, created.insightId, context.waitUntil);
  const url = `${context.settings.appUrl ?? new URL(request.url).origin}/insights/${created.insightId}`;
  return json(
    { id: created.insightId, url, deliveries: created.deliveryIds.length },
    { status: 202, headers: { Location: url, "Cache-Control": "no-store" } },
  );
}
