import { getFormProps, getInputProps, getSelectProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ConfigFields, type ConfigFormValue } from "~/components/config-fields";
import { configFormValues, describeConfigValue } from "~/lib/config-forms.server";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { getConnection } from "~/lib/connections.server";
import type { Db } from "~/lib/db.server";
import { flashCookie } from "~/lib/flash.server";
import { parseForm } from "~/lib/forms";
import { readFormData } from "~/lib/http.server";
import { deleteIntent, effectiveConfig, getIntent, listConnectionChoices, overridesForProvider, parseOverrides, updateIntent } from "~/lib/intents.server";
import { getProvider } from "~/lib/providers/registry";
import { IntentActionSchema, SaveIntentSchema } from "./schema";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.intent.name ?? "Intent"} · SpokeDo` }];

async function requireIntent(db: Db, workspaceId: string, id: string) {
  const intent = id.length <= 64 ? await getIntent(db, workspaceId, id) : undefined;
  if (!intent) throw new Response("Not found", { status: 404 });
  return intent;
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const intent = await requireIntent(context.db, workspace.id, params.id ?? "");
  const [connection, choices] = await Promise.all([
    getConnection(context.db, workspace.id, intent.connection_id),
    listConnectionChoices(context.db, workspace.id),
  ]);
  if (!connection) throw new Response("Not found", { status: 404 });
  const provider = getProvider(connection.provider);
  const overrides = JSON.parse(intent.overrides_json) as Record<string, unknown>;
  const effective = effectiveConfig(provider, JSON.parse(connection.config_json) as Record<string, unknown>, overrides);
  return json({
    intent: { id: intent.id, name: intent.name, enabled: intent.enabled === 1 },
    connection: { id: connection.id, name: connection.name, status: connection.status },
    provider: { id: provider.id, name: provider.name, icon: provider.icon },
    fields: provider.configFields.filter((field) => provider.overridableFields.includes(field.name)),
    effective: effective.map((field) => ({
      name: field.name,
      source: field.source,
      value: describeConfigValue(field.value),
      connectionValue: describeConfigValue(field.connectionValue),
    })),
    overrideValues: configFormValues(
      provider.configFields.filter((field) => provider.overridableFields.includes(field.name)),
      overrides,
    ),
    choices,
  });
}

type SaveReply = { intent: "save"; result: SubmissionResult<string[]> };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const intent = await requireIntent(context.db, workspace.id, params.id ?? "");
  const formData = await readFormData(request);
  const action = v.safeParse(IntentActionSchema, formData.get("intent"));
  if (!action.success) throw new Response("Unknown action.", { status: 400 });

  if (action.output === "delete") {
    await deleteIntent(context.db, workspace.id, intent.id);
    const flash = flashCookie(context, { type: "success", message: `Deleted ${intent.name}.` });
    return redirect("/intents", { status: 303, headers: { "Set-Cookie": flash } });
  }

  const submission = parseForm(formData, SaveIntentSchema);
  const reply = (result: SubmissionResult<string[]>) => json<SaveReply>({ intent: "save", result }, { status: 400 });
  if (submission.status !== "success") return reply(submission.reply());
  const target = await getConnection(context.db, workspace.id, submission.value.connectionId);
  if (!target) return reply(submission.reply({ fieldErrors: { connectionId: ["Choose one of this workspace's connections."] } }));

  // Repointing to another provider: overrides of fields it does not have no longer apply.
  const provider = getProvider(target.provider);
  const { kept, dropped } = overridesForProvider(provider, submission.value.overrides);
  const parsed = parseOverrides(provider, kept);
  if (!parsed.ok) {
    const fieldErrors: Record<string, string[]> = {};
    for (const issue of parsed.issues) {
      const key = `overrides.${String(issue.path?.[0]?.key ?? "")}`;
      (fieldErrors[key] ??= []).push(issue.message);
    }
    return reply(submission.reply({ fieldErrors }));
  }
  const saved = await updateIntent(context.db, workspace.id, intent.id, {
    name: submission.value.name,
    connectionId: target.id,
    enabled: submission.value.enabled === "on",
    overrides: parsed.overrides,
  });
  if (!saved.ok && saved.reason === "name_taken") {
    return reply(submission.reply({ fieldErrors: { name: [`This workspace already has an intent named ${submission.value.name}.`] } }));
  }
  if (!saved.ok) throw new Response("Not found", { status: 404 });
  const meaningful = dropped.filter((key) => describeConfigValue(submission.value.overrides[key]).replace(/[,\s→;]/g, "") !== "");
  const message =
    target.id !== intent.connection_id
      ? `Saved: ${submission.value.name} now delivers through ${target.name}.${meaningful.length ? ` Dropped overrides ${provider.name} has no field for: ${meaningful.join(", ")}.` : ""}`
      : "Saved.";
  return redirect(`/intents/${intent.id}`, { status: 303, headers: { "Set-Cookie": flashCookie(context, { type: "success", message }) } });
}

const SOURCE_TEXT = { intent: "overridden by this intent", connection: "inherited from the connection", unset: "not set anywhere" } as const;

export default function IntentDetail() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [form, fields] = useForm<{ name: string; connectionId: string; enabled: string; overrides: Record<string, ConfigFormValue> }>({
    id: "intent-settings",
    lastResult: actionData?.intent === "save" ? actionData.result : undefined,
    defaultValue: { name: data.intent.name, connectionId: data.connection.id, enabled: data.intent.enabled ? "on" : "", overrides: data.overrideValues },
    constraint: getValibotConstraint(SaveIntentSchema),
  });
  const hints = Object.fromEntries(
    data.effective.map((field) => [
      field.name,
      `${field.connectionValue ? `Connection default: ${field.connectionValue}.` : "No connection default."} Effective: ${field.value || "—"} (${SOURCE_TEXT[field.source]}). Leave empty to inherit.`,
    ]),
  );
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/intents">Intents</a> / {data.intent.name}
      </p>
      <header className="page__header">
        <div className="title-with-icon">
          <ProviderIcon src={data.provider.icon} size={40} />
          <div>
            <h1>{data.intent.name}</h1>
            <p className="lead">
              Delivers through <a href={`/integration-connections/${data.connection.id}`}>{data.connection.name}</a> ({data.provider.name})
            </p>
          </div>
        </div>
        {data.connection.status === "active" ? null : <StatusBadge status={data.connection.status} />}
      </header>

      <div className="card">
        <h2>Effective configuration</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {data.effective.map((field) => (
              <tr key={field.name}>
                <td>{data.fields.find((f) => f.name === field.name)?.label ?? field.name}</td>
                <td>{field.value ? <code>{field.value}</code> : <span className="muted">—</span>}</td>
                <td className={`source source--${field.source}`}>{SOURCE_TEXT[field.source]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <Form method="post" className="card stack" {...getFormProps(form)}>
        <h2>Settings</h2>
        <input type="hidden" name="intent" value="save" />
        <ErrorList id={form.errorId} errors={form.errors} />
        <Field label="Name" errorId={fields.name.errorId} errors={fields.name.errors}>
          <input {...getInputProps(fields.name, { type: "text" })} autoComplete="off" />
        </Field>
        <Field
          label="Connection"
          hint="Repointing to another provider keeps only the overrides that provider has fields for."
          errorId={fields.connectionId.errorId}
          errors={fields.connectionId.errors}
        >
          <select {...getSelectProps(fields.connectionId)}>
            {data.choices.map((choice) => (
              <option key={choice.id} value={choice.id}>
                {choice.name} ({choice.provider}
                {choice.status === "active" ? "" : `, ${choice.status}`})
              </option>
            ))}
          </select>
        </Field>
        <label className="checkbox">
          <input {...getInputProps(fields.enabled, { type: "checkbox", value: "on" })} /> Enabled
        </label>
        <fieldset className="stack config-fields">
          <legend className="field__label">Overrides</legend>
          <ConfigFields fieldset={fields.overrides.getFieldset() as never} fields={data.fields} hints={hints} />
        </fieldset>
        <SubmitButton match={{ name: "intent", value: "save" }} pendingText="Saving…">
          Save intent
        </SubmitButton>
      </Form>

      <Form method="post" className="card">
        <h2>Delete</h2>
        <p className="muted">Deleting an intent stops its deliveries; past insights keep their logs.</p>
        <input type="hidden" name="intent" value="delete" />
        <SubmitButton variant="danger" match={{ name: "intent", value: "delete" }} pendingText="Deleting…">
          Delete {data.intent.name}
        </SubmitButton>
      </Form>
    </section>
  );
}
