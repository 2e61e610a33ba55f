import { sql, type Compilable, type ExpressionBuilder } from "kysely";
import { Webhook } from "standardwebhooks";
import { runBatch, type Db } from "../platform/db.server";
import { deadlinePassed, withDeadline } from "../platform/http.server";
import type { KeyRing } from "../platform/encryption.server";
import type { Database, WebhookDeliveryRow } from "../platform/schema";
import { openSigningSecret } from "./endpoints.server";
import { webhookUrlProblem, type WebhookTargets } from "./url-policy";

/**
 * One attempt of one webhook delivery (docs/decisions/016-outgoing-webhooks.md), shaped like the
 * insight deliveries' outbox: a claimed delivery is leased, the request is signed per Standard
 * Webhooks with the `standardwebhooks` library, and the log row, the delivery's new state and
 * the endpoint's failure streak are written in one batch. Redirects are not followed.
 */
export interface WebhookDeps {
  db: Db;
  ring: KeyRing;
  webhookTargets: WebhookTargets;
  /** Default WEBHOOK_TIMEOUT_MS; the tests shorten it. */
  timeoutMs?: number;
}

export const WEBHOOK_LEASE_MS = 60_000;
/** How long one request, answer included, may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Attempts per round (a resend starts a new round): about 10 hours from the first to the last. */
export const MAX_WEBHOOK_ATTEMPTS = 8;
/** The endpoint is disabled once every attempt failed for this long, and at least DISABLE_AFTER_FAILURES in a row. */
export const DISABLE_AFTER_MS = 3 * 24 * 60 * 60_000;
export const DISABLE_AFTER_FAILURES = 10;
/** From this many failures in a row, new attempts to the endpoint wait for its backoff too. */
const ENDPOINT_BACKOFF_FROM = 3;
const SNIPPET_BYTES = 1024;

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 4 * 60 * 60_000;

/** After the n-th failure of a delivery: 15–30 s, 1–2 min, 4–8 min, 16–32 min, ~1–2 h, then 2–4 h. */
export function webhookBackoffMs(failures: number, random = Math.random()) {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 4 ** (failures - 1));
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

const ENDPOINT_BACKOFF_CAP_MS = 60 * 60_000;

/** How long new attempts to an endpoint wait after its n-th failure in a row (none below ENDPOINT_BACKOFF_FROM). */
export function endpointBackoffMs(streak: number, random = Math.random()) {
  if (streak < ENDPOINT_BACKOFF_FROM) return 0;
  const exponential = Math.min(ENDPOINT_BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (streak - ENDPOINT_BACKOFF_FROM));
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

/** What the queue should do with the message: drop it, or bring it back after `delayMs`. */
export type WebhookDisposition = { kind: "done" } | { kind: "later"; delayMs: number };

interface Claimed {
  delivery: WebhookDeliveryRow;
  endpoint: { id: string; workspace_id: string; url: string; enabled: number; secret_ct: string; backoff_until: number | null };
  consecutiveFailures: number;
  event: { id: string; type: string; data: string; created_at: number };
}

interface AttemptResult {
  ok: boolean;
  status: number | null;
  durationMs: number | null;
  error: string | null;
  snippet: string | null;
  /** Set when the failure cannot get better by retrying (nothing was sent). */
  final?: boolean;
  retryAfterMs?: number;
}

async function claim(db: Db, deliveryId: string, owner: string, now: number): Promise<Claimed | WebhookDisposition> {
  const [claimed, read] = await runBatch(db, [
    db
      .updateTable("webhook_deliveries")
      .set({ lease_owner: owner, lease_expires_at: now + WEBHOOK_LEASE_MS })
      .where("id", "=", deliveryId)
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]))
      .returningAll(),
    db
      .selectFrom("webhook_deliveries as d")
      .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
      .innerJoin("webhook_events as ev", "ev.id", "d.event_id")
      .select([
        "e.url",
        "e.enabled",
        "e.secret_ct",
        "e.backoff_until",
        "e.consecutive_failures",
        "ev.type",
        "ev.data",
        "ev.created_at as event_created_at",
      ])
      .where("d.id", "=", deliveryId)
      .where("d.lease_owner", "=", owner),
  ]);
  const delivery = claimed?.results[0] as WebhookDeliveryRow | undefined;
  const row = read?.results[0] as
    | {
        url: string;
        enabled: number;
        secret_ct: string;
        backoff_until: number | null;
        consecutive_failures: number;
        type: string;
        data: string;
        event_created_at: number;
      }
    | undefined;
  if (delivery && row) {
    return {
      delivery,
      endpoint: {
        id: delivery.endpoint_id,
        workspace_id: delivery.workspace_id,
        url: row.url,
        enabled: row.enabled,
        secret_ct: row.secret_ct,
        backoff_until: row.backoff_until,
      },
      consecutiveFailures: row.consecutive_failures,
      event: { id: delivery.event_id, type: row.type, data: row.data, created_at: row.event_created_at },
    };
  }
  const current = await db
    .selectFrom("webhook_deliveries")
    .select(["status", "next_attempt_at", "lease_expires_at"])
    .where("id", "=", deliveryId)
    .executeTakeFirst();
  if (!current || current.status !== "pending") return { kind: "done" };
  const wakeAt = Math.max(current.next_attempt_at, (current.lease_expires_at ?? 0) + 1000);
  return { kind: "later", delayMs: Math.max(1000, wakeAt - now) };
}

