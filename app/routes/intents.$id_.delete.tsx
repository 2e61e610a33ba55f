import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor } from "~/lib/audit/trail.server";
import { deleteIntent, getIntent } from "~/lib/delivery/intents.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { readFormData } from "~/lib/platform/http.server";
import { requireFound } from "~/lib/platform/responses.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Delete ${data?.name ?? "intent"} · SpokeDo` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "intents.manage" });
  const intent = await requireFound(params.id, (id) => getIntent(context.db, workspace.id, id));
  return json({ id: intent.id, name: intent.name });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "intents.manage" });
  await readFormData(request);
  const intent = await requireFound(params.id, (id) => getIntent(context.db, member.workspace.id, id));
  if (await deleteIntent(context.db, member.workspace.id, intent.id)) {
    await auditorFor(context, member).record({ action: "intent.deleted", object: { id: intent.id, label: intent.name } });
  }
  return redirectWithFlash(context, "/intents", { type: "success", message: `Deleted ${intent.name}.` });
}

/** Deleting an intent asks first, as deleting a connection does (decision 024). */
export default function DeleteIntent() {
  const data = useLoaderData<typeof loader>();
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/intents">Intents</a> / <a href={`/intents/${data.id}`}>{data.name}</a> / Delete
      </p>
      <h1>Delete {data.name}?</h1>
      <div className="card card--danger stack">
        <p>
          Insights stop being delivered through <strong>{data.name}</strong> at once, and automations that target it by name are refused.
          Past insights keep their deliveries and logs. This cannot be undone.
        </p>
        <Form method="post" className="inline-form">
          <SubmitButton variant="danger" pendingText="Deleting…">
            Delete {data.name}
          </SubmitButton>
          <a href={`/intents/${data.id}`}>Cancel</a>
        </Form>
      </div>
    </section>
  );
}
