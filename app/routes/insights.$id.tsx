import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { formatExact } from "~/lib/platform/format";
import * as v from "valibot";
import { Pagination } from "~/components/pagination";
import { LOG_PAGE_SIZE, loadInsightPage } from "~/lib/delivery/log.server";
import { notFound } from "~/lib/platform/responses.server";
import { getProvider, isProviderId } from "~/lib/providers/registry";

const PageSchema = v.fallback(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(100_000)), 1);

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.insight.title ?? "Insight"} · SpokeDo` }];

const WHO_ACTS = {
  user: "You: re-authorize or fix the connection",
  config: "You: fix the intent's or connection's settings",
  provider: "The provider: SpokeDo retries",
  rate_limit: "Rate limit: SpokeDo retries after the wait the provider asked for",
} as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const page = v.parse(PageSchema, new URL(request.url).searchParams.get("page") ?? "1");
  const log = await loadInsightPage(context.db, workspace.id, params.id ?? "", page);
  if (!log) throw notFound();
  const { insight } = log;
  return json({
    page,
    pages: Math.max(1, Math.ceil(log.total / LOG_PAGE_SIZE)),
    now: Date.now(),
    insight: { id: insight.id, title: insight.title, body: insight.body, source: insight.source, createdAt: insight.created_at },
    deliveries: log.deliveries.map((d) => ({
      id: d.id,
      intentName: d.intent_name,
      intentId: d.intent_id,
      connectionName: d.connection_name,
      connectionId: d.connection_id,
      providerName: isProviderId(d.provider) ? getProvider(d.provider).name : d.provider,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.status === "pending" ? d.next_attempt_at : null,
      itemUrl: d.item_url,
    })),
    attempts: log.attempts,
  });
}

export default function InsightDetail() {
  const { insight, deliveries, attempts, now, page, pages } = useLoaderData<typeof loader>();
  return (
    <section className="page">
      <p className="breadcrumbs">
        <a href="/insights">Insights</a> / {insight.title}
      </p>
      <h1>{insight.title}</h1>
      <p className="muted">
        From the {insight.source === "api" ? "API" : "form"}, <RelativeTime value={insight.createdAt} now={now} />
      </p>
      <div className="card">
        <pre className="insight-body">{insight.body || "(no body)"}</pre>
      </div>

      <div className="card">
        <h2>Deliveries</h2>
        {deliveries.length === 0 ? (
          <p className="muted">No intent was targeted, so nothing was delivered.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Intent</th>
                <th scope="col">Connection</th>
                <th scope="col">State</th>
                <th scope="col">Created item</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <tr key={delivery.id}>
                  <td>{delivery.intentId ? <a href={`/intents/${delivery.intentId}`}>{delivery.intentName}</a> : delivery.intentName}</td>
                  <td>
                    {delivery.connectionId ? (
                      <a href={`/integration-connections/${delivery.connectionId}`}>{delivery.connectionName}</a>
                    ) : (
                      delivery.connectionName
                    )}
                  </td>
                  <td>
                    <span className={`badge delivery delivery--${delivery.status}`}>
                      {delivery.status === "pending"
                        ? delivery.attempts
                          ? "Retrying"
                          : "Pending"
                        : delivery.status === "succeeded"
                          ? "Delivered"
                          : "Failed"}
                    </span>
                    {delivery.nextAttemptAt && delivery.attempts ? (
                      <span className="muted small">
                        {" "}
                        next try <RelativeTime value={delivery.nextAttemptAt} now={now} />
                      </span>
                    ) : null}
                  </td>
                  <td>
                    {delivery.itemUrl ? (
                      <a href={delivery.itemUrl} rel="noreferrer">
                        Open in {delivery.providerName}
                      </a>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pagination page={page} pages={pages} href={(n) => `/insights/${insight.id}${n > 1 ? `?page=${n}` : ""}`} />
      </div>

      <div className="card">
        <h2>Integration log</h2>
        {attempts.length === 0 ? (
          <p className="muted">No attempt yet. Refresh in a moment.</p>
        ) : (
          <table className="table integration-log">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Intent / connection</th>
                <th scope="col">Attempt</th>
                <th scope="col">Outcome</th>
                <th scope="col">Provider said</th>
                <th scope="col">Who acts</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={attempt.id} className={`log-row log-row--${attempt.outcome}`}>
                  <td>
                    <time dateTime={new Date(attempt.at).toISOString()}>{formatExact(attempt.at)}</time>
                  </td>
                  <td>
                    {attempt.intent_name} → {attempt.connection_name}
                  </td>
                  <td>#{attempt.attempt}</td>
                  <td>
                    {attempt.outcome === "succeeded" ? "Delivered" : attempt.outcome === "retrying" ? "Will retry" : "Failed"}
                    {attempt.http_status ? <span className="muted"> (HTTP {attempt.http_status})</span> : null}
                  </td>
                  <td>
                    {attempt.item_url ? (
                      <a href={attempt.item_url} rel="noreferrer">
                        Created item
                      </a>
                    ) : null}
                    {attempt.message ? <span className="provider-message">{attempt.message}</span> : null}
                  </td>
                  <td>{attempt.error_class ? WHO_ACTS[attempt.error_class] : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
