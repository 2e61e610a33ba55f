import { createRequestHandler, type ServerBuild } from "@remix-run/cloudflare";
import * as build from "virtual:remix/server-build";
import { bookmarkCookie, createRequestContext } from "./lib/context.server";
import { runMaintenance } from "./lib/maintenance.server";
import { applySecurityHeaders, createCspNonce, rejectCrossSiteRequest } from "./lib/security.server";

const handleRemixRequest = createRequestHandler(build as unknown as ServerBuild);

export default {
  async fetch(request, env, ctx) {
    const refused = rejectCrossSiteRequest(request);
    if (refused) return refused;

    const cspNonce = createCspNonce();
    const context = createRequestContext({
      request,
      env,
      cspNonce,
      waitUntil: (promise) => ctx.waitUntil(promise),
    });
    const remixResponse = await handleRemixRequest(request, context);
    // Copy so headers are mutable whatever produced the response.
    const response = new Response(remixResponse.body, remixResponse);
    for (const cookie of context.responseCookies) response.headers.append("Set-Cookie", cookie);
    const bookmark = bookmarkCookie(request, context);
    if (bookmark) response.headers.append("Set-Cookie", bookmark);
    return applySecurityHeaders(response, { nonce: cspNonce, secure: context.secure });
  },

  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runMaintenance(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
