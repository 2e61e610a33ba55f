import { json, redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData, useRouteLoaderData } from "@remix-run/react";
import type { loader as rootLoader } from "~/root";
import * as v from "valibot";
import { EmptyState, PageHeader } from "~/components/page";
import { Pagination } from "~/components/pagination";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { can } from "~/lib/accounts/permissions";
import { requireKeyRing } from "~/lib/connections/guards.server";
import { loadConnectionsIndex } from "~/lib/connections/page.server";
import { listProviders } from "~/lib/providers/registry";
import { AttentionBanner, ConnectionsTable } from "./connections-table";
import { Filters } from "./filters";
import { FiltersSchema } from "./filters.server";

export const meta: MetaFunction = () => [{ title: "Connections · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  await requireKeyRing(context);
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const filters = v.parse(FiltersSchema, { ...params, page: params.page ?? "1" });
  const { connections, total, pages } = await loadConnectionsIndex(context.db, context.settings, workspace.id, {
    provider: filters.provider,
    status: filters.status,
    state: filters.state,
    search: filters.q || undefined,
    unused: filters.unused === "1",
    sort: filters.sort,
    page: filters.page,
  });
  if (filters.page > pages) {
    const url = new URL(request.url);
    if (pages === 1) url.searchParams.delete("page");
    else url.searchParams.set("page", String(pages));
    throw redirect(`${url.pathname}${url.search}`);
  }
  const filtered = Boolean(filters.provider || filters.status || filters.state || filters.q || filters.unused);
  return json({
    now: Date.now(),
    workspaceName: workspace.name,
    canReauthorize: can(workspace.role, "connections.reauthorize"),
    connections,
    total,
    page: filters.page,
    pages,
    filters: {
      provider: filters.provider ?? "",
      status: filters.status ?? "",
      state: filters.state ?? "",
      q: filters.q ?? "",
      unused: filters.unused === "1",
      sort: filters.sort,
    },
    filtered,
    providers: listProviders().map((provider) => ({ id: provider.id, name: provider.name, icon: provider.icon })),
  });
}

export type IndexData = ReturnType<typeof useLoaderData<typeof loader>>;

export default function ConnectionsIndex() {
  const data = useLoaderData<typeof loader>();
  // Counted once per page by the root loader (the navigation shows it too).
  const needingAttention = useRouteLoaderData<typeof rootLoader>("root")?.viewer?.needingAttention ?? 0;
  const pageLink = (page: number) => {
    const params = new URLSearchParams();
    if (data.filters.provider) params.set("provider", data.filters.provider);
    if (data.filters.status) params.set("status", data.filters.status);
    if (data.filters.state) params.set("state", data.filters.state);
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
          A connection is your authorized link to one GitHub, Slack, Notion, Linear or Trello account. Once connected, intents can open
          issues, post messages, create pages and cards through it.
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

      {needingAttention > 0 ? <AttentionBanner count={needingAttention} /> : null}

      <Filters data={data} />

      {data.connections.length === 0 ? (
        <div className="card empty-state">
          <h2>No connection matches</h2>
          <p>
            <a href="/integration-connections">Clear the filters</a> to see every connection.
          </p>
        </div>
      ) : (
        <ConnectionsTable data={data} />
      )}

      <Pagination page={data.page} pages={data.pages} href={pageLink} />
    </section>
  );
}
