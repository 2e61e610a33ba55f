import { redirect } from "@remix-run/cloudflare";
import type { RequestContext } from "../platform/context.server";
import type { Role } from "../platform/schema";
import { can, refusal, type Permission } from "./permissions";
import { getCurrentSession, setSessionWorkspace, type CurrentSession } from "./sessions.server";
import { firstWorkspaceOf } from "./workspaces.server";

export interface WorkspaceMember {
  sessionId: string;
  user: CurrentSession["user"];
  workspace: { id: string; name: string; role: Role };
}

export async function requireUser(context: RequestContext, request: Request): Promise<CurrentSession> {
  const session = await getCurrentSession(context, request);
  if (!session) {
    const url = new URL(request.url);
    const params = new URLSearchParams({ redirectTo: `${url.pathname}${url.search}` });
    throw redirect(`/login?${params}`);
  }
  return session;
}

/**
 * The guard every workspace page and action starts with. The workspace id always comes from
 * the session (checked against memberships), never from the request.
 */
export async function requireWorkspaceMember(
  context: RequestContext,
  request: Request,
  options: { permission?: Permission } = {},
): Promise<WorkspaceMember> {
  const session = await requireUser(context, request);
  let workspace = session.workspace;
  if (!workspace) {
    // The active workspace is gone or the user was removed from it: fall back to another one.
    workspace = await firstWorkspaceOf(context.db, session.user.id);
    if (!workspace) throw redirect("/workspaces/new");
    await setSessionWorkspace(context, session.id, workspace.id);
  }
  const member = { sessionId: session.id, user: session.user, workspace };
  if (options.permission) requirePermission(member, options.permission);
  return member;
}

/** Refuses (403, with what the role lacks) an action the member's role does not allow (decision 026). */
export function requirePermission(member: WorkspaceMember, permission: Permission): void {
  if (!can(member.workspace.role, permission)) {
    throw new Response(refusal(member.workspace.role, permission), { status: 403 });
  }
}

/** Sign-in and sign-up pages send signed-in users on to the app. */
export async function requireAnonymous(context: RequestContext, request: Request) {
  const session = await getCurrentSession(context, request);
  if (session) throw redirect("/integration-connections");
}
