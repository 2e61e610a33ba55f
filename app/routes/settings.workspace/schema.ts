import * as v from "valibot";
import { EmailSchema, IdSchema, RoleSchema, WorkspaceNameSchema } from "~/lib/platform/validation";

export const RenameSchema = v.object({ intent: v.literal("rename"), name: WorkspaceNameSchema });
export const AddMemberSchema = v.object({ intent: v.literal("add-member"), email: EmailSchema, role: RoleSchema });
/** Destructive actions run only once confirmed: the first submission asks (decision 024). */
const Confirmed = v.optional(v.literal("yes"));

export const ChangeRoleSchema = v.object({ intent: v.literal("change-role"), userId: IdSchema, role: RoleSchema });

export const RemoveMemberSchema = v.object({ intent: v.literal("remove-member"), userId: IdSchema, confirmed: Confirmed });

export const CreateKeySchema = v.object({
  intent: v.literal("create-key"),
  keyName: v.pipe(
    v.string("Name the key."),
    v.trim(),
    v.nonEmpty("Name the key."),
    v.maxLength(60, "A key name has at most 60 characters."),
  ),
});
export const RevokeKeySchema = v.object({ intent: v.literal("revoke-key"), keyId: IdSchema, confirmed: Confirmed });

export const IntentSchema = v.picklist(
  ["rename", "add-member", "change-role", "remove-member", "create-key", "revoke-key"],
  "Unknown action.",
);
export type SettingsIntent = v.InferOutput<typeof IntentSchema>;
