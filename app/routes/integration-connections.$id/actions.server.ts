import { redirect } from "@remix-run/cloudflare";
import * as v from "valibot";
import type { WorkspaceMember } from "~/lib/accounts/guards.server";
import type { Permission } from "~/lib/accounts/permissions";
import { auditorFor } from "~/lib/audit/trail.server";
import { confirmReauthorization, discardPendingReauthorization, startReauthorizing } from "~/lib/connections/authorization.server";
import { disableConnection } from "~/lib/connections/repository.server";
import type { VaultDeps } from "~/lib/connections/vault.server";
import { testConnectionAndTargets } from "~/lib/delivery/drift.server";
import { repointIntents } from "~/lib/delivery/intents.server";
import { enableConnection, redeliverConnection } from "~/lib/delivery/redelivery.server";
import type { RequestContext } from "~/lib/platform/context.server";
import { redirectWithFlash, type Flash } from "~/lib/platform/flash.server";
import type { ConnectionRow } from "~/lib/platform/schema";
import { getProvider } from "~/lib/providers/registry";
import { RepointSchema, type DetailIntent } from "./schema";

/** One function per form intent of the connection page (the Epic Stack's shape). */
interface ActionArgs {
  context: RequestContext;
  member: WorkspaceMember;
  deps: VaultDeps;
  connection: ConnectionRow;
  formData: FormData;
}

function back(context: RequestContext, connection: ConnectionRow, flash: Flash) {
  return redirectWithFlash(context, `/integration-connections/${connection.id}`, flash);
}

