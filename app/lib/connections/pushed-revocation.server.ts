import { sha256Hex } from "../platform/crypto.server";
import { runBatch, uniqueViolation, type Db } from "../platform/db.server";
import type { ConnectionStatus } from "../platform/schema";
import type { Settings } from "../platform/settings.server";
import { getProvider, isProviderId } from "../providers/registry";
import type { ProviderModule, RevocationWebhook, WebhookEvent } from "../providers/types";
import { accountStatusChangeQueries, statusAfterPushedRevocation, statusChangeEvents } from "./status.server";

/**
 * Revocations the providers push (Slack's Events API, GitHub App and Linear webhooks). These
 * requests belong to no workspace: they are matched strictly by provider and account.
 */

export type WebhookReceiver =
  /** No provider of that id receives webhooks here. */
  | { kind: "none" }
  /** The provider pushes revocations, but its webhook secret is not set. */
  | { kind: "unconfigured"; provider: ProviderModule }
  | { kind: "ready"; provider: ProviderModule; webhook: RevocationWebhook; secret: string };

/** Who answers /webhooks/<id>. */
export function webhookReceiver(settings: Settings, id: string | undefined): WebhookReceiver {
  if (!isProviderId(id)) return { kind: "none" };
  const provider = getProvider(id);
  if (!provider.revocationWebhook) return { kind: "none" };
  const secret = settings.provider(id).webhookSecret;
  return secret ? { kind: "ready", provider, webhook: provider.revocationWebhook, secret } : { kind: "unconfigured", provider };
}

export type PushedRevocation = Extract<WebhookEvent, { kind: "revoked" }>;

export type PushedRevocationOutcome = { kind: "applied"; revoked: number } | { kind: "replayed" };

const RECEIPT_TAKEN = "provider_webhook_receipts.provider, provider_webhook_receipts.replay_key";

/**
 * Every connection, in every workspace, that holds one of the accounts the provider named moves to
 * revoked through the status rule. The delivery's receipt is written in the same atomic batch: a
 * replay runs into it and changes nothing, and a write that fails leaves the delivery to be retried.
 */
export async function applyPushedRevocation(
  db: Db,
  provider: ProviderModule,
  revocation: PushedRevocation,
  now = Date.now(),
): Promise<PushedRevocationOutcome> {
  const change = statusAfterPushedRevocation(provider.name, revocation.event);
  const receipt = db.insertInto("provider_webhook_receipts").values({
    provider: provider.id,
    replay_key: await sha256Hex(revocation.replay.key),
    received_at: now,
    keep_until: Math.max(revocation.replay.keepUntil, now),
  });
  const updates = accountStatusChangeQueries(db, provider.id, revocation.accounts, change, { occurredAt: revocation.occurredAt, now });
  // Each workspace's webhook events (connection.status_changed) come before the updates in the
  // batch: they read the rows as they were, and record nothing for a row that does not move.
  const affected = await affectedConnections(db, provider.id, revocation, change.status);
  const events = affected.flatMap((connection) => statusChangeEvents(db, connection, change, now, revocation.occurredAt));
  try {
    const results = await runBatch(db, [receipt, ...events, ...updates]);
    const updated = results.slice(1 + events.length);
    return { kind: "applied", revoked: updated.reduce((sum, result) => sum + (result.meta.changes ?? 0), 0) };
  } catch (error) {
    if (uniqueViolation(error) === RECEIPT_TAKEN) return { kind: "replayed" };
    throw error;
  }
}

/** The connections a pushed revocation moves (the same match as its updates, read first). */
async function affectedConnections(db: Db, provider: string, revocation: PushedRevocation, status: "revoked" | ConnectionStatus) {
  const base = () =>
    db
      .selectFrom("connections")
      .select(["id", "workspace_id"])
      .where("provider", "=", provider)
      .where("status", "!=", status)
      .where("authorized_at", "<=", revocation.occurredAt);
  const accounts = revocation.accounts;
  if ("organizationId" in accounts) return base().where("account_organization_id", "=", accounts.organizationId).execute();
  // D1 binds at most 100 parameters per statement.
  const ids = [...new Set(accounts.accountIds)];
  const found = [];
  for (let start = 0; start < ids.length; start += 50) {
    found.push(
      ...(await base()
        .where("account_id", "in", ids.slice(start, start + 50))
        .execute()),
    );
  }
  return found;
}

/** Receipts past the time a replay could still pass the provider's freshness check (the cron). */
export async function pruneWebhookReceipts(db: Db, now = Date.now()) {
  await db.deleteFrom("provider_webhook_receipts").where("keep_until", "<", now).execute();
}
