import { RelativeTime } from "~/components/time";
import type { EndpointView } from "~/lib/webhooks/endpoints.server";

/** Workspace settings → Webhooks: the endpoints (owners only), each linking to its page and log. */
export function WebhooksCard({ endpoints, now, max }: { endpoints: EndpointView[]; now: number; max: number }) {
  return (
    <div className="card stack">
      <h2>Webhooks</h2>
      <p className="muted">
        SpokeDo POSTs events (a connection changing status, a delivery failing…) to your endpoints, signed per{" "}
        <a href="https://www.standardwebhooks.com/">Standard Webhooks</a>. Each endpoint has its own secret, shown once.
      </p>
      {endpoints.length ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Last attempt</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <a className="break-all" href={`/settings/workspace/webhooks/${endpoint.id}`}>
                    {endpoint.url}
                  </a>
                  {endpoint.description ? <div className="muted small">{endpoint.description}</div> : null}
                </td>
                <td data-label="Events">{endpoint.events.length}</td>
                <td data-label="State">
                  <span className={`badge status status--${endpoint.enabled ? "active" : "revoked"}`}>
                    {endpoint.enabled ? "Enabled" : "Disabled"}
                  </span>
                  {endpoint.disabledReason ? (
                    <div className="text-danger small" role="status">
                      Disabled by SpokeDo after failing for days: see its page.
                    </div>
                  ) : endpoint.enabled && endpoint.consecutiveFailures > 0 ? (
                    <div className="text-danger small">Failing: {endpoint.consecutiveFailures} in a row</div>
                  ) : null}
                </td>
                <td data-label="Last attempt">
                  <RelativeTime value={endpoint.lastAttemptAt} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No endpoint yet.</p>
      )}
      {endpoints.length < max ? (
        <p>
          <a className="button button--secondary" href="/settings/workspace/webhooks/new">
            Add an endpoint
          </a>
        </p>
      ) : (
        <p className="muted">This workspace has {max} endpoints, the most it can have.</p>
      )}
    </div>
  );
}
