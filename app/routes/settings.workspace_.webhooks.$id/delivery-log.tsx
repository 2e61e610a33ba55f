import { Form } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import type { LogEntry } from "~/lib/webhooks/log.server";

const OUTCOME = { succeeded: "Delivered", retrying: "Will retry", failed: "Failed" } as const;

/** The endpoint's log: one row per attempt, newest first, with "Resend" on settled deliveries. */
export function DeliveryLog({
  entries,
  now,
  endpointId,
  next,
  paged,
  canResend,
}: {
  entries: LogEntry[];
  now: number;
  endpointId: string;
  next: string | null;
  paged: boolean;
  canResend: boolean;
}) {
  const base = `/settings/workspace/webhooks/${endpointId}`;
  return (
    <div className="card stack">
      <h2>Delivery log</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing sent yet. Send a test event to try the endpoint.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Result</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <RelativeTime value={entry.at} now={now} />
                </td>
                <td data-label="Event">
                  <code>{entry.event_type}</code>
                  <div className="muted small">
                    <code>{entry.event_id}</code>
                  </div>
                </td>
                <td data-label="Attempt">{entry.attempt}</td>
                <td data-label="Result">
                  <span className={entry.outcome === "succeeded" ? "" : "text-danger"}>{OUTCOME[entry.outcome]}</span>
                  {entry.error ? <div className="provider-message small">{entry.error}</div> : null}
                  {entry.response_snippet ? (
                    <details className="small">
                      <summary>Response (first KiB)</summary>
                      <pre className="insight-body">{entry.response_snippet}</pre>
                    </details>
                  ) : null}
                </td>
                <td data-label="Status">{entry.http_status ?? <span className="muted">—</span>}</td>
                <td data-label="Duration">{entry.duration_ms === null ? <span className="muted">—</span> : `${entry.duration_ms} ms`}</td>
                <td className="table__actions">
                  {canResend && entry.delivery_status !== "pending" ? (
                    <Form method="post">
                      <input type="hidden" name="intent" value="resend" />
                      <SubmitButton variant="secondary" name="deliveryId" value={entry.delivery_id} pendingText="Resending…">
                        Resend<span className="visually-hidden"> {entry.event_id}</span>
                      </SubmitButton>
                    </Form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next || paged ? (
        <nav className="pagination" aria-label="Pages">
          {paged ? <a href={base}>← Newest</a> : <span />}
          <span />
          {next ? (
            <a href={`${base}?before=${next}`} rel="next">
              Older →
            </a>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
    </div>
  );
}