/** The request body: `{ type, timestamp, data }`, the same bytes on every attempt. */
export function webhookBody(event: { type: string; data: string; created_at: number }) {
  return `{"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(new Date(event.created_at).toISOString())},"data":${event.data}}`;
}

/**
 * Claims and attempts one webhook delivery; says what the queue should do next. `now` decides
 * what is due (the tests move it forward); what happened is recorded at the real time.
 */
export async function processWebhookDelivery(deps: WebhookDeps, deliveryId: string, now = Date.now()): Promise<WebhookDisposition> {
  const owner = crypto.randomUUID();
  const claimed = await claim(deps.db, deliveryId, owner, now);
  if ("kind" in claimed) return claimed;
  const { delivery, endpoint, event } = claimed;
  const isTest = event.type === "webhook.test";

  // A failing endpoint is backed off: the delivery waits for it without using up an attempt. Its
  // message is dropped; the cron's sweep sends a new one when it is due.
  if (!isTest && endpoint.enabled === 1 && endpoint.backoff_until !== null && endpoint.backoff_until > now) {
    await deps.db
      .updateTable("webhook_deliveries")
      .set({ lease_owner: null, lease_expires_at: null, next_attempt_at: endpoint.backoff_until, enqueued_at: null })
      .where("id", "=", delivery.id)
      .where("lease_owner", "=", owner)
      .execute();
    return { kind: "done" };
  }

  const attempt = delivery.attempts + 1;
  const result = await attemptWebhook(deps, claimed, isTest);
  const failures = attempt - delivery.retry_base;
  const retry = !result.ok && !result.final && failures < MAX_WEBHOOK_ATTEMPTS;
  const delayMs = retry ? Math.min(BACKOFF_CAP_MS, Math.max(webhookBackoffMs(failures), result.retryAfterMs ?? 0)) : 0;
  await recordAttempt(deps.db, claimed, { owner, attempt, result, retry, delayMs, now: Date.now() });
  return retry ? { kind: "later", delayMs } : { kind: "done" };
}

