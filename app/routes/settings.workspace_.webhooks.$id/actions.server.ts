import type { SubmissionResult } from "@conform-to/react";
import { json } from "@remix-run/cloudflare";
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
  deps: EndpointDeps;
  workspaceId: string;
  endpoint: EndpointView;
  formData: FormData;
}

export type SaveReply = { intent: "save"; result: SubmissionResult<string[]> };

const back = (context: RequestContext, endpoint: EndpointView, flash: Flash) =>
  redirectWithFlash(context, `/settings/workspace/webhooks/${endpoint.id}`, flash);

async function save({ context, deps, workspaceId, endpoint, formData }: ActionArgs) {
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
  return back(context, endpoint, { type: "success", message: "Endpoint saved." });
}

async function remove({ context, deps, workspaceId, endpoint }: ActionArgs) {
  if (!(await deleteEndpoint(deps.db, workspaceId, endpoint.id))) throw notFound();
  return redirectWithFlash(context, "/settings/workspace", { type: "success", message: `Deleted the webhook endpoint ${endpoint.url}.` });
}

async function test({ context, deps, workspaceId, endpoint }: ActionArgs) {
  if (!(await sendTestEvent(deps.db, workspaceId, endpoint.id))) throw notFound();
  return back(context, endpoint, { type: "info", message: "Test event queued: it shows in the log below once sent." });
}

async function resend({ context, deps, workspaceId, endpoint, formData }: ActionArgs) {
  const submission = parseForm(formData, ResendSchema);
  if (submission.status !== "success") throw new Response("Choose a delivery to resend.", { status: 400 });
  const resent = await resendWebhookDelivery(deps.db, workspaceId, endpoint.id, submission.value.deliveryId);
  if (!resent.ok && resent.reason === "not_found") throw notFound();
  const flash: Flash = resent.ok
    ? { type: "info", message: "Delivery queued again: it shows in the log below once sent." }
    : resent.reason === "disabled"
      ? { type: "error", message: "This endpoint is disabled: enable it before resending." }
      : { type: "info", message: "This delivery is already under way." };
  return back(context, endpoint, flash);
}

export const ACTIONS: Record<EndpointIntent, (args: ActionArgs) => Promise<Response>> = { save, delete: remove, test, resend };
