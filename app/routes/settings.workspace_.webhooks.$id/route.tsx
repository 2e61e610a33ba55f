import { getFormProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, SubmitButton } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import { EndpointFields, type EndpointShape } from "~/components/webhook-endpoint-fields";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { readFormData } from "~/lib/platform/http.server";
import { requireFound } from "~/lib/platform/responses.server";
import { getEndpoint } from "~/lib/webhooks/endpoints.server";
import { requireWebhookDeps } from "~/lib/webhooks/guards.server";
import { loadEndpointPage } from "~/lib/webhooks/page.server";
import { ACTIONS, type SaveReply } from "./actions.server";
import { DeliveryLog } from "./delivery-log";
import { BeforeSchema, EndpointIntentSchema, SaveEndpointSchema } from "./schema";

const REFRESH_SECONDS = 5;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: "Webhook endpoint · SpokeDo" },
  ...(data?.pending ? [{ httpEquiv: "refresh", content: String(REFRESH_SECONDS) }] : []),
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "webhooks.manage" });
  const before = v.parse(BeforeSchema, new URL(request.url).searchParams.get("before") ?? undefined);
  const page = await requireFound(params.id, (id) => loadEndpointPage(context.db, workspace.id, id, before));
  const { next } = page.log;
  return json({ ...page, now: Date.now(), next: next ? `${next.at}.${next.id}` : null, paged: before !== undefined });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "webhooks.manage" });
  const { workspace } = member;
  const deps = await requireWebhookDeps(context);
  const endpoint = await requireFound(params.id, (id) => getEndpoint(deps.db, workspace.id, id));
  const formData = await readFormData(request);
  const intent = v.safeParse(EndpointIntentSchema, formData.get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });
  return ACTIONS[intent.output]({ context, deps, member, workspaceId: workspace.id, endpoint, formData });
}

export default function WebhookEndpoint() {
  const { endpoint, log, pending, now, next, paged } = useLoaderData<typeof loader>();
  const actionData = useActionData<SaveReply>();
  const [form, fields] = useForm<EndpointShape>({
    id: "endpoint-settings",
    lastResult: actionData?.intent === "save" ? actionData.result : undefined,
    defaultValue: { url: endpoint.url, description: endpoint.description, events: endpoint.events, enabled: endpoint.enabled ? "on" : "" },
    constraint: getValibotConstraint(SaveEndpointSchema),
  });
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/settings/workspace">Workspace settings</a> / Webhook endpoint
      </p>
      <header className="page__header">
        <div>
          <h1 className="break-all">{endpoint.url}</h1>
          <p className="lead">{endpoint.description || "Outgoing webhook endpoint"}</p>
        </div>
        <span className={`badge status status--${endpoint.enabled ? "active" : "revoked"}`}>
          {endpoint.enabled ? "Enabled" : "Disabled"}
        </span>
      </header>

      {endpoint.disabledReason ? (
        <div className="card card--warning" role="status">
          <h2>SpokeDo disabled this endpoint</h2>
          <p>{endpoint.disabledReason}</p>
        </div>
      ) : endpoint.enabled && endpoint.consecutiveFailures > 0 ? (
        <div className="card card--warning">
          <h2>This endpoint is failing</h2>
          <p>
            {endpoint.consecutiveFailures} attempt{endpoint.consecutiveFailures === 1 ? "" : "s"} in a row failed, since{" "}
            <RelativeTime value={endpoint.failingSince} now={now} />. SpokeDo backs off while it fails, and disables it after 3 days of
            failures only.
          </p>
        </div>
      ) : null}

      <div className="card stack">
        <h2>Try it</h2>
        <p className="muted">
          Sends a <code>webhook.test</code> event to this endpoint only.
          {pending ? ` Deliveries are under way; this page refreshes itself every ${REFRESH_SECONDS} seconds.` : null}
        </p>
        <Form method="post">
          <input type="hidden" name="intent" value="test" />
          <SubmitButton variant="secondary" match={{ name: "intent", value: "test" }} pendingText="Sending…">
            Send test event
          </SubmitButton>
        </Form>
      </div>

      <DeliveryLog entries={log.entries} now={now} endpointId={endpoint.id} next={next} paged={paged} canResend={endpoint.enabled} />

      <Form method="post" className="card stack" {...getFormProps(form)}>
        <h2>Settings</h2>
        <input type="hidden" name="intent" value="save" />
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <EndpointFields fields={fields} />
        <SubmitButton match={{ name: "intent", value: "save" }} pendingText="Saving…">
          Save endpoint
        </SubmitButton>
      </Form>

      <Form method="post" className="card">
        <h2>Delete</h2>
        <p className="muted">Deleting the endpoint stops its deliveries and removes its log. Its signing secret cannot be recovered.</p>
        <input type="hidden" name="intent" value="delete" />
        <SubmitButton variant="danger" match={{ name: "intent", value: "delete" }} pendingText="Deleting…">
          Delete endpoint
        </SubmitButton>
      </Form>
    </section>
  );
}
