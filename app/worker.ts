import { createRequestHandler } from "@remix-run/cloudflare";
import * as build from "virtual:remix/server-build";
import { runMaintenance } from "./jobs/maintenance.server";
import { dispatchOutboxes } from "./jobs/outboxes.server";
import {
  consumeDeadLetters,
  consumeDeliveries,
  consumeHealthChecks,
  consumeWebhookDeadLetters,
  consumeWebhooks,
} from "./jobs/queue.server";
import { bookmarkCookie, createRequestContext } from "./lib/platform/context.server";
import { runInScope } from "./lib/platform/db.server";
import { QUEUES, type DeliveryMessage, type HealthCheckMessage, type WebhookMessage } from "./lib/platform/queues";
import { applySecurityHeaders, createCspNonce, rejectCrossSiteRequest } from "./lib/platform/security.server";
import { getSettings, providerWebOrigins } from "./lib/platform/settings.server";

const handleRemixRequest = createRequestHandler(build);

let reported = false;
/** Misconfiguration is logged once per isolate, where operators look (Workers logs). */
function reportSettingsProblems(env: Env) {
  if (reported) return;
  reported = true;
  const { problems } = getSettings(env);
  if (problems.length) console.warn(`SpokeDo settings: ${problems.join(" ")}`);
}

export default {
  async fetch(request, env, ctx) {
    reportSettingsProblems(env);
    const cspNonce = createCspNonce();
    const secure = new URL(request.url).protocol === "https:";
    const refused = rejectCrossSiteRequest(request);
    if (refused) return applySecurityHeaders(refused, { nonce: cspNonce, secure });

    const context = createRequestContext({ request, env, cspNonce, waitUntil: (promise) => ctx.waitUntil(promise) });
    const remixResponse = await runInScope(context.scope, () => handleRemixRequest(request, context));
    // Webhook events the request recorded go on their queue once it is done.
    if (context.scope.outboxes.size) ctx.waitUntil(dispatchOutboxes(env, context.scope));
    // Copy so headers are mutable whatever produced the response.
    const response = new Response(remixResponse.body, remixResponse);
    // A cookie the response itself sets wins over the context's (a flash read and cleared by the
    // root loader must not erase the new flash of the redirect that follows it).
    const setByResponse = new Set(response.headers.getSetCookie().map((cookie) => cookie.slice(0, cookie.indexOf("="))));
    for (const cookie of context.responseCookies) {
      if (!setByResponse.has(cookie.slice(0, cookie.indexOf("=")))) response.headers.append("Set-Cookie", cookie);
    }
    const bookmark = bookmarkCookie(request, context);
    if (bookmark) response.headers.append("Set-Cookie", bookmark);
    response.headers.set("Server-Timing", `d1;desc="${context.scope.statements} queries, ${context.scope.roundTrips} round trips"`);
    return applySecurityHeaders(response, { nonce: cspNonce, secure, formActionOrigins: providerWebOrigins(context.settings) });
  },

  scheduled(controller, env, ctx) {
    ctx.waitUntil(runMaintenance(env, controller.scheduledTime));
  },

  async queue(batch, env, _ctx) {
    switch (batch.queue) {
      case QUEUES.deliveries:
        return consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env);
      case QUEUES.deliveriesDeadLetters:
        return consumeDeadLetters(batch as MessageBatch<DeliveryMessage>, env);
      case QUEUES.webhooks:
        return consumeWebhooks(batch as MessageBatch<WebhookMessage>, env);
      case QUEUES.webhooksDeadLetters:
        return consumeWebhookDeadLetters(batch as MessageBatch<WebhookMessage>, env);
      case QUEUES.health:
        return consumeHealthChecks(batch as MessageBatch<HealthCheckMessage>, env);
      default:
        // Not acknowledged: the messages come back (and end in a dead-letter queue) instead of vanishing.
        throw new Error(`No consumer for queue ${batch.queue}.`);
    }
  },
} satisfies ExportedHandler<Env>;
