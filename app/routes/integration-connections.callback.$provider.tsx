import { redirect, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { finishAuthorization } from "~/lib/connections/authorization.server";
import { requireVault } from "~/lib/connections/guards.server";
import { redirectWithFlash, type Flash } from "~/lib/platform/flash.server";
import { isProviderId } from "~/lib/providers/registry";

// The callback URL carries a code and state: never leak it through Referer, never cache it.
const CALLBACK_HEADERS = { "Referrer-Policy": "no-referrer", "Cache-Control": "no-store" };
export const headers: HeadersFunction = () => CALLBACK_HEADERS;

/** Each provider has its own path (mix-up defence); the pending flow records which one it expects. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const provider = params.provider;
  if (!isProviderId(provider)) throw new Response("Not found", { status: 404, headers: CALLBACK_HEADERS });
  const member = await requireWorkspaceMember(context, request);
  const deps = await requireVault(context);
  const actor = { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
  const result = await finishAuthorization(deps, actor, provider, new URL(request.url).searchParams);

  const go = (location: string, flash?: Flash) =>
    flash ? redirectWithFlash(context, location, flash, CALLBACK_HEADERS) : redirect(location, { status: 303, headers: CALLBACK_HEADERS });

  switch (result.kind) {
    case "invalid":
      throw new Response(result.message, { status: 400, headers: CALLBACK_HEADERS });
    case "created":
      return go(`/integration-connections/${result.connectionId}`, {
        type: "success",
        message: `Connected ${result.flow.connection_name}.`,
      });
    case "reauthorized":
      return go(`/integration-connections/${result.connectionId}`, {
        type: "success",
        message: "Re-authorized: fresh tokens are in place and the connection is active.",
      });
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