async function attemptWebhook(deps: WebhookDeps, { endpoint, event }: Claimed, isTest: boolean): Promise<AttemptResult> {
  const notSent = (error: string): AttemptResult => ({ ok: false, status: null, durationMs: null, error, snippet: null, final: true });
  if (endpoint.enabled !== 1 && !isTest) return notSent("Not sent: the endpoint is disabled.");
  const problem = webhookUrlProblem(endpoint.url, deps.webhookTargets);
  if (problem) return notSent(`Not sent: ${problem}`);
  const secret = await openSigningSecret(deps.ring, endpoint);
  if (secret === null) {
    return notSent("Not sent: the signing secret could not be decrypted (its key is gone). Delete the endpoint and create it again.");
  }
  const body = webhookBody(event);
  // The signature's timestamp is the real time of sending: receivers refuse stale ones.
  const sentAt = new Date();
  const signature = new Webhook(secret).sign(event.id, sentAt, body);
  const headers = {
    "Content-Type": "application/json",
    "User-Agent": "SpokeDo-Webhooks/1.0",
    "webhook-id": event.id,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": signature,
  };
  return send(endpoint.url, headers, body, [secret, secret.slice("whsec_".length)], deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
}

/** POSTs once without following redirects; the whole exchange, answer included, within the timeout. */
function send(url: string, headers: Record<string, string>, body: string, secrets: string[], timeoutMs: number): Promise<AttemptResult> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  return withDeadline(timeoutMs, async (signal): Promise<AttemptResult> => {
    try {
      // Looked up at call time: the tests route outbound requests through their own receiver.
      const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal });
      const status = response.status;
      const snippet = await readSnippet(response, secrets);
      if (status >= 200 && status < 300) return { ok: true, status, durationMs: elapsed(), error: null, snippet };
      if (status >= 300 && status < 400) {
        const location = (response.headers.get("Location") ?? "").slice(0, 200);
        const error = `Redirect (${status}${location ? ` to ${scrub(location, secrets)}` : ""}) not followed: webhooks go to the URL as registered.`;
        return { ok: false, status, durationMs: elapsed(), error, snippet };
      }
      const retryAfterMs = status === 429 || status === 503 ? retryAfter(response.headers.get("Retry-After")) : undefined;
      return {
        ok: false,
        status,
        durationMs: elapsed(),
        error: `The endpoint answered ${status}.`,
        snippet,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (error) {
      const timedOut = deadlinePassed(signal);
      const message = timedOut
        ? `Timed out after ${timeoutMs / 1000} s.`
        : `Could not reach the endpoint: ${scrub(error instanceof Error ? error.message : "network error", secrets).slice(0, 300)}`;
      return { ok: false, status: null, durationMs: elapsed(), error: message, snippet: null };
    }
  });
}

/**
 * The start of the answer as text: a little more than a KiB is read (the rest never is), so a
 * secret cut at the limit is still recognised and scrubbed before the text is cut to 1 KiB.
 */
async function readSnippet(response: Response, secrets: string[]): Promise<string | null> {
  if (!response.body) return null;
  const limit = SNIPPET_BYTES + 128;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
    if (offset >= bytes.byteLength) break;
  }
  const text = cutToBytes(scrub(new TextDecoder().decode(bytes), secrets), SNIPPET_BYTES);
  return text.length ? text : null;
}

