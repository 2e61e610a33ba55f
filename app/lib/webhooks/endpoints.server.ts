import { randomBytes } from "../platform/crypto.server";
import type { Db } from "../platform/db.server";
import { decryptToken, encryptToken, envelopeKeyId, TokenCryptoError, type KeyRing } from "../platform/encryption.server";
import type { WebhookEndpointRow } from "../platform/schema";
import { isSubscribableEvent, type SubscribableEvent } from "./catalog";
import { webhookUrlProblem, type WebhookTargets } from "./url-policy";

/**
 * Webhook endpoints of a workspace: a URL, the events it wants, and a signing secret in the
 * Standard Webhooks format, shown once at creation and stored only encrypted (the token envelope,
 * bound to the workspace, the endpoint and the field). See docs/decisions/016-outgoing-webhooks.md.
 */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;
const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

export interface EndpointDeps {
  db: Db;
  ring: KeyRing;
  webhookTargets: WebhookTargets;
}

export interface EndpointInput {
  url: string;
  description: string;
  events: SubscribableEvent[];
  enabled: boolean;
}

export type SaveEndpointResult =
  | { ok: true; id: string }
  | { ok: false; reason: "invalid"; fieldErrors: Record<string, string[]>; formErrors?: string[] }
  | { ok: false; reason: "not_found" };

/** `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function generateSigningSecret(): string {
  let binary = "";
  for (const byte of randomBytes(SECRET_BYTES)) binary += String.fromCharCode(byte);
  return `${SECRET_PREFIX}${btoa(binary)}`;
}

const secretBinding = (endpoint: Pick<WebhookEndpointRow, "id" | "workspace_id">) => ({
  workspaceId: endpoint.workspace_id,
  recordId: endpoint.id,
  field: "webhook_secret",
});

/** The endpoint's signing secret, or null when it cannot be decrypted (its key is gone, or the row was altered). */
export async function openSigningSecret(ring: KeyRing, endpoint: Pick<WebhookEndpointRow, "id" | "workspace_id" | "secret_ct">) {
  try {
    return await decryptToken(ring, endpoint.secret_ct, secretBinding(endpoint));
  } catch (error) {
    if (error instanceof TokenCryptoError) return null;
    throw error;
  }
}

function checkInput(input: EndpointInput, targets: WebhookTargets): Record<string, string[]> | null {
  const problem = webhookUrlProblem(input.url, targets);
  const unknown = input.events.filter((event) => !isSubscribableEvent(event));
  const errors: Record<string, string[]> = {};
  if (problem) errors.url = [problem];
  if (unknown.length) errors.events = [`Unknown events: ${unknown.join(", ")}.`];
  else if (input.events.length === 0) errors.events = ["Choose at least one event."];
  return Object.keys(errors).length ? errors : null;
}

/**
 * A new endpoint and its secret (returned here once, never again). Refused past
 * MAX_ENDPOINTS_PER_WORKSPACE; the count and the insert are one statement.
 */
export async function createEndpoint(
  deps: EndpointDeps,
  actor: { workspaceId: string; userId: string },
  input: EndpointInput,
): Promise<SaveEndpointResult & { secret?: string }> {
  const fieldErrors = checkInput(input, deps.webhookTargets);
  if (fieldErrors) return { ok: false, reason: "invalid", fieldErrors };
  const id = crypto.randomUUID();
  const secret = generateSigningSecret();
  const secretCt = await encryptToken(deps.ring, secret, secretBinding({ id, workspace_id: actor.workspaceId }));
  const now = Date.now();
  const { db } = deps;
  const inserted = await db
    .insertInto("webhook_endpoints")
    .columns([
      "id",
      "workspace_id",
      "url",
      "description",
      "events",
      "enabled",
      "secret_ct",
      "secret_key_id",
      "created_by",
      "created_at",
      "updated_at",
    ])
    .expression(
      db
        .selectNoFrom((eb) => [
          eb.val(id).as("id"),
          eb.val(actor.workspaceId).as("workspace_id"),
          eb.val(input.url).as("url"),
          eb.val(input.description).as("description"),
          eb.val(JSON.stringify(input.events)).as("events"),
          eb.val(input.enabled ? 1 : 0).as("enabled"),
          eb.val(secretCt).as("secret_ct"),
          eb.val(deps.ring.primaryKeyId).as("secret_key_id"),
          eb.val(actor.userId).as("created_by"),
          eb.val(now).as("created_at"),
          eb.val(now).as("updated_at"),
        ])
        .where(
          (eb) =>
            eb
              .selectFrom("webhook_endpoints")
              .select((count) => count.fn.countAll<number>().as("n"))
              .where("workspace_id", "=", actor.workspaceId),
          "<",
          MAX_ENDPOINTS_PER_WORKSPACE,
        ),
    )
    .returning("id")
    .executeTakeFirst();
  if (!inserted) {
    const message = `This workspace already has ${MAX_ENDPOINTS_PER_WORKSPACE} endpoints, the most it can have. Delete one first.`;
    return { ok: false, reason: "invalid", fieldErrors: {}, formErrors: [message] };
  }
  return { ok: true, id, secret };
}

