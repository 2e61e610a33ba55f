import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import type { PageData } from "./route";

export function StatusCard({ data }: { data: PageData }) {
  const { connection, now } = data;
  return (
    <div className={`card status-card status-card--${connection.status}`}>
      <h2>Status</h2>
      <p>
        <StatusBadge status={connection.status} /> since <RelativeTime value={connection.statusChangedAt} now={now} />
        {connection.statusReason ? <> — {connection.statusReason}</> : null}
      </p>
      {connection.lastError ? (
        <p>
          Last error <RelativeTime value={connection.lastErrorAt} now={now} />:{" "}
          <span className="provider-message">{connection.lastError}</span>
          {connection.lastErrorInsightId ? (
            <>
              {" "}
              (<a href={`/insights/${connection.lastErrorInsightId}`}>see the insight</a>)
            </>
          ) : null}
        </p>
      ) : null}
      <p className="muted small">
        {connection.status === "active"
          ? "Intents deliver through this connection."
          : connection.status === "error"
            ? "Intents still deliver through it: the next successful delivery, a successful Test connection or SpokeDo's periodic check makes it active again."
            : "Deliveries fail until you re-authorize; then redeliver the failed ones from this page."}
      </p>
    </div>
  );
}
