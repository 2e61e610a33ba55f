/**
 * What the audit trail records (decision 027): each action with the kind of object it acts on
 * and how the trail says it. Shared by the recorder, the filters and the pages.
 */

export const AUDIT_OBJECTS = {
  connection: "Connections",
  intent: "Intents",
  insight: "Insights",
  api_key: "API keys",
  member: "Members",
  webhook: "Webhooks",
  workspace: "Workspace",
} as const;

export type AuditObjectType = keyof typeof AUDIT_OBJECTS;

export const AUDIT_ACTIONS = {
  "connection.connected": { object: "connection", label: "Connected" },
  "connection.reauthorized": { object: "connection", label: "Re-authorized" },
  "connection.account_switched": { object: "connection", label: "Switched to another account" },
  "connection.account_kept": { object: "connection", label: "Kept its account, discarding another" },
  "connection.settings_changed": { object: "connection", label: "Changed settings" },
  "connection.tested": { object: "connection", label: "Tested" },
  "connection.disabled": { object: "connection", label: "Disabled" },
  "connection.enabled": { object: "connection", label: "Enabled" },
  "connection.intents_moved": { object: "connection", label: "Moved its intents" },
  "connection.redelivered": { object: "connection", label: "Redelivered failed deliveries" },
  "connection.deleted": { object: "connection", label: "Deleted" },
  "intent.created": { object: "intent", label: "Created" },
  "intent.changed": { object: "intent", label: "Changed" },
  "intent.deleted": { object: "intent", label: "Deleted" },
  "insight.sent": { object: "insight", label: "Sent" },
  "insight.redelivered": { object: "insight", label: "Redelivered failed deliveries" },
  "api_key.created": { object: "api_key", label: "Created" },
  "api_key.revoked": { object: "api_key", label: "Revoked" },
  "member.added": { object: "member", label: "Added" },
  "member.role_changed": { object: "member", label: "Changed role" },
  "member.removed": { object: "member", label: "Removed" },
  "member.left": { object: "member", label: "Left the workspace" },
  "webhook.created": { object: "webhook", label: "Created" },
  "webhook.changed": { object: "webhook", label: "Changed" },
  "webhook.tested": { object: "webhook", label: "Sent a test event" },
  "webhook.resent": { object: "webhook", label: "Resent a delivery" },
  "webhook.deleted": { object: "webhook", label: "Deleted" },
  "workspace.renamed": { object: "workspace", label: "Renamed" },
} as const satisfies Record<string, { object: AuditObjectType; label: string }>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export const AUDIT_ACTION_LIST = Object.keys(AUDIT_ACTIONS) as AuditAction[];

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}

export function isAuditObjectType(value: string): value is AuditObjectType {
  return Object.hasOwn(AUDIT_OBJECTS, value);
}

/** Audit events are kept this long, then pruned by the cron (README: "Audit trail"). */
export const AUDIT_RETENTION_DAYS = 400;

/** A recorded before/after value as one line of text. */
export function describeAuditValue(value: unknown): string {
  if (value === undefined || value === null || value === "") return "(not set)";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map((item) => describeAuditValue(item)).join(", ") : "(none)";
  if (typeof value === "object") {
    if ("label" in value) return describeAuditValue(value.label);
    const entries = Object.entries(value);
    return entries.length ? entries.map(([key, item]) => `${key} → ${describeAuditValue(item)}`).join("; ") : "(none)";
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The fields an event changed, each as [before, after] (non-secret values only). */
export type AuditChanges = Record<string, [before: unknown, after: unknown]>;

/** An audit event as the pages show it. */
export interface AuditEventView {
  seq: number;
  at: number;
  actor: { type: "user" | "api_key"; id: string; label: string };
  country: string | null;
  action: string;
  objectType: string;
  object: { id: string | null; label: string };
  changes: AuditChanges | null;
  detail: string | null;
}
