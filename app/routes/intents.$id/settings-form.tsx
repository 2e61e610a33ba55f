import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { Form, useActionData, type useLoaderData } from "@remix-run/react";
import { ConfigFieldset } from "~/components/config-fields";
import { ConnectionPicker } from "~/components/connection-picker";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import type { ConfigFormValue } from "~/lib/providers/config-form";
import type { loader, SaveReply } from "./route";
import { SaveIntentSchema } from "./schema";

/** The intent's name, connection, state and overrides, with the provider's pickers (decision 023). */
export function IntentSettingsForm({
  data,
  hints,
  search,
}: {
  data: ReturnType<typeof useLoaderData<typeof loader>>;
  hints: Record<string, string>;
  search: string;
}) {
  const actionData = useActionData<SaveReply>();
  const [form, fields] = useForm<{
    name: string;
    connectionId: string;
    connectionName: string;
    enabled: string;
    overrides: Record<string, ConfigFormValue>;
  }>({
    id: "intent-settings",
    lastResult: actionData?.intent === "save" ? actionData.result : undefined,
    defaultValue: {
      name: data.intent.draft?.name ?? data.intent.name,
      connectionId: data.connection.id,
      enabled: (data.intent.draft?.enabled ?? data.intent.enabled) ? "on" : "",
      overrides: data.overrideValues,
    },
    constraint: getValibotConstraint(SaveIntentSchema),
  });
  const intentLabels = {
    name: "Name",
    connectionId: "Connection",
    ...Object.fromEntries(data.fields.map((field) => [`overrides.${field.name}`, field.label])),
  };
  return (
    // Posted to the address it was drawn from: a failed save keeps the page's searches and typed fields.
    <Form method="post" action={`/intents/${data.intent.id}${search}`} className="card stack" {...getFormProps(form)}>
      <h2>Settings</h2>
      {/* The default button: Enter in any field presses it (it saves, or searches from a search box). */}
      <button type="submit" name="intent" value="default" className="visually-hidden" tabIndex={-1} aria-hidden="true">
        Save intent
      </button>
      <ErrorList id={form.errorId} errors={form.errors} />
      <ErrorSummary formId={form.id} errors={form.allErrors} labels={intentLabels} />
      <Field label="Name" errorId={fields.name.errorId} errors={fields.name.errors}>
        <input {...getInputProps(fields.name, { type: "text" })} autoComplete="off" />
      </Field>
      <ConnectionPicker
        id={fields.connectionId}
        name={fields.connectionName}
        choices={data.choices}
        more={data.moreChoices}
        hint="Repointing to another provider keeps only the overrides that provider has fields for."
      />
      <label className="checkbox">
        <input {...getInputProps(fields.enabled, { type: "checkbox", value: "on" })} /> Enabled
      </label>
      <ConfigFieldset
        legend="Overrides"
        intro={`Empty fields inherit the connection's defaults. The lists come from ${data.provider.name} through ${data.connection.name}.`}
        fieldset={fields.overrides.getFieldset() as never}
        fields={data.fields}
        hints={hints}
        pickers={{
          views: actionData?.pickers ?? data.pickers,
          providerName: data.provider.name,
          now: data.now,
          emptyLabel: "Inherit the connection's default",
        }}
      />
      <SubmitButton name="intent" value="save" pendingText="Saving…">
        Save intent
      </SubmitButton>
    </Form>
  );
}
