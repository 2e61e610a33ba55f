import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { EmptyState, PageHeader } from "~/components/page";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { listInsights } from "~/lib/insights.server";

export const meta: MetaFunction = () => [{ title: "Insights · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  return json({ now: Date.now(), insights: await listInsights(context.db, workspace.id) });
}

export default function InsightsIndex() {
  const { insights, now } = useLoaderData<typeof loader>();
  return (
    <section className="page">
      <PageHeader
        title="Insights"
        lead="What your automations asked to act on, and how each delivery went."
        action={{ href: "/insights/new", label: "New insight" }}
      />
      {insights.length === 0 ? (
        <EmptyState title="No insights yet" action={{ href: "/insights/new", label: "Send an insight" }}>
          Insights are what your automations want acted on: a title and a body, delivered by every intent they target.
          Send one from the form or with the API (create a key in workspace settings).
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
                  <td>
                    {Number(insight.succeeded)} of {Number(insight.deliveries)} delivered
                    {Number(insight.failed) ? <span className="text-danger"> · {Number(insight.failed)} failed</span> : null}
                  </td>
                  <td>{insight.source === "api" ? "API" : "Form"}</td>
                  <td>
                    <RelativeTime value={insight.created_at} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
