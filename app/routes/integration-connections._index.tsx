import { json, redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { EmptyState, PageHeader } from "~/components/page";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { requireKeyRing } from "~/lib/connection-guards.server";
import { listConnections, PAGE_SIZE } from "~/lib/connections.server";
import { CONNECTION_STATUSES } from "~/lib/db.server";
import { PROVIDER_LIST } from "~/lib/providers/registry";
import { PROVIDER_IDS } from "~/lib/providers/types";

export const meta: MetaFunction = () => [{ title: "Connections · SpokeDo" }];

// Filters come from the URL: anything unrecognised falls back to "no filter" rather than an error.
const FiltersSchema = v.object({
  provider: v.fallback(v.optional(v.picklist(PROVIDER_IDS)), undefined),
  status: v.fallback(v.optional(v.picklist(CONNECTION_STATUSES)), undefined),
  q: v.fallback(v.optional(v.pipe(v.string(), v.trim(), v.maxLength(50))), undefined),
  unused: v.fallback(v.optional(v.picklist(["1"])), undefined),
  sort: v.fallback(v.picklist(["name", "last_used", "status"]), "name"),
  page: v.fallback(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(10_000)), 1),
});

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  await requireKeyRing(context);
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const filters = v.parse(FiltersSchema, { ...params, page: params.page ?? "1" });
  const { connections, total } = await listConnections(context.db, workspace.id, {
    provider: filters.provider,
    status: filters.status,
    search: filters.q || undefined,
    unused: filters.unused === "1",
    sort: filters.sort,
    page: filters.page,
  });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (filters.page > pages) {
    const url = new URL(request.url);
    if (pages === 1) url.searchParams.delete("page");
    else url.searchParams.set("page", String(pages));
    throw redirect(`${url.pathname}${url.search}`);
  }
  const filtered = Boolean(filters.provider || filters.status || filters.q || filters.unused);
  return json({
    now: Date.now(),
    workspaceName: workspace.name,
    connections,
    total,
    page: filters.page,
    pages,
    filters: { provider: filters.provider ?? "", status: filters.status ?? "", q: filters.q ?? "", unused: filters.unused === "1", sort: filters.sort },
    filtered,
    providers: PROVIDER_LIST.map((provider) => ({ id: provider.id, name: provider.name, icon: provider.icon })),
  });
}

export default function ConnectionsIndex() {
  const data = useLoaderData<typeof loader>();
  const providerById = new Map(data.providers.map((provider) => [provider.id, provider]));
  const pageLink = (page: number) => {
    const params = new URLSearchParams();
    if (data.filters.provider) params.set("provider", data.filters.provider);
    if (data.filters.status) params.set("status", data.filters.status);
    if (data.filters.q) params.set("q", data.filters.q);
    if (data.filters.unused) params.set("unused", "1");
    if (data.filters.sort !== "name") params.set("sort", data.filters.sort);
    if (page > 1) params.set("page", String(page));
    const query = params.toString();
    return `/integration-connections${query ? `?${query}` : ""}`;
  };

  if (data.total === 0 && !data.filtered) {
    return (
      <section className="page">
        <PageHeader
          title="Connections"
          lead={
            <>
              The authorized links from <strong>{data.workspaceName}</strong> to the accounts your intents deliver to.
            </>
          }
        />
        <EmptyState title="No connections yet" action={{ href: "/integration-connections/new", label: "Connect an account" }}>
          A connection is your authorized link to one GitHub, Slack, Notion, Linear or Trello account. Once connected,
          intents can open issues, post messages, create pages and cards through it.
        </EmptyState>
      </section>
    );
  }

  return (
    <section className="page">
      <PageHeader
        title="Connections"
        lead={
          <>
            {data.total} connection{data.total === 1 ? "" : "s"}
            {data.filtered ? " match" : ""} in <strong>{data.workspaceName}</strong>.
          </>
        }
        action={{ href: "/integration-connections/new", label: "Connect an account" }}
      />

      <Form method="get" className="filters card" role="search">
        <label>
          <span className="field__label">Search</span>
          <input type="search" name="q" defaultValue={data.filters.q} placeholder="Name contains…" maxLength={50} />
        </label>
        <label>
          <span className="field__label">Provider</span>
          <select name="provider" defaultValue={data.filters.provider}>
            <option value="">All providers</option>
            {data.providers.map((provider) => (
              <option key={provider.id} value={provider.id}>
                {provider.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="field__label">Status</span>
          <select name="status" defaultValue={data.filters.status}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
            <option value="error">Error</option>
            <option value="revoked">Revoked</option>
          </select>
        </label>
        <label>
          <span className="field__label">Sort by</span>
          <select name="sort" defaultValue={data.filters.sort}>
            <option value="name">Name</option>
            <option value="last_used">Last used</option>
            <option value="status">Status (problems first)</option>
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" name="unused" value="1" defaultChecked={data.filters.unused} />
          Not used in 90 days
        </label>
        <div className="filters__actions">
          <button type="submit" className="button button--secondary">
            Apply
          </button>
          {data.filtered ? <a href="/integration-connections">Clear</a> : null}
        </div>
      </Form>

      {data.connections.length === 0 ? (
        <div className="card empty-state">
          <h2>No connection matches</h2>
          <p>
            <a href="/integration-connections">Clear the filters</a> to see every connection.
          </p>
        </div>
      ) : (
        <div className="card card--flush">
          <table className="table connections-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Account</th>
                <th scope="col">Status</th>
                <th scope="col">Last used</th>
                <th scope="col">Intents</th>
              </tr>
            </thead>
            <tbody>
              {data.connections.map((connection) => {
                const provider = providerById.get(connection.provider)!;
                return (
                  <tr key={connection.id}>
                    <td>
                      <a className="connection-link" href={`/integration-connections/${connection.id}`}>
                        <ProviderIcon src={provider.icon} size={22} />
                        <span>{connection.name}</span>
                      </a>
                    </td>
                    <td>
                      <span className="muted">{provider.name} · </span>
                      {connection.accountLabel}
                    </td>
                    <td>
                      <StatusBadge status={connection.status} />
                    </td>
                    <td>
                      <RelativeTime value={connection.lastUsedAt} now={data.now} />
                    </td>
                    <td>{connection.intentCount}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {data.pages > 1 ? (
        <nav className="pagination" aria-label="Pages">
          {data.page > 1 ? <a href={pageLink(data.page - 1)} rel="prev">← Previous</a> : <span />}
          <span>
            Page {data.page} of {data.pages}
          </span>
          {data.page < data.pages ? <a href={pageLink(data.page + 1)} rel="next">Next →</a> : <span />}
        </nav>
      ) : null}
    </section>
  );
}
