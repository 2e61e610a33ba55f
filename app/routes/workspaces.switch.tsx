import { redirect, type ActionFunctionArgs } from "@remix-run/cloudflare";
import * as v from "valibot";
import { requireUser } from "~/lib/accounts/guards.server";
import { readFormData } from "~/lib/platform/http.server";
import { notFound } from "~/lib/platform/responses.server";
import { safeRedirectPath } from "~/lib/platform/redirects";
import { setSessionWorkspace } from "~/lib/accounts/sessions.server";
import { IdSchema } from "~/lib/platform/validation";
import { findMembership } from "~/lib/accounts/workspaces.server";

const SwitchSchema = v.object({
  workspaceId: IdSchema,
  redirectTo: v.optional(v.string()),
});

export function loader() {
  return redirect("/");
}

export async function action({ request, context }: ActionFunctionArgs) {
  const session = await requireUser(context, request);
  const parsed = v.safeParse(SwitchSchema, Object.fromEntries(await readFormData(request)));
  if (!parsed.success) throw new Response("Choose a workspace.", { status: 400 });
  const membership = await findMembership(context.db, parsed.output.workspaceId, session.user.id);
  // Someone else's workspace looks exactly like one that does not exist.
  if (!membership) throw notFound();
  await setSessionWorkspace(context, session.id, membership.id);
  const target = safeRedirectPath(parsed.output.redirectTo);
  // Detail pages belong to the previous workspace: land on their section's index instead.
  const section = target.split("/").slice(0, 2).join("/") || "/";
  return redirect(section === "/" ? "/integration-connections" : section);
}
