import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
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
      <header className="page__header">
        <div>
          <h1>Insights</h1>
          <p className="lead">What your automations asked to act on, and how each delivery went.</p>
        </div>
        <a className="button button--primary" href="/insights/new">
          New insight
        </a>
      </header>
      {insights.length === 0 ? (
        <div className="empty-state card">
          <h2>No insights yet</h2>
          <p>
            Insights are what your automations want acted on: a title and a body, delivered by every intent they
            target. Send one from the form or with the API (create a key in workspace settings).
          </p>
          <a className="button button--primary" href="/insights/new">
            Send an insight
          </a>
        </div>
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
