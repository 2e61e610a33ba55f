import { Form } from "@remix-run/react";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import type { IndexData } from "./route";

export function ConnectionsTable({ data }: { data: IndexData }) {
  const providerById = new Map(data.providers.map((provider) => [provider.id, provider]));
  return (
    <div className="card card--flush">
      <table className="table connections-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Account</th>
            <th scope="col">Status</th>
            <th scope="col">Last used</th>
            <th scope="col">Intents</th>
          </tr>
        </thead>
        <tbody>
          {data.connections.map((connection) => {
            const provider = providerById.get(connection.provider)!;
            return (
              <tr key={connection.id}>
                <td>
                  <a className="connection-link" href={`/integration-connections/${connection.id}`}>
                    <ProviderIcon src={provider.icon} size={22} />
                    <span>{connection.name}</span>
                  </a>
                </td>
                <td data-label="Account">
                  <span className="muted">{provider.name} · </span>
                  {connection.accountLabel}
                </td>
                <td data-label="Status">
                  <div className="status-cell">
                    <StatusBadge status={connection.status} />
                    {connection.disabled ? <span className="badge status status--disabled">Disabled</span> : null}
                    {connection.expiresAt !== null ? (
                      <span className="badge status status--expiring">
                        Expires <RelativeTime value={connection.expiresAt} now={data.now} />
                      </span>
                    ) : null}
                    {data.canReauthorize && (connection.status === "revoked" || connection.status === "expired") ? (
                      <Form method="post" action={`/integration-connections/${connection.id}`}>
                        <input type="hidden" name="intent" value="reauthorize" />
                        <button type="submit" className="button button--primary button--small" aria-label={`Reconnect ${connection.name}`}>
                          Reconnect
                        </button>
                      </Form>
                    ) : null}
                  </div>
                </td>
                <td data-label="Last used">
                  <RelativeTime value={connection.lastUsedAt} now={data.now} />
                </td>
                <td data-label="Intents">{connection.intentCount}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The index's first line when something is broken: how many, and a filter that shows them first. */
export function AttentionBanner({ count }: { count: number }) {
  return (
    <div className="card card--warning attention" role="status">
      <p>
        <strong>
          {count} connection{count === 1 ? " needs" : "s need"} attention
        </strong>{" "}
        — revoked, expired or in error. Reconnect revoked and expired ones; open one in error to see what failed.
      </p>
      <a className="button button--secondary" href="/integration-connections?sort=status">
        Show problems first
      </a>
    </div>
  );
}
