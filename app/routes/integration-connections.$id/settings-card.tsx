import { describeConfigValue } from "~/lib/providers/config-form";
import type { PageData } from "./route";

/** The defaults intents inherit, at a glance; they are changed on the settings page, with the provider's lists. */
export function SettingsCard({ data }: { data: PageData }) {
  const { connection, configFields, configValues, overridableFields, provider } = data;
  return (
    <div className="card" id="connection-settings">
      <div className="card__header">
        <h2>Defaults for intents</h2>
        {data.can["connections.configure"] ? (
          <a className="button button--secondary" href={`/integration-connections/${connection.id}/settings`}>
            Edit settings
          </a>
        ) : null}
      </div>
      <dl className="facts">
        {configFields.map((field) => {
          const value = configValues[field.name];
          const text = Array.isArray(value) ? describeConfigValue(Object.fromEntries(value.map((row) => [row.key, row.value]))) : value;
          return (
            <div key={field.name} className="facts__row">
              <dt>{field.label}</dt>
              <dd>
                {text ? <code>{text}</code> : <span className="muted">not set</span>}
                {overridableFields.includes(field.name) ? <span className="muted small"> · overridable per intent</span> : null}
              </dd>
            </div>
          );
        })}
      </dl>
      <p className="muted small">
        Intents inherit these values.{" "}
        {data.can["connections.configure"]
          ? `Edit them to choose from ${provider.name}'s own lists: checked with ${provider.name} when saved.`
          : "Owners and admins change them."}
      </p>
    </div>
  );
}
