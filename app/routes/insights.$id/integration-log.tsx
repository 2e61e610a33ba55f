import { formatExact } from "~/lib/platform/format";
import type { InsightData } from "./route";

const WHO_ACTS = {
  user: "You: re-authorize or fix the connection",
  config: "You: fix the intent's or connection's settings",
  provider: "The provider: SpokeDo retries",
  rate_limit: "Rate limit: SpokeDo retries after the wait the provider asked for",
} as const;

export function IntegrationLog({ data }: { data: InsightData }) {
  const { attempts } = data;
  return (
    <div className="card">
      <h2>Integration log</h2>
      {attempts.length === 0 ? (
        <p className="muted">
          {data.pending > 0
            ? "No attempt yet. Refresh in a moment."
            : data.held > 0
              ? "No attempt yet: the deliveries are held until their connection is enabled."
              : "No attempt was made."}
        </p>
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
                <td data-label="Time">
                  <time dateTime={new Date(attempt.at).toISOString()}>{formatExact(attempt.at)}</time>
                </td>
                <td data-label="Intent / connection">
                  {attempt.intent_name} → {attempt.connection_name}
                </td>
                <td data-label="Attempt">#{attempt.attempt}</td>
                <td data-label="Outcome">
                  {attempt.outcome === "succeeded" ? "Delivered" : attempt.outcome === "retrying" ? "Will retry" : "Failed"}
                  {/* A failure inside a 2xx answer (Slack's ok:false) is told by its words, not its status. */}
                  {attempt.http_status && (attempt.outcome === "succeeded" || attempt.http_status >= 300) ? (
                    <span className="muted"> (HTTP {attempt.http_status})</span>
                  ) : null}
                </td>
                <td data-label="Provider said">
                  {attempt.item_url ? (
                    <a href={attempt.item_url} rel="noreferrer">
                      Created item
                    </a>
                  ) : null}
                  {attempt.message ? <span className="provider-message">{attempt.message}</span> : null}
                </td>
                <td data-label="Who acts">{attempt.error_class ? WHO_ACTS[attempt.error_class] : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
