import { createRequestHandler, type ServerBuild } from "@remix-run/cloudflare";
import * as build from "virtual:remix/server-build";
import type { AppConfig } from "./lib/config.server";
import { bookmarkCookie, createRequestContext } from "./lib/context.server";
import { runMaintenance } from "./lib/maintenance.server";
import { applySecurityHeaders, createCspNonce, rejectCrossSiteRequest } from "./lib/security.server";

const handleRemixRequest = createRequestHandler(build as unknown as ServerBuild);

const originsCache = new WeakMap<AppConfig, string[]>();
function providerOrigins(config: AppConfig): string[] {
  let origins = originsCache.get(config);
  if (!origins) {
    origins = [...new Set(Object.values(config.providers).filter((p) => p.credentials).map((p) => new URL(p.endpoints.web).origin))];
    originsCache.set(config, origins);
  }
  return origins;
}

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
    response.headers.set("Server-Timing", `d1;desc="${context.dbHandle.queryCount()} queries"`);
    return applySecurityHeaders(response, {
      nonce: cspNonce,
      secure: context.secure,
      formActionOrigins: providerOrigins(context.config),
    });
  },

  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runMaintenance(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
