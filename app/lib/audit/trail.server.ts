import type { Compilable } from "kysely";
import type { Db } from "../platform/db.server";
import type { AuditEventRow } from "../platform/schema";
import {
  AUDIT_RETENTION_DAYS,
  isAuditAction,
  isAuditObjectType,
  type AuditAction,
  type AuditChanges,
  type AuditEventView,
  type AuditObjectType,
} from "./catalog";

export type { AuditChanges, AuditEventView } from "./catalog";

/**
 * The audit trail (decision 027): who changed what in a workspace, when and from where. Rows
 * are only ever inserted (a trigger refuses updates); the cron prunes them after the retention
 * period. Values recorded are names, settings and flags: never a token, secret or full URL.
 */

export interface AuditActor {
  type: "user" | "api_key";
  id: string;
  /** The e-mail or key name, as it was. */
  label: string;
  country: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  object: { id: string | null; label: string };
  changes?: AuditChanges | null;
  /** The outcome in words (what was revoked, what the provider said). */
  detail?: string | null;
}

export function userActor(member: { user: { id: string; email: string } }, country: string | null): AuditActor {
  return { type: "user", id: member.user.id, label: member.user.email, country };
}

export function keyActor(key: { id: string; name: string }, country: string | null): AuditActor {
  return { type: "api_key", id: key.id, label: key.name, country };
}

/** The insert, to run in the same batch as the change it records. */
export function auditInsert(db: Db, workspaceId: string, actor: AuditActor, entry: AuditEntry, at = Date.now()): Compilable {
  const changes = entry.changes && Object.keys(entry.changes).length ? JSON.stringify(entry.changes) : null;
  return db.insertInto("audit_events").values({
    workspace_id: workspaceId,
    at,
    actor_type: actor.type,
    actor_id: actor.id,
    actor_label: actor.label,
    action: entry.action,
    object_type: entry.action.slice(0, entry.action.indexOf(".")),
    object_id: entry.object.id,
    object_label: entry.object.label,
    changes_json: changes,
    detail: entry.detail ?? null,
    country: actor.country,
  });
}

export async function recordAudit(db: Db, workspaceId: string, actor: AuditActor, entry: AuditEntry): Promise<void> {
  await db.executeQuery(auditInsert(db, workspaceId, actor, entry).compile());
}

const blank = (value: unknown) => value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
const same = (a: unknown, b: unknown) => (blank(a) && blank(b)) || JSON.stringify(a) === JSON.stringify(b);

/** The fields whose value changed, each as [before, after]; null when nothing did. */
export function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>): AuditChanges | null {
  const changes: AuditChanges = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!same(before[field], after[field])) changes[field] = [before[field] ?? null, after[field] ?? null];
  }
  return Object.keys(changes).length ? changes : null;
}

export interface AuditFilter {
  /** A user or API key id. */
  actor: string | null;
  /** One action, or every action on one kind of object. */
  action: AuditAction | null;
  objectType: AuditObjectType | null;
  /** One connection, intent, key, member or endpoint. */
  object: string | null;
}

/** Reads the filter from the page's address; anything unknown is ignored, never an error. */
export function readAuditFilter(params: URLSearchParams): AuditFilter {
  const text = (name: string) => {
    const value = params.get(name)?.trim() ?? "";
    return value && value.length <= 64 ? value : null;
  };
  // One "what" parameter: an action ("connection.deleted") or a kind of object ("connection").
  const what = text("what");
  const action = what?.includes(".") ? what : null;
  const objectType = what && !what.includes(".") ? what : null;
  return {
    actor: text("actor"),
    action: action && isAuditAction(action) ? action : null,
    objectType: objectType && isAuditObjectType(objectType) ? objectType : null,
    object: text("object"),
  };
}

export function auditFilterParams(filter: AuditFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.actor) params.set("actor", filter.actor);
  const what = filter.action ?? filter.objectType;
  if (what) params.set("what", what);
  if (filter.object) params.set("object", filter.object);
  return params;
}

function filtered(db: Db, workspaceId: string, filter: AuditFilter, before: number | null) {
  let query = db.selectFrom("audit_events").selectAll().where("workspace_id", "=", workspaceId);
  if (filter.actor) query = query.where("actor_id", "=", filter.actor);
  if (filter.action) query = query.where("action", "=", filter.action);
  // "connection." up to "connection/" ('/' follows '.'): a range the (workspace, action) index serves.
  if (filter.objectType) query = query.where("action", ">=", `${filter.objectType}.`).where("action", "<", `${filter.objectType}/`);
  if (filter.object) query = query.where("object_id", "=", filter.object);
  if (before !== null) query = query.where("seq", "<", before);
  return query.orderBy("seq", "desc");
}

