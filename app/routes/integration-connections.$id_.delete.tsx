import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor } from "~/lib/audit/trail.server";
import { deleteConnectionAndRevoke } from "~/lib/connections/deletion.server";
import { requireConnection, requireKeyRing, requireVault } from "~/lib/connections/guards.server";
import { listDependentIntents } from "~/lib/connections/repository.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { readFormData } from "~/lib/platform/http.server";
import { notFound } from "~/lib/platform/responses.server";
import { getProvider } from "~/lib/providers/registry";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Delete ${data?.name ?? "connection"} · SpokeDo` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "connections.delete" });
  await requireKeyRing(context);
  const connection = await requireConnection(context, workspace.id, params.id);
  const { intents, total } = await listDependentIntents(context.db, workspace.id, connection.id);
  const provider = getProvider(connection.provider);
  return json({
    id: connection.id,
    name: connection.name,
    accountLabel: connection.account_label,
    providerName: provider.name,
    canRevoke: provider.revoke !== undefined,
    intents,
    intentTotal: total,
  });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "connections.delete" });
  const { workspace } = member;
  const deps = await requireVault(context);
  await readFormData(request);
  const connection = await requireConnection(context, workspace.id, params.id);
  const deleted = await deleteConnectionAndRevoke(deps, connection);
  if (!deleted.ok && deleted.reason === "not_found") throw notFound();
  if (!deleted.ok) {
    const uses = `${deleted.intentCount} intent${deleted.intentCount === 1 ? " uses" : "s use"} it`;
    const message = `${connection.name} cannot be deleted: ${uses}. Repoint or delete them first.`;
    return redirectWithFlash(context, `/integration-connections/${connection.id}/delete`, { type: "error", message });
  }
  await auditorFor(context, member).record({
    action: "connection.deleted",
    object: { id: connection.id, label: connection.name },
    detail: `${connection.account_label}. ${deleted.revocation.message}`,
  });
  const flash = {
    type: deleted.revocation.revoked ? ("success" as const) : ("info" as const),
    message: `Deleted ${connection.name}. ${deleted.revocation.message}`,
  };
  return redirectWithFlash(context, "/integration-connections", flash);
}

export default function DeleteConnection() {
  const data = useLoaderData<typeof loader>();
  const blocked = data.intentTotal > 0;
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/integration-connections">Connections</a> / <a href={`/integration-connections/${data.id}`}>{data.name}</a> / Delete
      </p>
      <h1>Delete {data.name}?</h1>
      {blocked ? (
        <div className="card card--warning">
          <h2>
            {data.intentTotal} intent{data.intentTotal === 1 ? " depends" : "s depend"} on this connection
          </h2>
          <p>Deleting it would leave them with nowhere to deliver. Repoint them to another connection or delete them first:</p>
          <ul className="plain-list">
            {data.intents.map((intent) => (
              <li key={intent.id}>
                <a href={`/intents/${intent.id}`}>{intent.name}</a>
              </li>
            ))}
          </ul>
          <a className="button button--secondary" href={`/integration-connections/${data.id}`}>
            Back to the connection
          </a>
        </div>
      ) : (
        <Form method="post" className="card stack">
          <p>
            This removes <strong>{data.name}</strong> ({data.providerName} · {data.accountLabel}) and its stored tokens from SpokeDo.
            {data.canRevoke
              ? ` SpokeDo will also ask ${data.providerName} to revoke the token.`
              : ` ${data.providerName} offers no revocation: remove the app from your ${data.providerName} settings too.`}
          </p>
          <p className="muted">If the token only expired, re-authorize instead: it keeps the connection’s id, name and settings.</p>
          <div className="actions">
            <SubmitButton variant="danger" pendingText="Deleting…">
              Delete {data.name}
            </SubmitButton>
            <a className="button button--secondary" href={`/integration-connections/${data.id}`}>
              Cancel
            </a>
          </div>
        </Form>
      )}
    </section>
  );
}
