import { Form } from "@remix-run/react";
import { ErrorList, SubmitButton } from "~/components/forms";
import { PERMISSION_LIST, PERMISSIONS, ROLE_LABELS, ROLES, can } from "~/lib/accounts/permissions";
import type { Member } from "~/lib/accounts/workspaces.server";
import type { Role } from "~/lib/platform/schema";

/** Workspace settings → Members: roles changed in place by those who manage members; anyone may leave. */
export function MembersCard({
  members,
  viewerId,
  canManage,
  errors,
}: {
  members: Member[];
  viewerId: string;
  canManage: boolean;
  errors?: string[];
}) {
  return (
    <div className="card">
      <h2>Members</h2>
      <ErrorList errors={errors} />
      <table className="table">
        <thead>
          <tr>
            <th scope="col">E-mail</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.userId}>
              <td data-label="E-mail">
                {member.email}
                {member.userId === viewerId ? <span className="muted"> (you)</span> : null}
              </td>
              <td data-label="Role">
                {canManage ? (
                  <RoleForm member={member} />
                ) : (
                  <span className={`badge badge--${member.role}`}>{ROLE_LABELS[member.role]}</span>
                )}
              </td>
              <td data-label="Joined">
                <time dateTime={new Date(member.joinedAt).toISOString()}>{new Date(member.joinedAt).toISOString().slice(0, 10)}</time>
              </td>
              <td className="table__actions">
                {canManage || member.userId === viewerId ? (
                  <Form method="post">
                    <input type="hidden" name="intent" value="remove-member" />
                    <SubmitButton variant="danger" name="userId" value={member.userId}>
                      {member.userId === viewerId ? "Leave…" : "Remove…"}
                      <span className="visually-hidden"> {member.email}</span>
                    </SubmitButton>
                  </Form>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RoleForm({ member }: { member: Member }) {
  const id = `role-${member.userId}`;
  return (
    <Form method="post" className="inline-form role-form">
      <input type="hidden" name="intent" value="change-role" />
      <input type="hidden" name="userId" value={member.userId} />
      <label className="visually-hidden" htmlFor={id}>
        Role of {member.email}
      </label>
      <select id={id} name="role" defaultValue={member.role}>
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {ROLE_LABELS[role]}
          </option>
        ))}
      </select>
      <SubmitButton variant="secondary" match={{ name: "userId", value: member.userId }} pendingText="Saving…">
        Change role<span className="visually-hidden"> of {member.email}</span>
      </SubmitButton>
    </Form>
  );
}

/** The permission matrix itself, read from the table the guards enforce. */
export function RolesCard({ role }: { role: Role }) {
  return (
    <div className="card stack" id="roles">
      <h2>Roles</h2>
      <p className="muted">
        Everyone in a workspace sees its connections, intents, insights and logs. Roles decide who may change them; an action a role may not
        take is not offered, and is refused if tried.
      </p>
      <table className="table table--grid roles-matrix">
        <caption className="visually-hidden">What each role may do</caption>
        <thead>
          <tr>
            <th scope="col">Action</th>
            {ROLES.map((column) => (
              <th scope="col" key={column} className={column === role ? "roles-matrix__yours" : undefined}>
                {ROLE_LABELS[column]}
                {column === role ? <span className="muted small"> (you)</span> : null}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {PERMISSION_LIST.map((permission) => (
            <tr key={permission}>
              <th scope="row">{PERMISSIONS[permission].label}</th>
              {ROLES.map((column) =>
                can(column, permission) ? (
                  <td key={column} className="roles-matrix__yes">
                    <span aria-hidden="true">✓</span>
                    <span className="visually-hidden">allowed</span>
                  </td>
                ) : (
                  <td key={column} className="roles-matrix__no">
                    <span aria-hidden="true">—</span>
                    <span className="visually-hidden">not allowed</span>
                  </td>
                ),
              )}
            </tr>
          ))}
          <tr>
            <th scope="row">Leave the workspace</th>
            {ROLES.map((column) => (
              <td key={column} className="roles-matrix__yes">
                <span aria-hidden="true">✓</span>
                <span className="visually-hidden">allowed{column === "owner" ? " (unless the last owner)" : ""}</span>
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}
