import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { requireConnection, requireKeyRing } from "~/lib/connection-guards.server";
import { deleteConnection, listDependentIntents, revokeAtProvider, tryDecryptTokens } from "~/lib/connections.server";
import { flashCookie } from "~/lib/flash.server";
import { readFormData } from "~/lib/http.server";
import { getProvider } from "~/lib/providers/registry";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Delete ${data?.name ?? "connection"} · SpokeDo` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  await requireKeyRing(context);
  const connection = await requireConnection(context, workspace.id, params.id ?? "");
  const intents = await listDependentIntents(context.db, workspace.id, connection.id);
  const provider = getProvider(connection.provider);
  return json({
    id: connection.id,
    name: connection.name,
    accountLabel: connection.account_label,
    providerName: provider.name,
    canRevoke: provider.revoke !== undefined,
    intents,
  });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const ring = await requireKeyRing(context);
  await readFormData(request);
  const connection = await requireConnection(context, workspace.id, params.id ?? "");
  // Read the tokens first: once the row is gone they cannot be revoked any more.
  const tokens = await tryDecryptTokens(ring, connection);
  const deleted = await deleteConnection(context.db, workspace.id, connection.id);
  if (!deleted.ok) {
    if (deleted.reason === "not_found") throw new Response("Not found", { status: 404 });
    const flash = flashCookie(context, {
      type: "error",
      message: `${connection.name} cannot be deleted: ${deleted.intentCount} intent${deleted.intentCount === 1 ? " uses" : "s use"} it. Repoint or delete them first.`,
    });
    return redirect(`/integration-connections/${connection.id}/delete`, { status: 303, headers: { "Set-Cookie": flash } });
  }
  const revocation = await revokeAtProvider(context.config, connection, tokens);
  const flash = flashCookie(context, {
    type: revocation.revoked ? "success" : "info",
    message: `Deleted ${connection.name}. ${revocation.message}`,
  });
  return redirect("/integration-connections", { status: 303, headers: { "Set-Cookie": flash } });
}

export default function DeleteConnection() {
  const data = useLoaderData<typeof loader>();
  const blocked = data.intents.length > 0;
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/integration-connections">Connections</a> / <a href={`/integration-connections/${data.id}`}>{data.name}</a> / Delete
      </p>
      <h1>Delete {data.name}?</h1>
      {blocked ? (
        <div className="card card--warning">
          <h2>
            {data.intents.length} intent{data.intents.length === 1 ? " depends" : "s depend"} on this connection
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
