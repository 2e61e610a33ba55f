import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData } from "@remix-run/react";
import { ErrorList, ErrorSummary, SubmitButton } from "~/components/forms";
import { EndpointFields, type EndpointShape } from "~/components/webhook-endpoint-fields";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor, changesBetween, endpointLabel, endpointState } from "~/lib/audit/trail.server";
import { parseForm } from "~/lib/platform/forms";
import { forwardDataHeaders } from "~/lib/platform/headers";
import { readFormData } from "~/lib/platform/http.server";
import { createEndpoint } from "~/lib/webhooks/endpoints.server";
import { requireWebhookDeps } from "~/lib/webhooks/guards.server";
import { NewEndpointSchema } from "./schema";

export const meta: MetaFunction = () => [{ title: "New webhook endpoint · SpokeDo" }];
export const headers = forwardDataHeaders;

type ActionData = { result: SubmissionResult<string[]>; created?: { id: string; url: string; secret: string } };

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireWorkspaceMember(context, request, { permission: "webhooks.manage" });
  await requireWebhookDeps(context);
  return json({});
}

export async function action({ request, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "webhooks.manage" });
  const deps = await requireWebhookDeps(context);
  const submission = parseForm(await readFormData(request), NewEndpointSchema);
  if (submission.status !== "success") return json<ActionData>({ result: submission.reply() }, { status: 400 });
  const { url, description, events, enabled } = submission.value;
  const created = await createEndpoint(
    deps,
    { workspaceId: member.workspace.id, userId: member.user.id },
    { url, description, events, enabled: enabled === "on" },
  );
  if (!created.ok) {
    const errors = created.reason === "invalid" ? { fieldErrors: created.fieldErrors, formErrors: created.formErrors ?? [] } : {};
    return json<ActionData>({ result: submission.reply(errors) }, { status: 400 });
  }
  await auditorFor(context, member).record({
    action: "webhook.created",
    object: { id: created.id, label: endpointLabel(url) },
    changes: changesBetween({}, endpointState({ url, description, events, enabled: enabled === "on" })),
  });
  // The secret is in this response only: never redirected through a URL or a cookie, never cached.
  return json<ActionData>(
    { result: submission.reply({ resetForm: true }), created: { id: created.id, url, secret: created.secret! } },
    { headers: { "Cache-Control": "no-store" } },
  );
}

export default function NewWebhookEndpoint() {
  const actionData = useActionData<ActionData>();
  const [form, fields] = useForm<EndpointShape>({
    id: "new-endpoint",
    lastResult: actionData?.result,
    defaultValue: { enabled: "on", events: ["connection.status_changed", "connection.recovered", "delivery.failed"] },
    constraint: getValibotConstraint(NewEndpointSchema),
  });
  const created = actionData?.created;
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/settings/workspace">Workspace settings</a> / New webhook endpoint
      </p>
      <h1>New webhook endpoint</h1>
      {created ? (
        <div className="card stack">
          <h2>Endpoint created</h2>
          <p>
            SpokeDo will send the events you chose to <code>{created.url}</code>.
          </p>
          <div className="flash flash--success" role="status">
            Signing secret (copy it now, it will not be shown again): <code className="secret">{created.secret}</code>
          </div>
          <p className="muted">
            Verify each request with it, e.g. <code>new Webhook(secret).verify(body, headers)</code> from the <code>standardwebhooks</code>{" "}
            package.
          </p>
          <a className="button button--primary" href={`/settings/workspace/webhooks/${created.id}`}>
            Go to the endpoint
          </a>
        </div>
      ) : (
        <Form method="post" className="card stack" {...getFormProps(form)}>
          <ErrorList id={form.errorId} errors={form.errors} />
          <ErrorSummary formId={form.id} errors={form.allErrors} />
          <EndpointFields fields={fields} />
          <SubmitButton pendingText="Creating…">Create endpoint</SubmitButton>
        </Form>
      )}
    </section>
  );
}
