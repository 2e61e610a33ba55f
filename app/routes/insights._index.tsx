import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { EmptyState, PageHeader } from "~/components/page";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { listInsights } from "~/lib/delivery/insights.server";
import * as v from "valibot";

export const meta: MetaFunction = () => [{ title: "Insights · SpokeDo" }];

// `?before=<created_at>.<id>`: the last insight of the previous page (keyset pagination).
const BeforeSchema = v.fallback(
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}\.[0-9a-f-]{36}$/),
      v.transform((value) => ({ createdAt: Number(value.split(".")[0]), id: value.split(".")[1]! })),
    ),
  ),
  undefined,
);

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const before = v.parse(BeforeSchema, new URL(request.url).searchParams.get("before") ?? undefined);
  const { insights, next } = await listInsights(context.db, workspace.id, before);
  return json({ now: Date.now(), insights, next: next ? `${next.createdAt}.${next.id}` : null, paged: before !== undefined });
}

export default function InsightsIndex() {
  const { insights, now, next, paged } = useLoaderData<typeof loader>();
  return (
    <section className="page">
      <PageHeader
        title="Insights"
        lead="What your automations asked to act on, and how each delivery went."
        action={{ href: "/insights/new", label: "New insight" }}
      />
      {insights.length === 0 ? (
        <EmptyState title="No insights yet" action={{ href: "/insights/new", label: "Send an insight" }}>
          Insights are what your automations want acted on: a title and a body, delivered by every intent they target. Send one from the
          form or with the API (create a key in workspace settings).
        </EmptyState>
      ) : (
        <div className="card card--flush">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Deliveries</th>
                <th scope="col">Source</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {insights.map((insight) => (
                <tr key={insight.id}>
                  <td>
                    <a href={`/insights/${insight.id}`}>{insight.title}</a>
                  </td>
                  <td data-label="Deliveries">
                    {insight.succeeded} of {insight.deliveries} delivered
                    {insight.failed ? <span className="text-danger"> · {insight.failed} failed</span> : null}
                  </td>
                  <td data-label="Source">{insight.source === "api" ? "API" : "Form"}</td>
                  <td data-label="Created">
                    <RelativeTime value={insight.created_at} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next || paged ? (
        <nav className="pagination" aria-label="Pages">
          {paged ? <a href="/insights">← Newest</a> : <span />}
          <span />
          {next ? (
            <a href={`/insights?before=${next}`} rel="next">
              Older →
            </a>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
    </section>
  );
}
