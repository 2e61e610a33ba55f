import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor, changesBetween } from "~/lib/audit/trail.server";
import { listConnectionChoices } from "~/lib/connections/repository.server";
import { createIntent, intentState } from "~/lib/delivery/intents.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { getProvider } from "~/lib/providers/registry";
import { connectionPick, ConnectionPickEntries, IntentNameSchema, NO_CONNECTION_PICKED } from "~/lib/platform/validation";
import { ConnectionPicker } from "~/components/connection-picker";

const NewIntentSchema = v.object({
  name: IntentNameSchema,
  enabled: v.optional(v.literal("on")),
  ...ConnectionPickEntries,
});

export const meta: MetaFunction = () => [{ title: "New intent · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "intents.manage" });
  const { choices, more } = await listConnectionChoices(context.db, workspace.id);
  const connections = choices.map((choice) => ({ ...choice, providerName: getProvider(choice.provider).name }));
  return json({ connections, more, preselected: new URL(request.url).searchParams.get("connection") ?? "" });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "intents.manage" });
  const { workspace } = member;
  const submission = parseForm(await readFormData(request), NewIntentSchema);
  if (submission.status !== "success") return json(submission.reply(), { status: 400 });
  const connection = connectionPick(submission.value);
  if (!connection) return json(submission.reply({ fieldErrors: { connectionId: [NO_CONNECTION_PICKED] } }), { status: 400 });
  const created = await createIntent(context.db, workspace.id, {
    name: submission.value.name,
    connection,
    enabled: submission.value.enabled === "on",
    overrides: {},
  });
  if (!created.ok) {
    const fieldErrors: Record<string, string[]> =
      created.reason === "name_taken"
        ? { name: [`This workspace already has an intent named ${submission.value.name}.`] }
        : { connectionId: ["Choose one of this workspace's connections."] };
    return json(submission.reply({ fieldErrors }), { status: 400 });
  }
  await auditorFor(context, member).record({
    action: "intent.created",
    object: { id: created.id, label: submission.value.name },
    changes: changesBetween(
      {},
      intentState({ name: submission.value.name, enabled: submission.value.enabled === "on", overrides: {} }, created.connectionName),
    ),
  });
  const message = `Created ${submission.value.name}. It inherits every default of its connection; override fields below.`;
  return redirectWithFlash(context, `/intents/${created.id}`, { type: "success", message });
}

export default function NewIntent() {
  const { connections, more, preselected } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm<v.InferInput<typeof NewIntentSchema>>({
    id: "new-intent",
    lastResult,
    defaultValue: { connectionId: preselected, enabled: "on" },
    constraint: getValibotConstraint(NewIntentSchema),
  });
  if (connections.length === 0) {
    return (
      <section className="page page--medium">
        <h1>New intent</h1>
        <div className="card empty-state">
          <h2>Connect an account first</h2>
          <p>An intent delivers through a connection; this workspace has none yet.</p>
          <a className="button button--primary" href="/integration-connections/new">
            Connect an account
          </a>
        </div>
      </section>
    );
  }
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/intents">Intents</a> / New
      </p>
      <h1>New intent</h1>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <Field
          label="Name"
          hint="Lowercase letters, digits and hyphens, like triage-bugs."
          errorId={fields.name.errorId}
          errors={fields.name.errors}
        >
          <input {...getInputProps(fields.name, { type: "text" })} autoComplete="off" />
        </Field>
        <ConnectionPicker
          id={fields.connectionId}
          name={fields.connectionName}
          choices={connections}
          more={more}
          hint="The account this intent delivers to. You can repoint it later."
          placeholder="Choose a connection…"
        />
        <label className="checkbox">
          <input {...getInputProps(fields.enabled, { type: "checkbox", value: "on" })} /> Enabled: deliver insights through this intent
        </label>
        <SubmitButton pendingText="Creating…">Create intent</SubmitButton>
      </Form>
    </section>
  );
}
