import * as v from "valibot";
import { EmailSchema, IdSchema, RoleSchema, WorkspaceNameSchema } from "~/lib/validation";

export const RenameSchema = v.object({ intent: v.literal("rename"), name: WorkspaceNameSchema });
export const AddMemberSchema = v.object({ intent: v.literal("add-member"), email: EmailSchema, role: RoleSchema });
export const RemoveMemberSchema = v.object({ intent: v.literal("remove-member"), userId: IdSchema });

export const IntentSchema = v.picklist(["rename", "add-member", "remove-member"], "Unknown action.");
export type SettingsIntent = v.InferOutput<typeof IntentSchema>;

export const SCHEMAS = {
  rename: RenameSchema,
  "add-member": AddMemberSchema,
  "remove-member": RemoveMemberSchema,
} as const;
