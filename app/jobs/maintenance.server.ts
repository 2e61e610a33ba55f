import { pruneAuditEvents } from "~/lib/audit/trail.server";
import { prunePendingReauthorizations } from "~/lib/connections/authorization.server";
import { pruneChoices } from "~/lib/connections/choices.server";
import { reencryptConnections, refreshExpiringConnections } from "~/lib/connections/vault.server";
import { pruneLoginAttempts } from "~/lib/accounts/rate-limits.server";
import { pruneSessions } from "~/lib/accounts/sessions.server";
import { scheduleHealthChecks } from "~/lib/connections/health.server";
import { runConnectionCheck } from "~/lib/delivery/drift.server";
import { pruneWebhookReceipts } from "~/lib/connections/pushed-revocation.server";
import { sweepOverdueDeliveries } from "~/lib/delivery/dispatch.server";
import { processDueDeliveries } from "~/lib/delivery/outbox.server";
import { pruneIdempotencyKeys } from "~/lib/delivery/submission.server";
import { deliveryQueue, healthQueue, webhookQueue } from "~/lib/platform/queues";
import { getDatabase } from "~/lib/platform/db.server";
import { getSettings } from "~/lib/platform/settings.server";
import { pruneOAuthFlows } from "~/lib/oauth/flows.server";
import { sweepWebhookDeliveries } from "~/lib/webhooks/dispatch.server";
import { reencryptSigningSecrets } from "~/lib/webhooks/endpoints.server";
import { pruneWebhookLog } from "~/lib/webhooks/log.server";
import { processDueWebhookDeliveries } from "~/lib/webhooks/sender.server";
import { runJob } from "./outboxes.server";

/**
 * Periodic housekeeping run by the Cron Trigger. It calls into every domain, so it sits above
 * them, beside the Worker entry. Each step is bounded and idempotent, and one failing step never
 * skips the others.
 */
export async function runMaintenance(env: Env, now = Date.now()) {
  const db = getDatabase(env.DB);
  const settings = getSettings(env);
  const steps: [string, () => Promise<unknown>][] = [
    ["prune sessions", () => pruneSessions(db, now)],
    ["prune sign-in failures", () => pruneLoginAttempts(db, now)],
    ["prune authorization flows", () => pruneOAuthFlows(db, now)],
    ["prune pending re-authorizations", () => prunePendingReauthorizations(db, now)],
    ["prune idempotency keys", () => pruneIdempotencyKeys(db, now)],
    ["prune provider webhook receipts", () => pruneWebhookReceipts(db, now)],
    ["prune webhook log", () => pruneWebhookLog(db, now)],
    ["prune provider choices", () => pruneChoices(db, now)],
    ["prune audit events past retention", () => pruneAuditEvents(db, now)],
  ];
  if (settings.keyRing) {
    const ring = await settings.keyRing;
    const deps = { db, settings, ring };
    const queue = deliveryQueue(env, settings);
    const webhooks = webhookQueue(env, settings);
    const webhookDeps = { db, ring, webhookTargets: settings.webhookTargets };
    steps.push(
      // The queue brings deliveries back itself; the sweep catches the ones whose message was
      // never sent or got lost. Without a queue, due deliveries are attempted here.
      queue
        ? ["overdue deliveries", () => sweepOverdueDeliveries(db, queue, { now })]
        : ["due deliveries", () => processDueDeliveries(deps, { limit: 50, now })],
      ["token refresh", () => refreshExpiringConnections(deps, { now })],
      [
        "health checks",
        () => scheduleHealthChecks(deps, healthQueue(env, settings), { now, run: (message) => runConnectionCheck(deps, message) }),
      ],
      ["key rotation", () => reencryptConnections(db, ring)],
      ["webhook secrets key rotation", () => reencryptSigningSecrets(db, ring)],
      // Webhook deliveries recorded but never enqueued (or whose message got lost) go on the queue;
      // without a queue, due ones are attempted here.
      webhooks
        ? ["webhook deliveries", () => sweepWebhookDeliveries(db, webhooks, { now })]
        : // What earlier steps of this run recorded (a status change) is due too.
          ["due webhook deliveries", () => processDueWebhookDeliveries(webhookDeps, { limit: 50, now: Math.max(now, Date.now()) })],
    );
  }
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      // Every step reads from the primary: token rows must never come from a stale replica. Webhook
      // events a step recorded (a status change) are enqueued right after it.
      await runJob(env, step);
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : "unknown error"}`);
    }
  }
  if (failures.length) console.error(`maintenance: ${failures.join("; ")}`);
}
