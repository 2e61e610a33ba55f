import {
  AUDIT_ACTIONS,
  AUDIT_OBJECTS,
  describeAuditValue,
  isAuditAction,
  type AuditChanges,
  type AuditEventView,
} from "~/lib/audit/catalog";
import { RelativeTime } from "./time";

const OBJECT_NOUN: Record<string, string> = {
  connection: "Connection",
  intent: "Intent",
  insight: "Insight",
  api_key: "API key",
  member: "Member",
  webhook: "Webhook",
  workspace: "Workspace",
};

function objectHref(event: AuditEventView): string | null {
  const id = event.object.id;
  if (!id) return null;
  switch (event.objectType) {
    case "connection":
      return event.action === "connection.deleted" ? null : `/integration-connections/${id}`;
    case "intent":
      return event.action === "intent.deleted" ? null : `/intents/${id}`;
    case "insight":
      return `/insights/${id}`;
    case "webhook":
      return event.action === "webhook.deleted" ? null : `/settings/workspace/webhooks/${id}`;
    default:
      return null;
  }
}

export function actionLabel(action: string) {
  return isAuditAction(action) ? AUDIT_ACTIONS[action].label : action;
}

function Who({ event }: { event: AuditEventView }) {
  return (
    <>
      {event.actor.type === "api_key" ? <span className="badge">API key</span> : null} {event.actor.label}
      {event.country ? <span className="muted small"> · from {event.country}</span> : null}
    </>
  );
}

function Changes({ changes }: { changes: AuditChanges | null }) {
  if (!changes) return null;
  return (
    <ul className="audit-changes">
      {Object.entries(changes).map(([field, [before, after]]) => (
        <li key={field}>
          <span className="audit-changes__field">{field}</span>: <del>{describeAuditValue(before)}</del>
          <span aria-hidden="true"> → </span>
          <span className="visually-hidden"> changed to </span>
          <ins>{describeAuditValue(after)}</ins>
        </li>
      ))}
    </ul>
  );
}

/** The trail as a table: when, who (and from where), what, and the before/after of settings. */
export function AuditTable({ events, now, showObject = true }: { events: AuditEventView[]; now: number; showObject?: boolean }) {
  return (
    <div className="table-scroll">
      <table className="table audit-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const href = objectHref(event);
            return (
              <tr key={event.seq}>
                <td data-label="When">
                  <RelativeTime value={event.at} now={now} />
                </td>
                <td data-label="Who">
                  <Who event={event} />
                </td>
                <td data-label="What">
                  {showObject ? (
                    <>
                      {OBJECT_NOUN[event.objectType] ?? event.objectType}{" "}
                      {href ? <a href={href}>{event.object.label}</a> : <strong>{event.object.label}</strong>}:{" "}
                    </>
                  ) : null}
                  {actionLabel(event.action)}
                  {event.detail ? <div className="muted small">{event.detail}</div> : null}
                </td>
                <td data-label={event.changes ? "Changes" : undefined}>
                  <Changes changes={event.changes} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The "what" filter: every kind of object, then each action under it. */
export function AuditWhatOptions() {
  return (
    <>
      <option value="">Any change</option>
      {Object.entries(AUDIT_OBJECTS).map(([type, label]) => (
        <optgroup key={type} label={label}>
          <option value={type}>All changes to {label.toLowerCase()}</option>
          {Object.entries(AUDIT_ACTIONS)
            .filter(([, action]) => action.object === type)
            .map(([action, { label: actionText }]) => (
              <option key={action} value={action}>
                {OBJECT_NOUN[type]}: {actionText.toLowerCase()}
              </option>
            ))}
        </optgroup>
      ))}
    </>
  );
}
