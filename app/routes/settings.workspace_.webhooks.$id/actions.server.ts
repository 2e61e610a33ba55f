import type { SubmissionResult } from "@conform-to/react";
import { json } from "@remix-run/cloudflare";
import type { WorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor, changesBetween, endpointLabel, endpointState } from "~/lib/audit/trail.server";
import type { RequestContext } from "~/lib/platform/context.server";
import { redirectWithFlash, type Flash } from "~/lib/platform/flash.server";
import { parseForm } from "~/lib/platform/forms";
import { notFound } from "~/lib/platform/responses.server";
import { deleteEndpoint, updateEndpoint, type EndpointDeps, type EndpointView } from "~/lib/webhooks/endpoints.server";
import { resendWebhookDelivery, sendTestEvent } from "~/lib/webhooks/log.server";
import { ResendSchema, SaveEndpointSchema, type EndpointIntent } from "./schema";

/** One function per form intent of an endpoint's page. */
interface ActionArgs {
  context: RequestContext;
  member: WorkspaceMember;
  deps: EndpointDeps;
  workspaceId: string;
  endpoint: EndpointView;
  formData: FormData;
}

export type SaveReply = { intent: "save"; result: SubmissionResult<string[]> };

const back = (context: RequestContext, endpoint: EndpointView, flash: Flash) =>
  redirectWithFlash(context, `/settings/workspace/webhooks/${endpoint.id}`, flash);

const about = (endpoint: EndpointView) => ({ id: endpoint.id, label: endpointLabel(endpoint.url) });

async function save({ context, member, deps, workspaceId, endpoint, formData }: ActionArgs) {
  const submission = parseForm(formData, SaveEndpointSchema);
  if (submission.status !== "success") return json<SaveReply>({ intent: "save", result: submission.reply() }, { status: 400 });
  const { url, description, events, enabled } = submission.value;
  const saved = await updateEndpoint(deps, workspaceId, endpoint.id, { url, description, events, enabled: enabled === "on" });
  if (!saved.ok && saved.reason === "not_found") throw notFound();
  if (!saved.ok) {
    return json<SaveReply>(
      { intent: "save", result: submission.reply({ fieldErrors: saved.fieldErrors, formErrors: saved.formErrors ?? [] }) },
      { status: 400 },
    );
  }
  const changes = changesBetween(endpointState(endpoint), endpointState({ url, description, events, enabled: enabled === "on" }));
  if (changes) await auditorFor(context, member).record({ action: "webhook.changed", object: about(endpoint), changes });
  return back(context, endpoint, { type: "success", message: "Endpoint saved." });
}

async function remove({ context, member, deps, workspaceId, endpoint }: ActionArgs) {
  if (!(await deleteEndpoint(deps.db, workspaceId, endpoint.id))) throw notFound();
  await auditorFor(context, member).record({ action: "webhook.deleted", object: about(endpoint) });
  return redirectWithFlash(context, "/settings/workspace", { type: "success", message: `Deleted the webhook endpoint ${endpoint.url}.` });
}

async function test({ context, member, deps, workspaceId, endpoint }: ActionArgs) {
  if (!(await sendTestEvent(deps.db, workspaceId, endpoint.id))) throw notFound();
  await auditorFor(context, member).record({ action: "webhook.tested", object: about(endpoint) });
  return back(context, endpoint, { type: "info", message: "Test event queued: it shows in the log below once sent." });
}

async function resend({ context, member, deps, workspaceId, endpoint, formData }: ActionArgs) {
  const submission = parseForm(formData, ResendSchema);
  if (submission.status !== "success") throw new Response("Choose a delivery to resend.", { status: 400 });
  const resent = await resendWebhookDelivery(deps.db, workspaceId, endpoint.id, submission.value.deliveryId);
  if (!resent.ok && resent.reason === "not_found") throw notFound();
  if (resent.ok)
    await auditorFor(context, member).record({
      action: "webhook.resent",
      object: about(endpoint),
      detail: `Delivery ${submission.value.deliveryId}.`,
    });
  const flash: Flash = resent.ok
    ? { type: "info", message: "Delivery queued again: it shows in the log below once sent." }
    : resent.reason === "disabled"
      ? { type: "error", message: "This endpoint is disabled: enable it before resending." }
      : { type: "info", message: "This delivery is already under way." };
  return back(context, endpoint, flash);
}

export const ACTIONS: Record<EndpointIntent, (args: ActionArgs) => Promise<Response>> = { save, delete: remove, test, resend };