function actorOf(member: WorkspaceMember) {
  return { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
}

const about = (connection: ConnectionRow) => ({ id: connection.id, label: connection.name });

async function test({ context, member, deps, connection }: ActionArgs) {
  const outcome = await testConnectionAndTargets(deps, connection);
  await auditorFor(context, member).record({ action: "connection.tested", object: about(connection), detail: outcome.message });
  const type = outcome.status !== "active" ? "error" : outcome.warning ? "info" : "success";
  return back(context, connection, { type, message: outcome.message });
}

async function reauthorize({ context, member, deps, connection }: ActionArgs) {
  const provider = getProvider(connection.provider);
  const started = await startReauthorizing(deps, actorOf(member), connection);
  if (started.ok) return redirect(started.url, 303);
  switch (started.reason) {
    case "not_configured":
      return back(context, connection, { type: "error", message: `${provider.name} is not configured on this server.` });
    case "rate_limited": {
      const minutes = Math.ceil(started.retryAfterSeconds / 60);
      const message = `Too many authorizations started in the last 10 minutes. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
      return back(context, connection, { type: "error", message });
    }
    case "provider_error":
      return back(context, connection, { type: "error", message: `Could not start the authorization. ${started.message}` });
  }
}

async function confirmAccount({ context, member, deps, connection }: ActionArgs) {
  const confirmed = await confirmReauthorization(deps, actorOf(member), connection.id);
  if (confirmed) {
    await auditorFor(context, member).record({
      action: "connection.account_switched",
      object: about(connection),
      changes: { account: [connection.account_label, confirmed.accountLabel] },
      detail: confirmed.revocation.message,
    });
  }
  return back(
    context,
    connection,
    confirmed
      ? {
          type: "success",
          message: `The connection now uses the other account. Its id, name and settings are unchanged. ${confirmed.revocation.message}`,
        }
      : { type: "error", message: "That re-authorization expired. Re-authorize again." },
  );
}

async function cancelAccount({ context, member, deps, connection }: ActionArgs) {
  const discarded = await discardPendingReauthorization(deps, actorOf(member), connection.id);
  if (discarded) {
    await auditorFor(context, member).record({
      action: "connection.account_kept",
      object: about(connection),
      detail: `Kept ${connection.account_label}; discarded ${discarded.accountLabel}. ${discarded.revocation.message}`,
    });
  }
  const revoked = discarded ? ` ${discarded.revocation.message}` : "";
  return back(context, connection, {
    type: "info",
    message: `Kept the current account; the other account's tokens were discarded.${revoked}`,
  });
}

async function repoint({ context, member, connection, formData }: ActionArgs) {
  const provider = getProvider(connection.provider);
  const target = v.safeParse(RepointSchema, { targetConnectionId: formData.get("targetConnectionId") });
  const moved = target.success
    ? await repointIntents(context.db, member.workspace.id, connection, target.output.targetConnectionId)
    : ({ ok: false, reason: "not_found" } as const);
  if (!moved.ok) {
    const message =
      moved.reason === "other_provider"
        ? `Intents can only move to another ${provider.name} connection.`
        : "Choose another connection to move the intents to.";
    return back(context, connection, { type: "error", message });
  }
  const message = `Moved ${moved.moved} intent${moved.moved === 1 ? "" : "s"}; this connection can now be deleted.`;
  await auditorFor(context, member).record({
    action: "connection.intents_moved",
    object: about(connection),
    detail: `Moved ${moved.moved} intent${moved.moved === 1 ? "" : "s"} to ${moved.target}.`,
  });
  return back(context, connection, { type: "success", message });
}

async function redeliverFailed({ context, member, connection }: ActionArgs) {
  if (connection.status === "revoked" || connection.status === "expired") {
    return back(context, connection, { type: "error", message: "Re-authorize the connection first: its deliveries would fail again." });
  }
  const count = await redeliverConnection(context.db, context.deliveryQueue, member.workspace.id, connection.id);
  if (count) {
    await auditorFor(context, member).record({
      action: "connection.redelivered",
      object: about(connection),
      detail: `${count} failed deliver${count === 1 ? "y" : "ies"} sent again.`,
    });
  }
  const message = count
    ? `Redelivering ${count} failed deliver${count === 1 ? "y" : "ies"}: each is checked at the provider first, so nothing arrives twice.`
    : "No failed delivery to redeliver.";
  return back(context, connection, { type: count ? "success" : "info", message });
}

async function disable({ context, member, connection }: ActionArgs) {
  const disabled = await disableConnection(context.db, member.workspace.id, connection.id);
  if (disabled) await auditorFor(context, member).record({ action: "connection.disabled", object: about(connection) });
  const message = disabled
    ? "Disabled: new deliveries through this connection are held until you enable it again; nothing is sent or failed meanwhile."
    : "The connection was already disabled.";
  return back(context, connection, { type: "info", message });
}

async function enable({ context, member, connection }: ActionArgs) {
  const released = await enableConnection(context.db, context.deliveryQueue, member.workspace.id, connection.id);
  if (released !== null) {
    const detail = released ? `${released} held deliver${released === 1 ? "y" : "ies"} released.` : null;
    await auditorFor(context, member).record({ action: "connection.enabled", object: about(connection), detail });
  }
  const message =
    released === null
      ? "The connection was already enabled."
      : released
        ? `Enabled. Sending the ${released} deliver${released === 1 ? "y" : "ies"} held while it was disabled.`
        : "Enabled: intents deliver through this connection again.";
  return back(context, connection, { type: "success", message });
}

/** What each form intent needs (decision 026): the route refuses the rest with 403. */
export const REQUIRES: Record<DetailIntent, Permission> = {
  test: "connections.test",
  reauthorize: "connections.reauthorize",
  "confirm-account": "connections.reauthorize",
  "cancel-account": "connections.reauthorize",
  "repoint-intents": "connections.delete",
  "redeliver-failed": "connections.configure",
  disable: "connections.configure",
  enable: "connections.configure",
};

export const ACTIONS: Record<DetailIntent, (args: ActionArgs) => Promise<Response>> = {
  test,
  reauthorize,
  "confirm-account": confirmAccount,
  "cancel-account": cancelAccount,
  "repoint-intents": repoint,
  "redeliver-failed": redeliverFailed,
  disable,
  enable,
};
