import { json, type ActionFunctionArgs } from "@remix-run/cloudflare";
import * as v from "valibot";
import { authenticateApiKey } from "~/lib/accounts/api-keys.server";
import type { CreateInsightResult } from "~/lib/delivery/insights.server";
import { auditInsert, insightSent, keyActor } from "~/lib/audit/trail.server";
import { submitInsight, submitInsightIdempotently, type Alongside, type ApiAnswer } from "~/lib/delivery/submission.server";
import { apiError, apiUnauthorized } from "~/lib/platform/api.server";
import { fieldErrors } from "~/lib/platform/forms";
import { readBodyWithin } from "~/lib/platform/http.server";
import { InsightBodySchema, InsightTitleSchema } from "~/lib/platform/validation";

const MAX_BODY_BYTES = 64 * 1024;

const CreateInsightSchema = v.strictObject({
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
});

// An Idempotency-Key is an opaque string (IETF httpapi draft: a quoted or bare token); we keep it
// printable and bounded.
const IdempotencyKeySchema = v.pipe(v.string(), v.regex(/^"?[\x21-\x7e]{1,255}"?$/));

const error = apiError;

function answer({ status, body }: ApiAnswer, headers: HeadersInit = {}) {
  const location = (body as { url?: string }).url;
  return json(body, { status, headers: { "Cache-Control": "no-store", ...(location ? { Location: location } : {}), ...headers } });
}

function refusal(created: Extract<CreateInsightResult, { ok: false }>) {
  if (created.reason === "unknown_intents") {
    return error(404, "intent_not_found", `No intent in this workspace is named or identified as: ${created.unknown.join(", ")}.`, {
      intents: created.unknown,
    });
  }
  return error(400, "validation_failed", "Some intents are disabled.", {
    fields: { intents: [`Disabled: ${created.disabled.join(", ")}.`] },
  });
}

export function loader() {
  return error(405, "method_not_allowed", "Use POST to create an insight.", {}, { Allow: "POST" });
}

/** POST /api/v1/insights with `Authorization: Bearer <workspace API key>` (and optionally `Idempotency-Key`). */
export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return error(405, "method_not_allowed", "Use POST to create an insight.", {}, { Allow: "POST" });
  const key = await authenticateApiKey(context.db, request.headers.get("Authorization"));
  if (!key) return apiUnauthorized();
  const idempotencyKey = request.headers.get("Idempotency-Key");
  if (idempotencyKey !== null && !v.is(IdempotencyKeySchema, idempotencyKey)) {
    return error(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable characters.");
  }

  if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json"))
    return error(415, "unsupported_media_type", "Send JSON with Content-Type: application/json.");
  const raw = await readBodyWithin(request, MAX_BODY_BYTES);
  if (!raw) return error(413, "too_large", "The request body is larger than 64 KiB.");
  const rawBody = new TextDecoder().decode(raw);
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    return error(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = v.safeParse(CreateInsightSchema, payload);
  if (!parsed.success) return error(400, "validation_failed", "Some fields are invalid.", { fields: fieldErrors(parsed.issues) });

  const { title, body, intents } = parsed.output;
  const input = { title, body, source: "api" as const, targets: intents?.length ? { names: intents } : { all: true as const } };
  const origin = context.settings.appUrl ?? new URL(request.url).origin;
  const answerFor = ({ insightId, deliveryIds }: { insightId: string; deliveryIds: string[] }): ApiAnswer => ({
    status: 202,
    body: { id: insightId, url: `${origin}/insights/${insightId}`, deliveries: deliveryIds.length },
  });

  // The key is the actor of the audit event, written in the insight's own batch.
  const actor = keyActor({ id: key.keyId, name: key.name }, context.clientCountry);
  const alongside: Alongside = ({ insightId, deliveryIds }) => [
    auditInsert(context.db, key.workspaceId, actor, insightSent(insightId, title, deliveryIds.length)),
  ];
  if (idempotencyKey === null) {
    const created = await submitInsight(context.db, context.deliveryQueue, key.workspaceId, input, alongside);
    return created.ok ? answer(answerFor(created)) : refusal(created);
  }
  const result = await submitInsightIdempotently(
    context.db,
    context.deliveryQueue,
    key.workspaceId,
    input,
    { key: idempotencyKey, rawBody },
    answerFor,
    alongside,
  );
  switch (result.kind) {
    case "created":
      return answer(result.answer);
    case "replayed":
      return answer(result.answer, { "Idempotent-Replayed": "true" });
    case "refused":
      return refusal(result.created);
    case "key_reused":
      return error(422, "idempotency_key_reused", "This Idempotency-Key was already used with a different request body.");
  }
}
