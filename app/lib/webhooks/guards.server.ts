import type { RequestContext } from "../platform/context.server";
import type { EndpointDeps } from "./endpoints.server";

/** Signing secrets are encrypted with the token key ring; without it the pages say so instead of failing. */
export async function requireWebhookDeps(context: RequestContext): Promise<EndpointDeps> {
  if (!context.settings.keyRing) {
    throw new Response(
      "Webhooks are not available: the server is missing its token encryption keys. See the README's configuration section.",
      { status: 503 },
    );
  }
  return { db: context.db, ring: await context.settings.keyRing, webhookTargets: context.settings.webhookTargets };
}
