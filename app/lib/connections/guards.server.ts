import type { KeyRing } from "../platform/encryption.server";
import type { RequestContext } from "../platform/context.server";
import { requireFound } from "../platform/responses.server";
import { getConnection } from "./repository.server";
import type { VaultDeps } from "./vault.server";

/** Connections need the token key ring and APP_URL; without them the pages say so instead of failing. */
export async function requireKeyRing(context: RequestContext): Promise<KeyRing> {
  if (!context.settings.keyRing || !context.settings.appUrl) {
    throw new Response(
      "Connections are not available: the server is missing APP_URL or its token encryption keys. See the README's configuration section.",
      { status: 503 },
    );
  }
  return context.settings.keyRing;
}

/** What the vault, the flows and the health checks need for this request. */
export async function requireVault(context: RequestContext): Promise<VaultDeps> {
  return { db: context.db, settings: context.settings, ring: await requireKeyRing(context) };
}

/** A connection of the active workspace, or 404: another workspace's id looks like no id at all. */
export function requireConnection(context: RequestContext, workspaceId: string, id: string | undefined) {
  return requireFound(id, (found) => getConnection(context.db, workspaceId, found));
}
