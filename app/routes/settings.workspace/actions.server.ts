import type { SubmissionResult } from "@conform-to/react";
import { json, redirect } from "@remix-run/cloudflare";
import { createApiKey, revokeApiKey } from "~/lib/accounts/api-keys.server";
import type { WorkspaceMember } from "~/lib/accounts/guards.server";
import { requirePermission } from "~/lib/accounts/guards.server";
import { auditorFor } from "~/lib/audit/trail.server";
import { ROLE_LABELS, type Permission } from "~/lib/accounts/permissions";
import { addMemberByEmail, changeMemberRole, removeMember, renameWorkspace } from "~/lib/accounts/workspaces.server";
import type { RequestContext } from "~/lib/platform/context.server";
import { parseForm } from "~/lib/platform/forms";
import { notFound } from "~/lib/platform/responses.server";
import {
  AddMemberSchema,
  ChangeRoleSchema,
  CreateKeySchema,
  RemoveMemberSchema,
  RenameSchema,
  RevokeKeySchema,
  type SettingsIntent,
} from "./schema";

/** One function per form intent of Workspace settings. */
interface ActionArgs {
  context: RequestContext;
  member: WorkspaceMember;
  formData: FormData;
}

export type ActionResult = {
  intent: SettingsIntent;
  result: SubmissionResult<string[]>;
  newKey?: string;
  /** A destructive action asked for, waiting for its confirmation: what it would act on. */
  confirm?: { intent: "remove-member" | "revoke-key"; id: string };
};

/** The first submission of a destructive action only asks: the page shows what it would do, with the button that does it. */
const askFirst = (intent: "remove-member" | "revoke-key", id: string, result: SubmissionResult<string[]>) =>
  json<ActionResult>({ intent, result, confirm: { intent, id } });

const reply = (intent: SettingsIntent, result: SubmissionResult<string[]>, status = 400) =>
  json<ActionResult>({ intent, result }, { status });
const done = () => redirect("/settings/workspace", 303);

async function rename({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, RenameSchema);
  if (submission.status !== "success") return reply("rename", submission.reply());
  await renameWorkspace(context.db, member.workspace.id, submission.value.name);
  if (submission.value.name !== member.workspace.name) {
    await auditorFor(context, member).record({
      action: "workspace.renamed",
      object: { id: member.workspace.id, label: submission.value.name },
      changes: { name: [member.workspace.name, submission.value.name] },
    });
  }
  return done();
}

async function addMember({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, AddMemberSchema);
  if (submission.status !== "success") return reply("add-member", submission.reply());
  const added = await addMemberByEmail(context.db, member.workspace.id, submission.value.email, submission.value.role);
  if (!added.ok) {
    const message =
      added.reason === "no_such_user"
        ? "No SpokeDo account uses this e-mail address. Ask them to sign up first."
        : "This person is already a member of the workspace.";
    return reply("add-member", submission.reply({ fieldErrors: { email: [message] } }));
  }
  await auditorFor(context, member).record({
    action: "member.added",
    object: { id: added.userId, label: submission.value.email.toLowerCase() },
    changes: { role: [null, submission.value.role] },
  });
  return done();
}

async function changeRole({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, ChangeRoleSchema);
  if (submission.status !== "success") return reply("change-role", submission.reply());
  const changed = await changeMemberRole(context.db, member.workspace.id, submission.value.userId, submission.value.role);
  if (!changed.ok && changed.reason === "not_a_member") throw notFound();
  if (!changed.ok) {
    const message = `A workspace needs at least one owner: make someone else an owner before changing this role to ${ROLE_LABELS[submission.value.role].toLowerCase()}.`;
    return reply("change-role", submission.reply({ formErrors: [message] }));
  }
  if (changed.before !== changed.after) {
    await auditorFor(context, member).record({
      action: "member.role_changed",
      object: { id: submission.value.userId, label: changed.email },
      changes: { role: [changed.before, changed.after] },
    });
  }
  return done();
}

async function removeMemberAction({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, RemoveMemberSchema);
  if (submission.status !== "success") return reply("remove-member", submission.reply());
  // Anyone may leave; removing someone else is for those who manage members.
  if (submission.value.userId !== member.user.id) requirePermission(member, "members.manage");
  if (!submission.value.confirmed) return askFirst("remove-member", submission.value.userId, submission.reply());
  const removed = await removeMember(context.db, member.workspace.id, submission.value.userId);
  if (!removed.ok && removed.reason === "not_a_member") throw notFound();
  if (!removed.ok)
    return reply("remove-member", submission.reply({ formErrors: ["A workspace needs at least one owner: add another owner first."] }));
  const left = submission.value.userId === member.user.id;
  await auditorFor(context, member).record({
    action: left ? "member.left" : "member.removed",
    object: { id: submission.value.userId, label: removed.email },
    changes: { role: [removed.role, null] },
  });
  return done();
}

async function createKey({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, CreateKeySchema);
  if (submission.status !== "success") return reply("create-key", submission.reply());
  const { key, id, prefix } = await createApiKey(context.db, member.workspace.id, member.user.id, submission.value.keyName);
  await auditorFor(context, member).record({
    action: "api_key.created",
    object: { id, label: submission.value.keyName },
    detail: `Key ${prefix}…`,
  });
  // Shown once, in this response only: never redirected through a URL or a cookie, never cached.
  return json<ActionResult>(
    { intent: "create-key", result: submission.reply({ resetForm: true }), newKey: key },
    { headers: { "Cache-Control": "no-store" } },
  );
}

async function revokeKey({ context, member, formData }: ActionArgs) {
  const submission = parseForm(formData, RevokeKeySchema);
  if (submission.status !== "success") return reply("revoke-key", submission.reply());
  if (!submission.value.confirmed) return askFirst("revoke-key", submission.value.keyId, submission.reply());
  const revoked = await revokeApiKey(context.db, member.workspace.id, submission.value.keyId);
  if (!revoked) throw notFound();
  await auditorFor(context, member).record({
    action: "api_key.revoked",
    object: { id: submission.value.keyId, label: revoked.name },
    detail: `Key ${revoked.prefix}…`,
  });
  return done();
}

/** What each form intent needs (decision 026); leaving the workspace needs nothing. */
export const REQUIRES: Record<SettingsIntent, Permission | null> = {
  rename: "workspace.rename",
  "add-member": "members.manage",
  "change-role": "members.manage",
  "remove-member": null,
  "create-key": "api-keys.manage",
  "revoke-key": "api-keys.manage",
};

export const ACTIONS: Record<SettingsIntent, (args: ActionArgs) => Promise<Response>> = {
  rename,
  "add-member": addMember,
  "change-role": changeRole,
  "remove-member": removeMemberAction,
  "create-key": createKey,
  "revoke-key": revokeKey,
};
