import { Form } from "@remix-run/react";
import { DriftProblems } from "~/components/drift-problems";
import { SubmitButton } from "~/components/forms";
import type { PageData } from "./route";

export function IntentsCard({ data }: { data: PageData }) {
  const { provider } = data;
  return (
    <div className="card" id="intents">
      <h2>Intents using this connection</h2>
      {data.intentTotal === 0 ? (
        <p className="muted">No intent delivers through this connection.</p>
      ) : (
        <>
          <p>
            {data.intentTotal === 1 ? "1 intent depends" : `${data.intentTotal} intents depend`} on this connection. Delete is blocked until
            they are repointed or deleted.
          </p>
          <ul className="plain-list">
            {data.intents.map((intent) => (
              <li key={intent.id}>
                <a href={`/intents/${intent.id}`}>{intent.name}</a>
                {intent.enabled ? null : <span className="muted"> (disabled)</span>}
                {intent.drift.problems.length ? (
                  <>
                    {" "}
                    <span className="badge status status--expiring">Settings problem</span>
                    <DriftProblems problems={intent.drift.problems} className="small" />
                  </>
                ) : null}
              </li>
            ))}
          </ul>
          {data.intentTotal > data.intents.length ? (
            <p className="muted small">
              …and {data.intentTotal - data.intents.length} more (<a href="/intents">see all intents</a>).
            </p>
          ) : null}
          {!data.can["connections.delete"] ? null : data.repointTargets.length > 0 ? (
            <Form method="post" className="row repoint">
              <input type="hidden" name="intent" value="repoint-intents" />
              <label className="field">
                <span className="field__label">Move all of them to</span>
                <select name="targetConnectionId" required>
                  {data.repointTargets.map((target) => (
                    <option key={target.id} value={target.id}>
                      {target.name}
                      {target.status === "active" ? "" : ` (${target.status})`}
                    </option>
                  ))}
                </select>
              </label>
              <SubmitButton variant="secondary" match={{ name: "intent", value: "repoint-intents" }} pendingText="Moving…">
                Repoint intents
              </SubmitButton>
            </Form>
          ) : (
            <p className="muted small">To move them all at once, connect another {provider.name} account first.</p>
          )}
        </>
      )}
    </div>
  );
}

/** What cannot be undone, last on the page. */
export function DangerZone({ data }: { data: PageData }) {
  return (
    <section className="card card--danger" aria-labelledby="danger-zone">
      <h2 id="danger-zone">Danger zone</h2>
      <p className="muted">
        Deleting is final. Re-authorize instead when the token expired; delete only when the account is being retired.
        {data.intentTotal > 0 ? " Intents that depend on the connection must be repointed or deleted first." : null}
      </p>
      <a className="button button--danger" href={`/integration-connections/${data.connection.id}/delete`}>
        Delete connection…
      </a>
    </section>
  );
}
