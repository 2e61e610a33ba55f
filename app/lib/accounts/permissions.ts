import type { Role } from "../platform/schema";

/**
 * Who may do what in a workspace (decision 026). One table, read by the guards that enforce it
 * (403) and by the pages that offer an action only to those allowed, and shown as is in
 * Workspace settings. Everyone in a workspace sees everything in it; the roles decide changes.
 */

export const ROLES = ["owner", "admin", "member"] as const satisfies readonly Role[];

export const ROLE_LABELS: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member" };

const EVERYONE: readonly Role[] = ROLES;
const MANAGERS: readonly Role[] = ["owner", "admin"];
const OWNERS: readonly Role[] = ["owner"];

export const PERMISSIONS = {
  "connections.connect": { label: "Connect a new account", roles: EVERYONE },
  "connections.test": { label: "Test a connection", roles: EVERYONE },
  "connections.reauthorize": { label: "Re-authorize a connection, or switch it to another account", roles: MANAGERS },
  "connections.configure": {
    label: "Change a connection's settings, disable or enable it, redeliver its failed deliveries",
    roles: MANAGERS,
  },
  "connections.delete": { label: "Delete a connection, or move its intents to another connection", roles: MANAGERS },
  "intents.manage": { label: "Create, change and delete intents", roles: EVERYONE },
  "insights.send": { label: "Send insights", roles: EVERYONE },
  "api-keys.manage": { label: "Create and revoke API keys", roles: MANAGERS },
  "webhooks.manage": { label: "Add, change and remove webhooks", roles: MANAGERS },
  "audit.export": { label: "Export the audit trail", roles: MANAGERS },
  "members.manage": { label: "Add and remove members, change their roles", roles: OWNERS },
  "workspace.rename": { label: "Rename the workspace", roles: OWNERS },
} as const satisfies Record<string, { label: string; roles: readonly Role[] }>;

export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_LIST = Object.keys(PERMISSIONS) as Permission[];

export function can(role: Role, permission: Permission): boolean {
  return PERMISSIONS[permission].roles.includes(role);
}

/** Every permission a role holds, for pages that offer actions (serializable, unlike a function). */
export function permissionsOf(role: Role): Record<Permission, boolean> {
  return Object.fromEntries(PERMISSION_LIST.map((permission) => [permission, can(role, permission)])) as Record<Permission, boolean>;
}

/** The sentence a refused action answers with (403). */
export function refusal(role: Role, permission: Permission): string {
  const allowed = PERMISSIONS[permission].roles.map((allowedRole) => ROLE_LABELS[allowedRole].toLowerCase() + "s");
  const who = allowed.length === 1 ? `Only ${allowed[0]}` : `Only ${allowed.slice(0, -1).join(", ")} and ${allowed.at(-1)}`;
  const what = PERMISSIONS[permission].label;
  return `${who} may do this (${what.charAt(0).toLowerCase()}${what.slice(1)}). You are a${role === "admin" || role === "owner" ? "n" : ""} ${ROLE_LABELS[role].toLowerCase()} of this workspace.`;
}
