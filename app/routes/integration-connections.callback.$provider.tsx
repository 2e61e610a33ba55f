import { json, redirect, type HeadersFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { can, refusal } from "~/lib/accounts/permissions";
import { auditorFor } from "~/lib/audit/trail.server";
import { getCurrentSession } from "~/lib/accounts/sessions.server";
import { finishAuthorization } from "~/lib/connections/authorization.server";
import { requireVault } from "~/lib/connections/guards.server";
import { redirectWithFlash, type Flash } from "~/lib/platform/flash.server";
import { getProvider, isProviderId } from "~/lib/providers/registry";

// The callback URL carries a code and state: never leak it through Referer, never cache it.
const CALLBACK_HEADERS = { "Referrer-Policy": "no-referrer", "Cache-Control": "no-store" };
export const headers: HeadersFunction = () => CALLBACK_HEADERS;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.title ?? "Connecting"} · SpokeDo` }];

/** A callback that cannot finish: a page of its own in the layout, with the way back (never the code or state). */
function failure(status: number, title: string, message: string, back: { href: string; label: string }) {
  return json({ title, message, back }, { status, headers: CALLBACK_HEADERS });
}

/** Each provider has its own path (mix-up defence); the pending flow records which one it expects. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const provider = params.provider;
  if (!isProviderId(provider)) {
    return failure(404, "No such provider", "SpokeDo does not connect to this provider.", {
      href: "/integration-connections",
      label: "Back to connections",
    });
  }
  // Signed out (the session ended while at the provider): refused here, never redirected to the
  // sign-in page with the code and state in its address.
  if (!(await getCurrentSession(context, request))) {
    return failure(
      401,
      "Sign in to finish connecting",
      "Your session ended while you were at the provider, so this authorization cannot be finished. Sign in and connect again: nothing was saved.",
      {
        href: "/login",
        label: "Sign in",
      },
    );
  }
  const member = await requireWorkspaceMember(context, request);
  const deps = await requireVault(context);
  const actor = { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
  const role = member.workspace.role;
  const result = await finishAuthorization(deps, actor, provider, new URL(request.url).searchParams, (purpose) => {
    const needs = purpose === "new" ? "connections.connect" : "connections.reauthorize";
    return can(role, needs) ? null : refusal(role, needs);
  });

  const audit = auditorFor(context, member);
  const go = (location: string, flash?: Flash) =>
    flash ? redirectWithFlash(context, location, flash, CALLBACK_HEADERS) : redirect(location, { status: 303, headers: CALLBACK_HEADERS });

  switch (result.kind) {
    case "invalid":
      return failure(400, "This authorization cannot be finished", result.message, {
        href: "/integration-connections/new",
        label: "Connect an account again",
      });
    case "created":
      await audit.record({
        action: "connection.connected",
        object: { id: result.connectionId, label: result.flow.connection_name ?? "" },
        detail: `${getProvider(provider).name} account ${result.account}.`,
      });
      return go(`/integration-connections/${result.connectionId}`, {
        type: "success",
        message: `Connected ${result.flow.connection_name}.`,
      });
    case "reauthorized":
      await audit.record({
        action: "connection.reauthorized",
        object: { id: result.connectionId, label: result.connectionName },
        detail: `${getProvider(provider).name} account ${result.account}.${result.revocation ? ` ${result.revocation.message}` : ""}`,
      });
      return go(`/integration-connections/${result.connectionId}`, {
        type: "success",
        message: `Re-authorized: fresh tokens are in place and the connection is active.${result.revocation ? ` ${result.revocation.message}` : ""}`,
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

export default function CallbackFailure() {
  const data = useLoaderData<typeof loader>();
  return (
    <section className="page page--narrow">
      <div className="card stack">
        <h1>{data.title}</h1>
        <p>{data.message}</p>
        <p>
          <a className="button button--primary" href={data.back.href}>
            {data.back.label}
          </a>{" "}
          <a href="/integration-connections">All connections</a>
        </p>
      </div>
    </section>
  );
}
