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
                <td>
                  <span className="muted">{provider.name} · </span>
                  {connection.accountLabel}
                </td>
                <td>
                  <StatusBadge status={connection.status} />
                  {connection.disabled ? <span className="badge status status--disabled">Disabled</span> : null}
                </td>
                <td>
                  <RelativeTime value={connection.lastUsedAt} now={data.now} />
                </td>
                <td>{connection.intentCount}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
