import { getFormProps, getInputProps, getSelectProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { Form } from "@remix-run/react";
import type * as v from "valibot";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import { AddMemberSchema, CreateKeySchema, RenameSchema } from "./schema";

export function RenameForm({ name, lastResult }: { name: string; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm<v.InferInput<typeof RenameSchema>>({
    id: "rename-workspace",
    lastResult,
    defaultValue: { name },
    constraint: getValibotConstraint(RenameSchema),
  });
  return (
    <Form method="post" className="card stack" {...getFormProps(form)}>
      <h2>Name</h2>
      <input type="hidden" name="intent" value="rename" />
      <ErrorList id={form.errorId} errors={form.errors} />
      <Field label="Workspace name" errorId={fields.name.errorId} errors={fields.name.errors}>
        <input {...getInputProps(fields.name, { type: "text" })} />
      </Field>
      <SubmitButton match={{ name: "intent", value: "rename" }} pendingText="Saving…">
        Save name
      </SubmitButton>
    </Form>
  );
}

export function AddMemberForm({ lastResult }: { lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm<v.InferInput<typeof AddMemberSchema>>({
    id: "add-member",
    lastResult,
    defaultValue: { role: "member" },
    constraint: getValibotConstraint(AddMemberSchema),
  });
  return (
    <Form method="post" className="card stack" {...getFormProps(form)}>
      <h2>Add a member</h2>
      <p className="muted">They need a SpokeDo account already; they will see this workspace in their switcher.</p>
      <input type="hidden" name="intent" value="add-member" />
      <ErrorList id={form.errorId} errors={form.errors} />
      <div className="row">
        <Field label="E-mail" errorId={fields.email.errorId} errors={fields.email.errors}>
          <input {...getInputProps(fields.email, { type: "email" })} />
        </Field>
        <Field label="Role" errorId={fields.role.errorId} errors={fields.role.errors}>
          <select {...getSelectProps(fields.role)}>
            <option value="member">Member</option>
            <option value="admin">Admin</option>
            <option value="owner">Owner</option>
          </select>
        </Field>
      </div>
      <SubmitButton match={{ name: "intent", value: "add-member" }} pendingText="Adding…">
        Add member
      </SubmitButton>
    </Form>
  );
}

export function CreateKeyForm({ lastResult }: { lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm<v.InferInput<typeof CreateKeySchema>>({
    id: "create-key",
    lastResult,
    constraint: getValibotConstraint(CreateKeySchema),
  });
  return (
    <Form method="post" className="row" {...getFormProps(form)}>
      <input type="hidden" name="intent" value="create-key" />
      <Field label="New key name" errorId={fields.keyName.errorId} errors={fields.keyName.errors}>
        <input {...getInputProps(fields.keyName, { type: "text" })} placeholder="ci-pipeline" autoComplete="off" />
      </Field>
      <SubmitButton match={{ name: "intent", value: "create-key" }} pendingText="Creating…">
        Create key
      </SubmitButton>
    </Form>
  );
}
