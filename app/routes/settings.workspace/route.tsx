import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ConfirmAction } from "~/components/confirm-action";
import { SubmitButton } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import { listApiKeys } from "~/lib/accounts/api-keys.server";
import { requirePermission, requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { permissionsOf } from "~/lib/accounts/permissions";
import { listMembers } from "~/lib/accounts/workspaces.server";
import { forwardDataHeaders } from "~/lib/platform/headers";
import { readFormData } from "~/lib/platform/http.server";
import { listEndpoints, MAX_ENDPOINTS_PER_WORKSPACE } from "~/lib/webhooks/endpoints.server";
import { ACTIONS, REQUIRES, type ActionResult } from "./actions.server";
import { AddMemberForm, CreateKeyForm, RenameForm } from "./forms";
import { IntentSchema, type SettingsIntent } from "./schema";
import { MembersCard, RolesCard } from "./members-card";
import { WebhooksCard } from "./webhooks-card";

export const meta: MetaFunction = () => [{ title: "Workspace settings · SpokeDo" }];
// The page that shows a new API key once must not be cached: pass the action's Cache-Control on.
export const headers = forwardDataHeaders;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, workspace } = await requireWorkspaceMember(context, request);
  const can = permissionsOf(workspace.role);
  const [members, keys, endpoints] = await Promise.all([
    listMembers(context.db, workspace.id),
    listApiKeys(context.db, workspace.id),
    // Endpoint URLs may carry tokens of their own: only those who manage them see them.
    can["webhooks.manage"] ? listEndpoints(context.db, workspace.id) : null,
  ]);
  return json({ workspace, can, members, keys, endpoints, maxEndpoints: MAX_ENDPOINTS_PER_WORKSPACE, viewerId: user.id, now: Date.now() });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request);
  const formData = await readFormData(request);
  const intent = v.safeParse(IntentSchema, formData.get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });
  const needs = REQUIRES[intent.output];
  if (needs) requirePermission(member, needs);
  return ACTIONS[intent.output]({ context, member, formData });
}

export default function WorkspaceSettings() {
  const { workspace, can, members, keys, endpoints, maxEndpoints, viewerId, now } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionResult>();
  const resultFor = (intent: SettingsIntent) => (actionData?.intent === intent ? actionData.result : undefined);
  const confirming = actionData?.confirm;
  const confirmMember = confirming?.intent === "remove-member" ? members.find((member) => member.userId === confirming.id) : undefined;
  const confirmKey = confirming?.intent === "revoke-key" ? keys.find((key) => key.id === confirming.id && !key.revoked_at) : undefined;
  return (
    <section className="page">
      <h1>Workspace settings</h1>
      <p className="lead">
        <strong>{workspace.name}</strong>
        {` · you are ${workspace.role === "member" ? "a" : "an"} ${workspace.role}: `}
        <a href="#roles">what each role may do</a>.
      </p>

      {/* A new key is shown once, at the top where the reloaded page opens. */}
      {actionData?.newKey ? (
        <div className="flash flash--success" role="status">
          New key (copy it now, it will not be shown again): <code className="secret">{actionData.newKey}</code>
        </div>
      ) : null}
      {confirmMember ? (
        <ConfirmAction
          title={confirmMember.userId === viewerId ? `Leave ${workspace.name}?` : `Remove ${confirmMember.email} from ${workspace.name}?`}
          fields={{ intent: "remove-member", userId: confirmMember.userId }}
          button={confirmMember.userId === viewerId ? `Leave ${workspace.name}` : `Remove ${confirmMember.email}`}
          cancelHref="/settings/workspace"
        >
          <p>
            {confirmMember.userId === viewerId ? "You lose" : "They lose"} access to this workspace&apos;s connections, intents and insights
            at once. An owner can add {confirmMember.userId === viewerId ? "you" : "them"} again later.
          </p>
        </ConfirmAction>
      ) : null}
      {confirmKey ? (
        <ConfirmAction
          title={`Revoke the API key ${confirmKey.name}?`}
          fields={{ intent: "revoke-key", keyId: confirmKey.id }}
          button={`Revoke ${confirmKey.name}`}
          cancelHref="/settings/workspace"
        >
          <p>
            Automations sending insights with <code>{confirmKey.prefix}…</code> are refused (401) from then on. A revoked key cannot be
            restored: create a new one for them.
          </p>
        </ConfirmAction>
      ) : null}

      {can["workspace.rename"] ? <RenameForm name={workspace.name} lastResult={resultFor("rename")} /> : null}

      <MembersCard
        members={members}
        viewerId={viewerId}
        canManage={can["members.manage"]}
        errors={resultFor("remove-member")?.error?.[""] ?? resultFor("change-role")?.error?.[""] ?? undefined}
      />

      {can["members.manage"] ? <AddMemberForm lastResult={resultFor("add-member")} /> : null}

      <div className="card stack">
        <h2>API keys</h2>
        <p className="muted">
          Automations send insights with <code>POST /api/v1/insights</code> and <code>Authorization: Bearer &lt;key&gt;</code>. A key is
          shown once; SpokeDo stores only its hash.
        </p>
        {keys.length ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                {can["api-keys.manage"] ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td data-label="Key">
                    <code>{key.prefix}…</code>
                  </td>
                  <td data-label="Created">
                    <RelativeTime value={key.created_at} now={now} />
                  </td>
                  <td data-label="Last used">
                    {key.revoked_at ? <span className="muted">revoked</span> : <RelativeTime value={key.last_used_at} now={now} />}
                  </td>
                  {can["api-keys.manage"] ? (
                    <td className="table__actions">
                      {key.revoked_at ? null : (
                        <Form method="post">
                          <input type="hidden" name="intent" value="revoke-key" />
                          <SubmitButton variant="danger" name="keyId" value={key.id}>
                            Revoke…<span className="visually-hidden"> {key.name}</span>
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
        {can["api-keys.manage"] ? <CreateKeyForm lastResult={resultFor("create-key")} /> : null}
      </div>

      {endpoints ? (
        <WebhooksCard endpoints={endpoints} now={now} max={maxEndpoints} />
      ) : (
        <div className="card">
          <h2>Webhooks</h2>
          <p className="muted">Owners and admins manage the workspace&apos;s outgoing webhooks.</p>
        </div>
      )}

      <RolesCard role={workspace.role} />

      <div className="card">
        <h2>Audit trail</h2>
        <p>Every change people and API keys make here is recorded: who, what, when, from where, and settings before and after.</p>
        <a className="button button--secondary" href="/settings/workspace/audit">
          Open the audit trail
        </a>
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
