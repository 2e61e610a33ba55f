import { redirect, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { requireKeyRing } from "~/lib/connection-guards.server";
import { flashCookie } from "~/lib/flash.server";
import { completeAuthorization } from "~/lib/oauth-flows.server";
import { isProviderId } from "~/lib/providers/registry";

// The callback URL carries a code and state: never leak it through Referer, never cache it.
const CALLBACK_HEADERS = { "Referrer-Policy": "no-referrer", "Cache-Control": "no-store" };
export const headers: HeadersFunction = () => CALLBACK_HEADERS;

/** Each provider has its own path (mix-up defence); the pending flow records which one it expects. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const provider = params.provider;
  if (!isProviderId(provider)) throw new Response("Not found", { status: 404, headers: CALLBACK_HEADERS });
  const member = await requireWorkspaceMember(context, request);
  const ring = await requireKeyRing(context);
  const result = await completeAuthorization(
    context,
    context.config,
    ring,
    { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId },
    provider,
    new URL(request.url).searchParams,
  );

  const go = (location: string, flash?: Parameters<typeof flashCookie>[1]) => {
    const responseHeaders = new Headers(CALLBACK_HEADERS);
    if (flash) responseHeaders.append("Set-Cookie", flashCookie(context, flash));
    return redirect(location, { status: 303, headers: responseHeaders });
  };

  switch (result.kind) {
    case "invalid":
      throw new Response(result.message, { status: 400, headers: CALLBACK_HEADERS });
    case "created":
      return go(`/integration-connections/${result.connectionId}`, { type: "success", message: `Connected ${result.flow.connection_name}.` });
    case "reauthorized":
      return go(`/integration-connections/${result.connectionId}`, { type: "success", message: "Re-authorized: fresh tokens are in place and the connection is active." });
    case "needs_confirmation":
      return go(`/integration-connections/${result.connectionId}`);
    case "denied":
    case "failed": {
      const flash = { type: result.kind === "denied" ? ("info" as const) : ("error" as const), message: result.message };
      if (result.flow.purpose === "reauthorize") return go(`/integration-connections/${result.flow.connection_id}`, flash);
      const back = new URLSearchParams({ provider: result.flow.provider, name: result.flow.connection_name ?? "" });
      return go(`/integration-connections/new?${back}`, flash);
    }
  }
}
