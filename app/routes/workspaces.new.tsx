import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { requireUser } from "~/lib/accounts/guards.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { setSessionWorkspace } from "~/lib/accounts/sessions.server";
import { WorkspaceNameSchema } from "~/lib/platform/validation";
import { createWorkspace } from "~/lib/accounts/workspaces.server";

const NewWorkspaceSchema = v.object({ name: WorkspaceNameSchema });

export const meta: MetaFunction = () => [{ title: "New workspace · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireUser(context, request);
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const session = await requireUser(context, request);
  const submission = parseForm(await readFormData(request), NewWorkspaceSchema);
  if (submission.status !== "success") return json(submission.reply(), { status: 400 });
  const workspaceId = await createWorkspace(context.db, session.user.id, submission.value.name);
  await setSessionWorkspace(context, session.id, workspaceId);
  return redirect("/integration-connections");
}

export default function NewWorkspace() {
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm<v.InferInput<typeof NewWorkspaceSchema>>({
    id: "new-workspace",
    lastResult,
    constraint: getValibotConstraint(NewWorkspaceSchema),
  });
  return (
    <section className="page page--narrow">
      <h1>New workspace</h1>
      <p className="lead">
        A workspace holds its own connections, intents and insights. You become its owner and can add teammates from its settings.
      </p>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <Field label="Workspace name" errorId={fields.name.errorId} errors={fields.name.errors}>
          <input {...getInputProps(fields.name, { type: "text" })} />
        </Field>
        <SubmitButton pendingText="Creating…">Create workspace</SubmitButton>
      </Form>
    </section>
  );
}
