import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData, useLocation } from "@remix-run/react";
import { ConfigFieldset } from "~/components/config-fields";
import { DriftProblems } from "~/components/drift-problems";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { ProviderIcon } from "~/components/provider-icon";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor, changesBetween, connectionSettingsState } from "~/lib/audit/trail.server";
import { requireConnection, requireVault } from "~/lib/connections/guards.server";
import { draftParams, searchInsteadOfSave } from "~/lib/connections/pickers.server";
import { loadSettingsPage, saveConnectionSettings } from "~/lib/connections/settings.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { notFound } from "~/lib/platform/responses.server";
import { compactConfig } from "~/lib/providers/config-form";
import { getProvider } from "~/lib/providers/registry";
import { SettingsNameSchema, settingsSchema, type SettingsShape } from "./schema";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Settings of ${data?.connection.name ?? "connection"} · SpokeDo` },
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "connections.configure" });
  const deps = await requireVault(context);
  const page = await loadSettingsPage(deps, workspace.id, params.id ?? "", new URL(request.url).searchParams);
  if (!page) throw notFound();
  return json({ now: Date.now(), ...page });
}

type PageData = NonNullable<Awaited<ReturnType<typeof loadSettingsPage>>>;
type SaveReply = { result: SubmissionResult<string[]>; pickers: PageData["pickers"] };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "connections.configure" });
  const { workspace } = member;
  const deps = await requireVault(context);
  const connection = await requireConnection(context, workspace.id, params.id);
  const formData = await readFormData(request);
  const search = searchInsteadOfSave(formData, new URL(request.url));
  if (search) return redirect(search, 303);
  // A refused save is drawn again with the pickers of what was submitted (a parent chosen just now).
  const refused = async (result: SubmissionResult<string[]>) => {
    const page = await loadSettingsPage(deps, workspace.id, connection.id, draftParams(formData));
    return json<SaveReply>({ result, pickers: page?.pickers ?? {} }, { status: 400 });
  };
  const submission = parseForm(formData, settingsSchema(getProvider(connection.provider)));
  if (submission.status !== "success") return refused(submission.reply());
  const saved = await saveConnectionSettings(deps, connection, {
    name: submission.value.name,
    config: compactConfig(submission.value.config),
  });
  if (!saved.ok && saved.reason === "not_found") throw notFound();
  if (!saved.ok) return refused(submission.reply({ fieldErrors: saved.fieldErrors }));
  const changes = changesBetween(connectionSettingsState(connection), { name: saved.stored.name, ...saved.stored.config });
  if (changes) {
    await auditorFor(context, member).record({
      action: "connection.settings_changed",
      object: { id: connection.id, label: saved.stored.name },
      changes,
    });
  }
  return redirectWithFlash(context, `/integration-connections/${connection.id}`, {
    type: saved.verified ? "success" : "info",
    message: saved.message,
  });
}

export default function ConnectionSettings() {
  const data = useLoaderData<typeof loader>();
  const { connection, provider } = data;
  const location = useLocation();
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/integration-connections">Connections</a> / <a href={`/integration-connections/${connection.id}`}>{connection.name}</a> /
        Settings
      </p>
      <header className="page__header">
        <div className="title-with-icon">
          <ProviderIcon src={provider.icon} size={40} />
          <div>
            <h1>Settings of {connection.name}</h1>
            <p className="lead">
              {provider.name} · {connection.accountLabel}
            </p>
          </div>
        </div>
      </header>
      {data.drift.problems.length ? (
        <div className="card card--warning">
          <h2>What the defaults point at does not work any more</h2>
          <DriftProblems problems={data.drift.problems} />
        </div>
      ) : null}
      {/* Drawn again from each GET of the form (a search, a parent shown), with its values. */}
      <SettingsForm key={location.search} data={data} search={location.search} />
    </section>
  );
}

function SettingsForm({ data, search }: { data: ReturnType<typeof useLoaderData<typeof loader>>; search: string }) {
  const actionData = useActionData<typeof action>();
  const [form, fields] = useForm<SettingsShape>({
    id: "connection-settings",
    lastResult: actionData?.result,
    defaultValue: { name: data.name, config: data.values },
    constraint: getValibotConstraint(SettingsNameSchema),
  });
  const overridable = Object.fromEntries(data.overridable.map((field) => [field, "Overridable per intent."]));
  const settingsLabels = { name: "Name", ...Object.fromEntries(data.fields.map((field) => [`config.${field.name}`, field.label])) };
  return (
    // Posted to the address it was drawn from: a failed save keeps the page's searches and typed fields.
    <Form
      method="post"
      action={`/integration-connections/${data.connection.id}/settings${search}`}
      className="card stack"
      {...getFormProps(form)}
    >
      {/* The default button: Enter in any field presses it (it saves, or searches from a search box). */}
      <button type="submit" name="intent" value="default" className="visually-hidden" tabIndex={-1} aria-hidden="true">
        Save settings
      </button>
      <ErrorList id={form.errorId} errors={form.errors} />
      <ErrorSummary formId={form.id} errors={form.allErrors} labels={settingsLabels} />
      <Field label="Name" hint="What intents pick this connection by." errorId={fields.name.errorId} errors={fields.name.errors}>
        <input {...getInputProps(fields.name, { type: "text" })} autoComplete="off" />
      </Field>
      <ConfigFieldset
        legend="Defaults for intents"
        intro={`Intents that use this connection inherit these values and may override the ones marked overridable. The lists come from ${data.provider.name} through this connection.`}
        fieldset={fields.config.getFieldset() as never}
        fields={data.fields}
        hints={overridable}
        pickers={{ views: actionData?.pickers ?? data.pickers, providerName: data.provider.name, now: data.now, emptyLabel: "No default" }}
      />
      <div className="inline-form">
        <SubmitButton name="intent" value="save" pendingText="Saving…">
          Save settings
        </SubmitButton>
        <a href={`/integration-connections/${data.connection.id}`}>Cancel</a>
      </div>
    </Form>
  );
}
