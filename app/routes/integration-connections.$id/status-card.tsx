import { Form } from "@remix-run/react";
import { DriftProblems } from "~/components/drift-problems";
import { SubmitButton } from "~/components/forms";
import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import type { PageData } from "./route";

const HEALTH_WORDS = {
  ok: "the provider confirmed the token works",
  revoked: "the provider no longer accepts the token",
  expired: "the token has expired",
  unreachable: "the provider could not be reached (the status was left as it was)",
  other_account: "the token belongs to another account",
  unreadable: "the stored tokens could not be decrypted",
} as const;

export function StatusCard({ data }: { data: PageData }) {
  const { connection, now } = data;
  const disabled = connection.disabledAt !== null;
  return (
    <div className={`card status-card status-card--${disabled ? "disabled" : connection.status}`}>
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
      {connection.expiresSoonAt !== null ? (
        <p className="expiring-note">
          <strong>
            The authorization ends <RelativeTime value={connection.expiresSoonAt} now={now} />.
          </strong>{" "}
          Re-authorize before then to keep deliveries going.
        </p>
      ) : null}
      <HealthLine data={data} />
      {connection.budget.waitUntil !== null && !disabled ? (
        <p className="expiring-note">
          <strong>
            Deliveries wait until <RelativeTime value={connection.budget.waitUntil} now={now} />
          </strong>
          {connection.budget.limit === null || connection.budget.remaining === null
            ? ": the provider answered 429 (Too Many Requests) and asked SpokeDo to wait. "
            : `: ${connection.budget.remaining} of ${connection.budget.limit} ${connection.budget.unit ?? "requests"} left. `}
          They are sent after the reset instead of being refused.
        </p>
      ) : null}
      <DriftNote data={data} />
      {disabled ? (
        <div className="status-card__disabled">
          <p>
            <strong>Disabled</strong> <RelativeTime value={connection.disabledAt} now={now} />: deliveries through it are held, neither sent
            nor failed{data.held ? ` (${data.held} waiting)` : ""}, and it is not checked.
          </p>
          {data.can["connections.configure"] ? (
            <Form method="post">
              <input type="hidden" name="intent" value="enable" />
              <SubmitButton match={{ name: "intent", value: "enable" }} pendingText="Enabling…">
                Enable{data.held ? ` and send ${data.held} held` : ""}
              </SubmitButton>
            </Form>
          ) : (
            <p className="muted small">An owner or admin can enable it.</p>
          )}
        </div>
      ) : (
        <>
          <p className="muted small">
            {connection.status === "active"
              ? "Intents deliver through this connection."
              : connection.status === "error"
                ? "Intents still deliver through it: the next successful delivery, a successful Test connection or SpokeDo's scheduled check makes it active again."
                : "Deliveries fail until you re-authorize; then redeliver the failed ones from this page."}
          </p>
          <NextAction data={data} />
          {data.can["connections.configure"] ? (
            <Form method="post" className="inline-form">
              <input type="hidden" name="intent" value="disable" />
              <SubmitButton variant="secondary" match={{ name: "intent", value: "disable" }} pendingText="Disabling…">
                Disable deliveries
              </SubmitButton>
              <span className="muted small">Holds new deliveries without deleting anything; enable it again at any time.</span>
            </Form>
          ) : null}
        </>
      )}
    </div>
  );
}

function HealthLine({ data }: { data: PageData }) {
  const { connection, now } = data;
  const { health } = connection;
  const stale = connection.status === "revoked" || connection.status === "expired";
  return (
    <p className="muted small">
      {health.checkedAt !== null && health.outcome !== null ? (
        <>
          Last checked <RelativeTime value={health.checkedAt} now={now} />: {HEALTH_WORDS[health.outcome]}
          {health.latencyMs !== null ? ` (${health.latencyMs} ms)` : ""}.{" "}
        </>
      ) : stale ? null : (
        "Not checked yet. "
      )}
      {connection.refreshFailingSince !== null && !stale ? (
        <>
          Refreshing the token has been failing since <RelativeTime value={connection.refreshFailingSince} now={now} />; SpokeDo keeps
          trying with backoff.{" "}
        </>
      ) : null}
      {health.dueAt !== null && connection.disabledAt === null && !stale ? (
        <>
          Next check <RelativeTime value={health.dueAt} now={now} />.
        </>
      ) : null}
    </p>
  );
}

/** What the defaults and the intents point at, as SpokeDo's last check found it (config drift). */
function DriftNote({ data }: { data: PageData }) {
  const { connection, now, provider } = data;
  const { drift } = connection;
  if (connection.settingsUnverified && connection.status !== "revoked" && connection.status !== "expired") {
    return (
      <p className="muted small">
        Not verified with {provider.name} yet: what the defaults point at is checked at SpokeDo&apos;s next run
        {connection.disabledAt !== null ? " after the connection is enabled" : ""}.
      </p>
    );
  }
  if (drift.problems.length === 0 && data.intentsDrifted === 0) return null;
  return (
    <div className="drift-note">
      {drift.problems.length ? (
        <>
          <p>
            <strong>The defaults point at something that does not work any more</strong>
            {drift.checkedAt !== null ? (
              <>
                {" "}
                (found by SpokeDo&apos;s check <RelativeTime value={drift.checkedAt} now={now} />)
              </>
            ) : null}
            :
          </p>
          <DriftProblems problems={drift.problems} />
        </>
      ) : null}
      {data.intentsDrifted > 0 ? (
        <p>
          <a href="#intents">
            {data.intentsDrifted === 1 ? "1 intent points" : `${data.intentsDrifted} intents point`} at something that does not work any
            more
          </a>{" "}
          (through its own overrides or these defaults).
        </p>
      ) : null}
      <p className="muted small">Deliveries there would fail. Fix the settings; SpokeDo checks them again within a minute of saving.</p>
    </div>
  );
}

/** The one thing to do about the status, as the box's primary button. */
function NextAction({ data }: { data: PageData }) {
  const { connection, provider } = data;
  if (connection.status === "revoked" || connection.status === "expired" || connection.expiresSoonAt !== null) {
    if (!data.can["connections.reauthorize"]) return <p>Ask an owner or admin of the workspace to re-authorize it.</p>;
    return (
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="reauthorize" />
        <SubmitButton match={{ name: "intent", value: "reauthorize" }} pendingText={`Redirecting to ${provider.name}…`}>
          Re-authorize with {provider.name}
        </SubmitButton>
        <span className="muted small">The connection keeps its id, name and settings.</span>
      </Form>
    );
  }
  if (connection.status === "error") {
    return (
      <Form method="post" className="inline-form">
        <input type="hidden" name="intent" value="test" />
        <SubmitButton match={{ name: "intent", value: "test" }} pendingText="Testing…">
          Test connection now
        </SubmitButton>
      </Form>
    );
  }
  if (connection.drift.problems.length) {
    if (!data.can["connections.configure"]) return <p>Ask an owner or admin of the workspace to fix its settings.</p>;
    return (
      <p>
        <a className="button button--primary" href={`/integration-connections/${connection.id}/settings`}>
          Fix settings
        </a>
      </p>
    );
  }
  if (data.intentsDrifted > 0) {
    return (
      <p>
        <a className="button button--primary" href="#intents">
          Fix the intents
        </a>
      </p>
    );
  }
  return null;
}
