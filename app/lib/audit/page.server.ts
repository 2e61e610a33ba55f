import { listApiKeys } from "../accounts/api-keys.server";
import { listMembers } from "../accounts/workspaces.server";
import type { Db } from "../platform/db.server";
import { auditFilterParams, listAuditEvents, readAuditFilter } from "./trail.server";

/** The workspace's audit trail page: one filtered page of events and what the filters offer. */
export async function loadAuditPage(db: Db, workspaceId: string, params: URLSearchParams) {
  const filter = readAuditFilter(params);
  const before = Number(params.get("before"));
  const cursor = Number.isSafeInteger(before) && before > 0 ? before : null;
  const [page, members, keys] = await Promise.all([
    listAuditEvents(db, workspaceId, filter, { before: cursor }),
    listMembers(db, workspaceId),
    listApiKeys(db, workspaceId),
  ]);
  const query = auditFilterParams(filter);
  const olderParams = new URLSearchParams(query);
  if (page.older !== null) olderParams.set("before", String(page.older));
  return {
    ...page,
    filter,
    query: query.toString(),
    older: page.older === null ? null : olderParams.toString(),
    paged: cursor !== null,
    actors: [
      ...members.map((member) => ({ id: member.userId, label: member.email })),
      ...keys.map((key) => ({ id: key.id, label: `API key ${key.name}${key.revoked_at ? " (revoked)" : ""}` })),
    ],
    /** What the object filter names, when the page was opened for one connection, intent… */
    objectLabel: filter.object ? (page.events.find((event) => event.object.id === filter.object)?.object.label ?? "this object") : null,
  };
}

/** The latest changes to one connection, intent… (its page's History). */
export async function recentChangesOf(db: Db, workspaceId: string, objectId: string, limit = 5) {
  const { events, older } = await listAuditEvents(
    db,
    workspaceId,
    { actor: null, action: null, objectType: null, object: objectId },
    { limit },
  );
  return { events, more: older !== null };
}