/** At most `limit` bytes of UTF-8, never half a character. */
function cutToBytes(text: string, limit: number) {
  const encoded = new TextEncoder().encode(text);
  if (encoded.byteLength <= limit) return text;
  let cut = new TextDecoder().decode(encoded.subarray(0, limit));
  while (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return cut;
}

const SECRET_PATTERN = /whsec_[A-Za-z0-9+/=]+/g;

/** Whatever the endpoint echoes, a signing secret never reaches the log. */
function scrub(text: string, secrets: string[]): string;
function scrub(text: string | null, secrets: string[]): string | null;
function scrub(text: string | null, secrets: string[]): string | null {
  if (text === null) return null;
  let clean = text;
  for (const secret of secrets) if (secret.length >= 16) clean = clean.split(secret).join("[redacted]");
  return clean.replace(SECRET_PATTERN, "[redacted]");
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The log row, the delivery's new state and the endpoint's streak (and maybe its disabling): one batch. */
async function recordAttempt(
  db: Db,
  { delivery, endpoint }: Claimed,
  step: { owner: string; attempt: number; result: AttemptResult; retry: boolean; delayMs: number; now: number },
) {
  const { owner, attempt, result, retry, delayMs, now } = step;
  const writes: Compilable[] = [
    db.insertInto("webhook_attempts").values({
      id: crypto.randomUUID(),
      workspace_id: delivery.workspace_id,
      endpoint_id: delivery.endpoint_id,
      delivery_id: delivery.id,
      event_id: delivery.event_id,
      event_type: delivery.event_type,
      attempt,
      at: now,
      outcome: result.ok ? "succeeded" : retry ? "retrying" : "failed",
      http_status: result.status,
      duration_ms: result.durationMs,
      error: result.error,
      response_snippet: result.snippet,
    }),
    db
      .updateTable("webhook_deliveries")
      .set({
        lease_owner: null,
        lease_expires_at: null,
        attempts: attempt,
        last_http_status: result.status,
        last_error: result.error,
        ...(result.ok
          ? { status: "succeeded", completed_at: now }
          : retry
            ? { next_attempt_at: now + delayMs }
            : { status: "failed", completed_at: now }),
      })
      .where("id", "=", delivery.id)
      .where("lease_owner", "=", owner),
  ];
  const ofEndpoint = () =>
    db.updateTable("webhook_endpoints").where("id", "=", endpoint.id).where("workspace_id", "=", endpoint.workspace_id);
  if (result.ok) {
    writes.push(
      ofEndpoint().set({ consecutive_failures: 0, failing_since: null, backoff_until: null, last_attempt_at: now, last_success_at: now }),
    );
  } else if (endpoint.enabled === 1) {
    // SQLite evaluates every right-hand side against the row as it was: the streak before this
    // failure. Attempts running side by side each add theirs; the backoff follows the streak's length.
    const random = Math.random();
    const steps: [number, number][] = [];
    for (let streak = ENDPOINT_BACKOFF_FROM; ; streak++) {
      steps.push([streak, now + endpointBackoffMs(streak, random)]);
      if (BACKOFF_BASE_MS * 2 ** (streak - ENDPOINT_BACKOFF_FROM) >= ENDPOINT_BACKOFF_CAP_MS) break;
    }
    const [longest, longestUntil] = steps.at(-1)!;
    const backoffUntil = sql<number | null>`case ${sql.join(
      steps.map(([streak, until]) => sql`when consecutive_failures + 1 = ${streak} then ${until}`),
      sql` `,
    )} when consecutive_failures + 1 > ${longest} then ${longestUntil} else backoff_until end`;
    const disable = (eb: ExpressionBuilder<Database, "webhook_endpoints">) =>
      eb.and([
        eb("enabled", "=", 1),
        eb("consecutive_failures", ">=", DISABLE_AFTER_FAILURES - 1),
        eb(eb.fn.coalesce("failing_since", eb.val(now)), "<=", now - DISABLE_AFTER_MS),
      ]);
    const reason = `SpokeDo disabled this endpoint on ${new Date(now).toISOString().slice(0, 16).replace("T", " ")} UTC: every delivery failed for ${DISABLE_AFTER_MS / 86_400_000} days (last error: ${(result.error ?? "unknown").slice(0, 200)}). Fix it, then enable it again; failed deliveries can be resent from its log.`;
    writes.push(
      ofEndpoint().set((eb) => ({
        consecutive_failures: eb("consecutive_failures", "+", 1),
        failing_since: eb.fn.coalesce("failing_since", eb.val(now)),
        backoff_until: backoffUntil,
        last_attempt_at: now,
        enabled: eb.case().when(disable(eb)).then(0).else(eb.ref("enabled")).end(),
        disabled_reason: eb.case().when(disable(eb)).then(reason).else(eb.ref("disabled_reason")).end(),
        disabled_at: eb.case().when(disable(eb)).then(now).else(eb.ref("disabled_at")).end(),
      })),
    );
  }
  await runBatch(db, writes);
}

/**
 * Due webhook deliveries, attempted here (no queue): what the tests drive step by step and what
 * the cron does when the app runs without a queue. One delivery's failure never cuts off another's.
 */
export async function processDueWebhookDeliveries(deps: WebhookDeps, options: { limit?: number; now?: number } = {}) {
  const now = options.now ?? Date.now();
  const due = await deps.db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]))
    .orderBy("next_attempt_at")
    .limit(options.limit ?? 50)
    .execute();
  const settled = await Promise.allSettled(due.map((row) => processWebhookDelivery(deps, row.id, now)));
  const failures = settled.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failures.length) {
    throw new AggregateError(
      failures.map((failure): unknown => failure.reason),
      `${failures.length} webhook deliveries failed unexpectedly`,
    );
  }
  return due.length;
}
