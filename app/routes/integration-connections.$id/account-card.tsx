import { Form } from "@remix-run/react";
import { actionLabel } from "~/components/audit-events";
import { describeAuditValue } from "~/lib/audit/catalog";
import { SubmitButton } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import type { PageData } from "./route";

export function AccountCard({ data }: { data: PageData }) {
  const { connection, provider, now } = data;
  return (
    <div className="card">
      <h2>Account and tokens</h2>
      <p>
        {connection.accountLabel} · authorized <RelativeTime value={connection.authorizedAt} now={now} />
      </p>
      {/* The details are there when needed, folded so the page leads with what to do. */}
      <details className="token-details">
        <summary>Token details, scopes and rate limit</summary>
        <dl className="facts">
          <dt>Account</dt>
          <dd>{connection.accountLabel}</dd>
          {Object.entries(connection.identity).map(([key, value]) => (
            <div key={key} className="facts__row">
              <dt>{key.replace(/_/g, " ")}</dt>
              <dd>
                <code>{value}</code>
              </dd>
            </div>
          ))}
          <dt>Granted scopes</dt>
          <dd>
            {connection.scopes.length ? (
              connection.scopes.map((scope) => (
                <code key={scope} className="scope">
                  {scope}
                </code>
              ))
            ) : (
              <span className="muted">none reported</span>
            )}
          </dd>
          {connection.status === "revoked" ? (
            <>
              <dt>Tokens</dt>
              <dd>{provider.name} no longer accepts them; re-authorizing replaces them.</dd>
            </>
          ) : (
            <>
              <dt>Access token expires</dt>
              <dd>
                <RelativeTime value={connection.accessTokenExpiresAt} now={now} never="does not expire" />
              </dd>
              <dt>Refresh token</dt>
              <dd>
                {connection.hasRefreshToken ? (
                  <>
                    held
                    {connection.refreshTokenExpiresAt ? (
                      <>
                        , expires <RelativeTime value={connection.refreshTokenExpiresAt} now={now} />
                      </>
                    ) : null}
                  </>
                ) : (
                  <span className="muted">none</span>
                )}
              </dd>
              <dt>Last refresh</dt>
              <dd>
                <RelativeTime value={connection.lastRefreshedAt} now={now} />
              </dd>
            </>
          )}
          <dt>Authorized</dt>
          <dd>
            <RelativeTime value={connection.authorizedAt} now={now} />
          </dd>
          <dt>Rate-limit budget</dt>
          <dd>
            <BudgetFacts data={data} />
          </dd>
        </dl>
      </details>
      <div className="actions">
        <Form method="post">
          <input type="hidden" name="intent" value="test" />
          <SubmitButton variant="secondary" match={{ name: "intent", value: "test" }} pendingText="Testing…">
            Test connection
          </SubmitButton>
        </Form>
        {data.can["connections.reauthorize"] ? (
          <Form method="post">
            <input type="hidden" name="intent" value="reauthorize" />
            <SubmitButton
              variant="secondary"
              match={{ name: "intent", value: "reauthorize" }}
              pendingText={`Redirecting to ${provider.name}…`}
            >
              Re-authorize
            </SubmitButton>
          </Form>
        ) : null}
      </div>
      <p className="muted small">
        Re-authorize replaces the tokens in place: the connection keeps its id, name and settings, so intents keep working.
      </p>
    </div>
  );
}

function BudgetFacts({ data }: { data: PageData }) {
  const { connection, now } = data;
  const { budget } = connection;
  const number = (value: number) => value.toLocaleString("en-US");
  return (
    <>
      {budget.remaining !== null && budget.limit !== null && budget.unit !== null ? (
        <>
          {number(budget.remaining)} of {number(budget.limit)} {budget.unit} left, resets <RelativeTime value={budget.resetAt} now={now} />
          {budget.observedAt !== null ? (
            <span className="muted">
              {" "}
              (reported <RelativeTime value={budget.observedAt} now={now} />)
            </span>
          ) : null}
          .
        </>
      ) : budget.waitUntil !== null ? (
        <>
          Paused by the provider until <RelativeTime value={budget.waitUntil} now={now} />.
        </>
      ) : budget.limit !== null && budget.unit !== null ? (
        <>
          Full again: {number(budget.limit)} {budget.unit}
          {budget.observedAt !== null ? (
            <span className="muted">
              {" "}
              (last reported <RelativeTime value={budget.observedAt} now={now} />)
            </span>
          ) : null}
          .
        </>
      ) : (
        <span className="muted">nothing reported yet</span>
      )}
      <br />
      <span className="muted small">{budget.description}</span>
    </>
  );
}

export function HistoryCard({ data }: { data: PageData }) {
  const { connection, now } = data;
  return (
    <div className="card">
      <h2>History</h2>
      {data.changes.events.length ? (
        <ul className="history-list">
          {data.changes.events.map((event) => (
            <li key={event.seq}>
              <strong>{actionLabel(event.action)}</strong> by{" "}
              {event.actor.type === "api_key" ? `API key ${event.actor.label}` : event.actor.label}{" "}
              <RelativeTime value={event.at} now={now} />
              {event.changes ? (
                <span className="muted small">
                  {" "}
                  ·{" "}
                  {Object.entries(event.changes)
                    .map(([field, [before, after]]) => `${field}: ${describeAuditValue(before)} → ${describeAuditValue(after)}`)
                    .join("; ")}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No change recorded yet.</p>
      )}
      <p className="small">
        <a href={`/settings/workspace/audit?object=${connection.id}`}>
          {data.changes.more ? "All changes to this connection" : "See it in the audit trail"}
        </a>
      </p>
      <dl className="facts">
        <dt>Created</dt>
        <dd>
          <RelativeTime value={connection.createdAt} now={now} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <RelativeTime value={connection.updatedAt} now={now} />
        </dd>
        <dt>Last used</dt>
        <dd>
          <RelativeTime value={connection.lastUsedAt} now={now} />
        </dd>
      </dl>
    </div>
  );
}
