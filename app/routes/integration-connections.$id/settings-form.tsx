import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { Form } from "@remix-run/react";
import { ConfigFields } from "~/components/config-fields";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import type { ConfigFormValue } from "~/lib/providers/config-form";
import type { ConfigField } from "~/lib/providers/types";
import { SettingsNameSchema, type SettingsShape } from "./schema";

export function SettingsForm({
  name,
  fields,
  overridable,
  values,
  lastResult,
}: {
  name: string;
  fields: ConfigField[];
  overridable: string[];
  values: Record<string, ConfigFormValue>;
  lastResult?: SubmissionResult<string[]>;
}) {
  const [form, formFields] = useForm<SettingsShape>({
    id: "connection-settings",
    lastResult,
    defaultValue: { name, config: values },
    constraint: getValibotConstraint(SettingsNameSchema),
  });
  const nameField = formFields.name;
  return (
    <Form method="post" className="card stack" {...getFormProps(form)}>
      <h2>Settings</h2>
      <input type="hidden" name="intent" value="save" />
      <ErrorList id={form.errorId} errors={form.errors} />
      <Field label="Name" hint="What intents pick this connection by." errorId={nameField.errorId} errors={nameField.errors}>
        <input {...getInputProps(nameField, { type: "text" })} autoComplete="off" />
      </Field>
      <fieldset className="stack config-fields">
        <legend className="field__label">Defaults for intents</legend>
        <p className="muted small">Intents that use this connection inherit these values and may override the ones marked overridable.</p>
        <ConfigFields
          fieldset={formFields.config.getFieldset() as never}
          fields={fields}
          hints={Object.fromEntries(overridable.map((field) => [field, "Overridable per intent."]))}
        />
      </fieldset>
      <SubmitButton match={{ name: "intent", value: "save" }} pendingText="Saving…">
        Save settings
      </SubmitButton>
    </Form>
  );
}
