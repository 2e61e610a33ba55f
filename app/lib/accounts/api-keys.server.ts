import { randomToken, sha256Hex } from "../platform/crypto.server";
import type { Db } from "../platform/db.server";

const KEY_PREFIX = "spk_";

/** A new key: shown once to its creator, stored only as its SHA-256. */
export async function createApiKey(db: Db, workspaceId: string, userId: string, name: string) {
  const key = `${KEY_PREFIX}${randomToken(32)}`;
  const id = crypto.randomUUID();
  await db
    .insertInto("api_keys")
    .values({
      id,
      workspace_id: workspaceId,
      name,
      key_hash: await sha256Hex(key),
      prefix: key.slice(0, 10),
      created_by: userId,
      created_at: Date.now(),
    })
    .execute();
  return { key, id, prefix: key.slice(0, 10) };
}

export function listApiKeys(db: Db, workspaceId: string) {
  return db
    .selectFrom("api_keys")
    .select(["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"])
    .where("workspace_id", "=", workspaceId)
    .orderBy("created_at", "desc")
    .execute();
}

/** Revokes a live key; its name and prefix (for the record), or null when there was none to revoke. */
export async function revokeApiKey(db: Db, workspaceId: string, id: string) {
  const row = await db
    .updateTable("api_keys")
    .set({ revoked_at: Date.now() })
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .returning(["name", "prefix"])
    .executeTakeFirst();
  return row ?? null;
}

/** The workspace a bearer key belongs to, or null for a missing, unknown or revoked key. */
export async function authenticateApiKey(db: Db, authorization: string | null) {
  const match = /^Bearer\s+(\S{10,200})$/.exec(authorization ?? "");
  if (!match || !match[1]!.startsWith(KEY_PREFIX)) return null;
  const row = await db
    .selectFrom("api_keys")
    .select(["id", "workspace_id", "name"])
    .where("key_hash", "=", await sha256Hex(match[1]!))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row) return null;
  await db.updateTable("api_keys").set({ last_used_at: Date.now() }).where("id", "=", row.id).execute();
  return { keyId: row.id, workspaceId: row.workspace_id, name: row.name };
}