/**
 * Edits an endpoint. Turning it back on clears the failure streak and the notice of an automatic
 * disable, so it starts afresh.
 */
export async function updateEndpoint(
  deps: EndpointDeps,
  workspaceId: string,
  id: string,
  input: EndpointInput,
): Promise<SaveEndpointResult> {
  const fieldErrors = checkInput(input, deps.webhookTargets);
  if (fieldErrors) return { ok: false, reason: "invalid", fieldErrors };
  const now = Date.now();
  const result = await deps.db
    .updateTable("webhook_endpoints")
    .set((eb) => ({
      url: input.url,
      description: input.description,
      events: JSON.stringify(input.events),
      enabled: input.enabled ? 1 : 0,
      updated_at: now,
      ...(input.enabled
        ? {
            consecutive_failures: eb.case().when("enabled", "=", 0).then(0).else(eb.ref("consecutive_failures")).end(),
            failing_since: eb.case().when("enabled", "=", 0).then(null).else(eb.ref("failing_since")).end(),
            backoff_until: eb.case().when("enabled", "=", 0).then(null).else(eb.ref("backoff_until")).end(),
            disabled_reason: null,
            disabled_at: null,
          }
        : {}),
    }))
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? { ok: true, id } : { ok: false, reason: "not_found" };
}

/** Deletes an endpoint with its deliveries and log. */
export async function deleteEndpoint(db: Db, workspaceId: string, id: string) {
  const result = await db.deleteFrom("webhook_endpoints").where("workspace_id", "=", workspaceId).where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** What the pages show of an endpoint: never its secret. */
export interface EndpointView {
  id: string;
  url: string;
  description: string;
  events: SubscribableEvent[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  consecutiveFailures: number;
  failingSince: number | null;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  createdAt: number;
}

const VIEW_COLUMNS = [
  "id",
  "url",
  "description",
  "events",
  "enabled",
  "disabled_reason",
  "disabled_at",
  "consecutive_failures",
  "failing_since",
  "last_attempt_at",
  "last_success_at",
  "created_at",
] as const;

type ViewRow = Pick<WebhookEndpointRow, (typeof VIEW_COLUMNS)[number]>;

function toView(row: ViewRow): EndpointView {
  const events = (JSON.parse(row.events) as string[]).filter(isSubscribableEvent);
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events,
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    lastAttemptAt: row.last_attempt_at,
    lastSuccessAt: row.last_success_at,
    createdAt: row.created_at,
  };
}

/** The workspace's endpoints (at most MAX_ENDPOINTS_PER_WORKSPACE), oldest first. */
export async function listEndpoints(db: Db, workspaceId: string): Promise<EndpointView[]> {
  const rows = await db
    .selectFrom("webhook_endpoints")
    .select(VIEW_COLUMNS)
    .where("workspace_id", "=", workspaceId)
    .orderBy("created_at")
    .limit(MAX_ENDPOINTS_PER_WORKSPACE)
    .execute();
  return rows.map(toView);
}

export async function getEndpoint(db: Db, workspaceId: string, id: string): Promise<EndpointView | null> {
  const row = await db
    .selectFrom("webhook_endpoints")
    .select(VIEW_COLUMNS)
    .where("workspace_id", "=", workspaceId)
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toView(row) : null;
}

/**
 * Key rotation for signing secrets, as for tokens: up to `limit` endpoints whose secret is under
 * another key of the ring move onto the primary key. A secret under a key that left the ring
 * cannot be moved and is not looked at again (its deliveries fail, saying to create the endpoint
 * again).
 */
export async function reencryptSigningSecrets(db: Db, ring: KeyRing, limit = 100) {
  const older = [...ring.keys.keys()].filter((keyId) => keyId !== ring.primaryKeyId);
  if (older.length === 0) return { moved: 0 };
  const rows = await db
    .selectFrom("webhook_endpoints")
    .select(["id", "workspace_id", "secret_ct", "secret_key_id"])
    .where("secret_key_id", "in", older)
    .orderBy("secret_key_id")
    .orderBy("id")
    .limit(limit)
    .execute();
  let moved = 0;
  for (const row of rows) {
    const secret = await openSigningSecret(ring, row);
    if (secret === null) continue;
    const secretCt = await encryptToken(ring, secret, secretBinding(row));
    const result = await db
      .updateTable("webhook_endpoints")
      .set({ secret_ct: secretCt, secret_key_id: envelopeKeyId(secretCt) ?? ring.primaryKeyId })
      .where("id", "=", row.id)
      .where("secret_ct", "=", row.secret_ct)
      .executeTakeFirst();
    moved += Number(result.numUpdatedRows);
  }
  return { moved };
}
