import { json, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { applyPushedRevocation, webhookReceiver } from "~/lib/connections/pushed-revocation.server";
import { readBodyWithin } from "~/lib/platform/http.server";

// Revocation events are a few hundred bytes; a GitHub App's webhook also carries the events it
// cannot unsubscribe from (installation…), which stay well under this.
const MAX_BODY_BYTES = 256 * 1024;

function error(status: number, code: string, message: string, headers: HeadersInit = {}) {
  return json({ error: { code, message } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

const answer = (body: Record<string, unknown>) => json(body, { headers: { "Cache-Control": "no-store" } });

export function loader() {
  return error(405, "method_not_allowed", "Providers POST their webhooks here.", { Allow: "POST" });
}

/**
 * POST /webhooks/<provider>: what a provider sends when a user revokes SpokeDo on its side. No
 * session and no workspace: the provider's signature is the only credential.
 */
export async function action({ request, params, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return error(405, "method_not_allowed", "Providers POST their webhooks here.", { Allow: "POST" });
  const receiver = webhookReceiver(context.settings, params.provider);
  if (receiver.kind === "none") return error(404, "not_found", "No provider webhook is received at this address.");
  if (receiver.kind === "unconfigured") {
    return error(503, "webhook_not_configured", `${receiver.provider.name} webhooks are not configured on this server yet.`);
  }

  const body = await readBodyWithin(request, MAX_BODY_BYTES);
  if (!body) return error(413, "too_large", "The request body is larger than 256 KiB.");
  const reading = await receiver.webhook.read({ headers: request.headers, body, now: Date.now() }, receiver.secret);
  if (!reading.ok) return error(reading.problem === "unauthorized" ? 401 : 400, reading.code, reading.message);

  const event = reading.event;
  switch (event.kind) {
    case "challenge":
      return answer(event.answer);
    case "ignored":
      return answer({ ok: true, ignored: event.event });
    case "revoked": {
      const outcome = await applyPushedRevocation(context.db, receiver.provider, event);
      if (outcome.kind === "replayed") return error(401, "replayed", "This delivery was already received; a replay changes nothing.");
      return answer({ ok: true, revoked: outcome.revoked });
    }
  }
}