function view(row: AuditEventRow): AuditEventView {
  return {
    seq: row.seq,
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, label: row.actor_label },
    country: row.country,
    action: row.action,
    objectType: row.object_type,
    object: { id: row.object_id, label: row.object_label },
    changes: row.changes_json ? (JSON.parse(row.changes_json) as AuditChanges) : null,
    detail: row.detail,
  };
}

export const AUDIT_PAGE_SIZE = 50;

/** Newest first, a page at a time by keyset (`before` the last seq shown): flat at any size. */
export async function listAuditEvents(
  db: Db,
  workspaceId: string,
  filter: AuditFilter,
  options: { before?: number | null; limit?: number } = {},
): Promise<{ events: AuditEventView[]; older: number | null }> {
  const limit = options.limit ?? AUDIT_PAGE_SIZE;
  const rows = await filtered(db, workspaceId, filter, options.before ?? null)
    .limit(limit + 1)
    .execute();
  const events = rows.slice(0, limit).map(view);
  return { events, older: rows.length > limit ? events.at(-1)!.seq : null };
}

export type AuditExportFormat = "csv" | "jsonl";

const CSV_COLUMNS = [
  "seq",
  "at",
  "actor_type",
  "actor_id",
  "actor",
  "country",
  "action",
  "object_type",
  "object_id",
  "object",
  "changes",
  "detail",
];

/** A spreadsheet must never run a cell as a formula: such cells are quoted as text (OWASP CSV injection). */
function csvCell(value: string | number | null): string {
  let text = value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function exportRecord(event: AuditEventView) {
  return {
    seq: event.seq,
    at: new Date(event.at).toISOString(),
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor: event.actor.label,
    country: event.country,
    action: event.action,
    object_type: event.objectType,
    object_id: event.object.id,
    object: event.object.label,
    changes: event.changes,
    detail: event.detail,
  };
}

/**
 * The filtered trail as CSV or JSON Lines, newest first, streamed a page of 500 at a time so an
 * export of any size needs neither the whole trail in memory nor one long query.
 */
export function exportAuditEvents(db: Db, workspaceId: string, filter: AuditFilter, format: AuditExportFormat): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: number | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (format === "csv") controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
      }
      const { events, older } = await listAuditEvents(db, workspaceId, filter, { before, limit: 500 });
      const lines = events.map((event) => {
        const record = exportRecord(event);
        if (format === "jsonl") return `${JSON.stringify(record)}\n`;
        return `${CSV_COLUMNS.map((column) => {
          const value = record[column as keyof typeof record];
          return csvCell(value !== null && typeof value === "object" ? JSON.stringify(value) : (value ?? null));
        }).join(",")}\r\n`;
      });
      if (lines.length) controller.enqueue(encoder.encode(lines.join("")));
      if (older === null) controller.close();
      before = older;
    },
  });
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Drops events older than the retention period, a bounded batch per cron run. */
export async function pruneAuditEvents(db: Db, now = Date.now(), limit = 1000) {
  const result = await db
    .deleteFrom("audit_events")
    .where("seq", "in", (eb) =>
      eb
        .selectFrom("audit_events")
        .select("seq")
        .where("at", "<", now - AUDIT_RETENTION_DAYS * DAY_MS)
        .orderBy("at")
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A request's recorder: the signed-in member (and the request's country) as the actor. */
export function auditorFor(
  context: { db: Db; clientCountry: string | null },
  member: { workspace: { id: string }; user: { id: string; email: string } },
) {
  const actor = userActor(member, context.clientCountry);
  return {
    actor,
    record: (entry: AuditEntry) => recordAudit(context.db, member.workspace.id, actor, entry),
    insert: (entry: AuditEntry) => auditInsert(context.db, member.workspace.id, actor, entry),
  };
}

/** A connection's non-secret settings as the trail compares them: its name and its defaults. */
export function connectionSettingsState(connection: { name: string; config_json: string }): Record<string, unknown> {
  return { name: connection.name, ...(JSON.parse(connection.config_json) as Record<string, unknown>) };
}

/** An insight sent through the form or the API (recorded in the insight's own batch). */
export function insightSent(insightId: string, title: string, deliveries: number): AuditEntry {
  return {
    action: "insight.sent",
    object: { id: insightId, label: title.length > 120 ? `${title.slice(0, 119)}…` : title },
    detail: `${deliveries} deliver${deliveries === 1 ? "y" : "ies"}.`,
  };
}

/** An endpoint as the trail names it: its origin only (paths and queries may carry tokens). */
export function endpointLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname === "/" && !parsed.search ? parsed.origin : `${parsed.origin}/…`;
  } catch {
    return "(invalid URL)";
  }
}

/** An endpoint's settings as the trail compares them (the URL by its origin, for the same reason). */
export function endpointState(endpoint: { url: string; description: string; events: readonly string[]; enabled: boolean }) {
  return {
    url: endpointLabel(endpoint.url),
    description: endpoint.description,
    events: [...endpoint.events],
    enabled: endpoint.enabled,
  };
}
