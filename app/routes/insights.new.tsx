import { getFormProps, getInputProps, getTextareaProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor, insightSent } from "~/lib/audit/trail.server";
import { listEnabledIntentNames } from "~/lib/delivery/intents.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { submitInsight } from "~/lib/delivery/submission.server";
import { InsightBodySchema, InsightTitleSchema } from "~/lib/platform/validation";

const NewInsightSchema = v.object({
  title: InsightTitleSchema,
  body: InsightBodySchema,
  intents: v.optional(
    v.union([
      v.array(v.pipe(v.string(), v.maxLength(64))),
      v.pipe(
        v.string(),
        v.maxLength(64),
        v.transform((one) => [one]),
      ),
    ]),
    [],
  ),
});

export const meta: MetaFunction = () => [{ title: "New insight · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  return json({ intents: await listEnabledIntentNames(context.db, workspace.id) });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "insights.send" });
  const { workspace } = member;
  const audit = auditorFor(context, member);
  const submission = parseForm(await readFormData(request), NewInsightSchema);
  if (submission.status !== "success") return json(submission.reply(), { status: 400 });
  const { title, body, intents } = submission.value;
  const created = await submitInsight(
    context.db,
    context.deliveryQueue,
    workspace.id,
    {
      title,
      body,
      source: "form",
      targets: intents.length ? { names: intents } : { all: true },
    },
    ({ insightId, deliveryIds }) => [audit.insert(insightSent(insightId, title, deliveryIds.length))],
  );
  if (!created.ok) {
    const names = created.reason === "unknown_intents" ? created.unknown : created.disabled;
    return json(submission.reply({ fieldErrors: { intents: [`Not available: ${names.join(", ")}.`] } }), { status: 400 });
  }
  return redirect(`/insights/${created.insightId}`, 303);
}

export default function NewInsight() {
  const { intents } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm<v.InferInput<typeof NewInsightSchema>>({
    id: "new-insight",
    lastResult,
    constraint: getValibotConstraint(v.object({ title: InsightTitleSchema, body: InsightBodySchema })),
  });
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/insights">Insights</a> / New
      </p>
      <h1>Send an insight</h1>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <Field label="Title" errorId={fields.title.errorId} errors={fields.title.errors}>
          <input {...getInputProps(fields.title, { type: "text" })} />
        </Field>
        <Field
          label="Body"
          hint="Markdown: **bold**, _italics_, [links](https://…), lists, `code` and headings. GitHub, Linear and Trello get it as written; Slack and Notion in their own formatting."
          errorId={fields.body.errorId}
          errors={fields.body.errors}
        >
          <textarea {...getTextareaProps(fields.body)} rows={8} />
        </Field>
        <fieldset className="stack">
          <legend className="field__label">Deliver through</legend>
          {intents.length === 0 ? (
            <p className="muted">
              No enabled intent yet: <a href="/intents/new">create one</a> first, or the insight is recorded with no delivery.
            </p>
          ) : (
            <>
              <p className="muted small">Leave all unticked to use every enabled intent.</p>
              {intents.map((intent) => (
                <label key={intent.id} className="checkbox">
                  <input type="checkbox" name="intents" value={intent.name} /> {intent.name}{" "}
                  <span className="muted">via {intent.connectionName}</span>
                </label>
              ))}
            </>
          )}
          <ErrorList id={fields.intents.errorId} errors={fields.intents.errors} />
        </fieldset>
        <SubmitButton pendingText="Sending…">Send insight</SubmitButton>
      </Form>
    </section>
  );
}
