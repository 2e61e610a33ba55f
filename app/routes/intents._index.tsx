import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { EmptyState, PageHeader } from "~/components/page";
import { StatusBadge } from "~/components/status-badge";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { INTENTS_PAGE_SIZE, listIntents } from "~/lib/delivery/intents.server";
import * as v from "valibot";
import { Pagination } from "~/components/pagination";

const PageSchema = v.fallback(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(100_000)), 1);

export const meta: MetaFunction = () => [{ title: "Intents · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const page = v.parse(PageSchema, new URL(request.url).searchParams.get("page") ?? "1");
  const { intents, total } = await listIntents(context.db, workspace.id, page);
  return json({ intents, total, page, pages: Math.max(1, Math.ceil(total / INTENTS_PAGE_SIZE)) });
}

export default function IntentsIndex() {
  const { intents, page, pages } = useLoaderData<typeof loader>();
  return (
    <section className="page">
      <PageHeader
        title="Intents"
        lead="Where insights go: each intent delivers through one connection, with its defaults or its own overrides."
        action={{ href: "/intents/new", label: "New intent" }}
      />
      {intents.length === 0 ? (
        <EmptyState title="No intents yet" action={{ href: "/intents/new", label: "Create an intent" }}>
          An intent says where an insight goes: which connection delivers it, and which of the connection’s defaults (repository, channel,
          database…) it overrides.
        </EmptyState>
      ) : (
        <div className="card card--flush">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Connection</th>
                <th scope="col">Overrides</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {intents.map((intent) => (
                <tr key={intent.id}>
                  <td>
                    <a href={`/intents/${intent.id}`}>
                      <strong>{intent.name}</strong>
                    </a>
                  </td>
                  <td data-label="Connection">
                    <a href={`/integration-connections/${intent.connectionId}`}>{intent.connectionName}</a>{" "}
                    {intent.connectionStatus === "active" ? null : <StatusBadge status={intent.connectionStatus} />}
                  </td>
                  <td data-label="Overrides">
                    {intent.overrideCount === 0 ? (
                      <span className="muted">inherits all</span>
                    ) : (
                      `${intent.overrideCount} field${intent.overrideCount === 1 ? "" : "s"}`
                    )}
                  </td>
                  <td data-label="State">
                    {intent.enabled ? "Enabled" : <span className="muted">Disabled</span>}
                    {intent.attention ? (
                      <>
                        {" "}
                        <span className="badge status status--error" title={intent.attention}>
                          Needs attention
                        </span>
                      </>
                    ) : null}
                    {intent.drift ? (
                      <>
                        {" "}
                        <span className="badge status status--expiring" title={intent.drift}>
                          Settings problem
                        </span>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={page} pages={pages} href={(n) => (n > 1 ? `/intents?page=${n}` : "/intents")} />
    </section>
  );
}
