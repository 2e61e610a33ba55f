import { getFormProps, getInputProps, getSelectProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { parseForm } from "~/lib/forms";
import { readFormData } from "~/lib/http.server";
import { createApiKey, listApiKeys, revokeApiKey } from "~/lib/api-keys.server";
import { addMemberByEmail, listMembers, removeMember, renameWorkspace } from "~/lib/workspaces.server";
import { AddMemberSchema, CreateKeySchema, IntentSchema, RenameSchema, SCHEMAS, type SettingsIntent } from "./schema";
import { RelativeTime } from "~/components/time";

export const meta: MetaFunction = () => [{ title: "Workspace settings · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, workspace } = await requireWorkspaceMember(context, request);
  const [members, keys] = await Promise.all([listMembers(context.db, workspace.id), listApiKeys(context.db, workspace.id)]);
  return json({ workspace, members, keys, viewerId: user.id, now: Date.now() });
}

type ActionResult = { intent: SettingsIntent; result: SubmissionResult<string[]>; newKey?: string };

export async function action({ request, context }: ActionFunctionArgs) {
  const { workspace, user } = await requireWorkspaceMember(context, request, { role: "owner" });
  const formData = await readFormData(request);
  const intent = v.safeParse(IntentSchema, formData.get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });
  const submission = parseForm(formData, SCHEMAS[intent.output]);
  const reply = (result: SubmissionResult<string[]>, status: number) =>
    json<ActionResult>({ intent: intent.output, result }, { status });
  if (submission.status !== "success") return reply(submission.reply(), 400);

  const value = submission.value;
  switch (value.intent) {
    case "rename":
      await renameWorkspace(context.db, workspace.id, value.name);
      break;
    case "add-member": {
      const added = await addMemberByEmail(context.db, workspace.id, value.email, value.role);
      if (!added.ok) {
        const message =
          added.reason === "no_such_user"
            ? "No SpokeDo account uses this e-mail address. Ask them to sign up first."
            : "This person is already a member of the workspace.";
        return reply(submission.reply({ fieldErrors: { email: [message] } }), 400);
      }
      break;
    }
    case "create-key": {
      const key = await createApiKey(context.db, workspace.id, user.id, value.keyName);
      // Shown once, in this response only: never redirected through a URL or a cookie.
      return json<ActionResult>({ intent: "create-key", result: submission.reply({ resetForm: true }), newKey: key }, { headers: { "Cache-Control": "no-store" } });
    }
    case "revoke-key":
      if (!(await revokeApiKey(context.db, workspace.id, value.keyId))) throw new Response("Not found", { status: 404 });
      break;
    case "remove-member": {
      const removed = await removeMember(context.db, workspace.id, value.userId);
      if (!removed.ok) {
        if (removed.reason === "not_a_member") throw new Response("Not found", { status: 404 });
        return reply(
          submission.reply({ formErrors: ["A workspace needs at least one owner: add another owner first."] }),
          400,
        );
      }
      break;
    }
  }
  return redirect("/settings/workspace");
}

export default function WorkspaceSettings() {
  const { workspace, members, keys, viewerId, now } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const resultFor = (intent: SettingsIntent) => (actionData?.intent === intent ? actionData.result : undefined);
  const isOwner = workspace.role === "owner";
  return (
    <section className="page">
      <h1>Workspace settings</h1>
      <p className="lead">
        <strong>{workspace.name}</strong>
        {isOwner
          ? " · you are an owner."
          : " · you are a member. Only owners can rename the workspace or manage its members."}
      </p>

      {isOwner ? <RenameForm name={workspace.name} lastResult={resultFor("rename")} /> : null}

      <div className="card">
        <h2>Members</h2>
        <ErrorList errors={resultFor("remove-member")?.error?.[""] ?? undefined} />
        <table className="table">
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              {isOwner ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <tr key={member.userId}>
                <td>
                  {member.email}
                  {member.userId === viewerId ? <span className="muted"> (you)</span> : null}
                </td>
                <td>
                  <span className={`badge badge--${member.role}`}>{member.role}</span>
                </td>
                <td>
                  <time dateTime={new Date(member.joinedAt).toISOString()}>
                    {new Date(member.joinedAt).toISOString().slice(0, 10)}
                  </time>
                </td>
                {isOwner ? (
                  <td className="table__actions">
                    <Form method="post">
                      <input type="hidden" name="intent" value="remove-member" />
                      <SubmitButton variant="danger" name="userId" value={member.userId} pendingText="Removing…">
                        {member.userId === viewerId ? "Leave" : "Remove"}
                        <span className="visually-hidden"> {member.email}</span>
                      </SubmitButton>
                    </Form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {isOwner ? <AddMemberForm lastResult={resultFor("add-member")} /> : null}

      <div className="card stack">
        <h2>API keys</h2>
        <p className="muted">
          Automations send insights with <code>POST /api/v1/insights</code> and <code>Authorization: Bearer &lt;key&gt;</code>. A key is shown
          once; SpokeDo stores only its hash.
        </p>
        {actionData?.newKey ? (
          <div className="flash flash--success" role="status">
            New key (copy it now, it will not be shown again): <code className="secret">{actionData.newKey}</code>
          </div>
        ) : null}
        {keys.length ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                {isOwner ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>
                    <RelativeTime value={key.created_at} now={now} />
                  </td>
                  <td>{key.revoked_at ? <span className="muted">revoked</span> : <RelativeTime value={key.last_used_at} now={now} />}</td>
                  {isOwner ? (
                    <td className="table__actions">
                      {key.revoked_at ? null : (
                        <Form method="post">
                          <input type="hidden" name="intent" value="revoke-key" />
                          <SubmitButton variant="danger" name="keyId" value={key.id} pendingText="Revoking…">
                            Revoke<span className="visually-hidden"> {key.name}</span>
                          </SubmitButton>
                        </Form>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No key yet.</p>
        )}
        {isOwner ? <CreateKeyForm lastResult={resultFor("create-key")} /> : null}
      </div>

      <div className="card">
        <h2>Another workspace</h2>
        <p>Keep separate teams or clients apart, each with its own connections.</p>
        <a className="button button--secondary" href="/workspaces/new">
          Create a workspace
        </a>
      </div>
    </section>
  );
}

function RenameForm({ name, lastResult }: { name: string; lastResult?: SubmissionResult<string[]> }) {
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

function AddMemberForm({ lastResult }: { lastResult?: SubmissionResult<string[]> }) {
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

function CreateKeyForm({ lastResult }: { lastResult?: SubmissionResult<string[]> }) {
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
