import type { RequestContext } from "./context.server";
import { getConnection } from "./connections.server";
import type { KeyRing } from "./token-crypto.server";

/** Connections need the token key ring and APP_URL; without them the pages say so instead of failing. */
export async function requireKeyRing(context: RequestContext): Promise<KeyRing> {
  if (!context.config.keyRing || !context.config.appUrl) {
    throw new Response(
      "Connections are not available: the server is missing APP_URL or its token encryption keys. See the README's configuration section.",
      { status: 503 },
    );
  }
  return context.config.keyRing;
}

/** A connection of the active workspace, or 404: another workspace's id looks like no id at all. */
export async function requireConnection(context: RequestContext, workspaceId: string, id: string) {
  const connection = id.length <= 64 ? await getConnection(context.db, workspaceId, id) : undefined;
  if (!connection) throw new Response("Not found", { status: 404 });
  return connection;
}
