import type { Compilable } from "kysely";
import { budgetWaitUntil } from "../connections/rate-budget.server";
import { runHealthCheck, testConnection, type ConnectionTestOutcome } from "../connections/health.server";
import { getConnection } from "../connections/repository.server";
import { withTokens, type VaultDeps } from "../connections/vault.server";
import { runBatch } from "../platform/db.server";
import type { HealthCheckMessage } from "../platform/queues";
import type { ConnectionRow, HealthOutcome } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { describeProviderError, isAuthFailure, ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { TargetProblem } from "../providers/types";
import { resolvedConfig } from "./effective-config.server";

/**
 * Config drift (docs/decisions/019-config-drift.md): after a health check confirms the token,
 * the provider is asked whether what the connection's defaults and its intents' effective settings
 * point at still exists and can be used. Problems are kept on the connection and on each intent,
 * shown on their pages, without waiting for a delivery to fail.
 */

/** A check looks at this many of the connection's intents (least recently checked first)… */
export const INTENTS_PER_CHECK = 50;
/** …and asks the provider about this many distinct targets at most: bounded work per connection. */
export const TARGETS_PER_CHECK = 20;

export interface DriftReport {
  /** Distinct targets the provider answered for. */
  checked: number;
  /** Problems found across them. */
  problems: number;
  /** Why some targets could not be checked (an outage, a rate limit); their earlier results stay. */
  unverified: string | null;
}

interface Target {
  config: Record<string, unknown>;
  /** The intents whose effective settings are this target. */
  intentIds: string[];
  defaults: boolean;
  problems?: TargetProblem[];
}

/** The same settings give the same answer: one key per distinct effective config. */
function targetKey(config: Record<string, unknown>) {
  return JSON.stringify(
    Object.keys(config)
      .sort()
      .map((key) => [key, config[key]]),
  );
}

export async function checkConfigDrift(deps: VaultDeps, connection: ConnectionRow, now = Date.now()): Promise<DriftReport | null> {
  const provider = getProvider(connection.provider);
  const context = providerContext(deps.settings, connection.provider);
  if (!provider.checkTargets || !context) return null;
  const checkTargets = provider.checkTargets.bind(provider);
  // Deliveries come first: a connection waiting for its budget is not asked anything more.
  const waitUntil = budgetWaitUntil(connection, now);
  if (waitUntil !== null) {
    return { checked: 0, problems: 0, unverified: `the rate-limit budget is spent until ${new Date(waitUntil).toISOString()}` };
  }
  const defaults = JSON.parse(connection.config_json) as Record<string, unknown>;
  const intents = await deps.db
    .selectFrom("intents")
    .select(["id", "overrides_json"])
    .where("connection_id", "=", connection.id)
    .where("workspace_id", "=", connection.workspace_id)
    // Served by intents_by_connection_drift; never-checked intents (NULL) sort first in SQLite.
    .orderBy("drift_checked_at")
    .limit(INTENTS_PER_CHECK)
    .execute();

  const targets = new Map<string, Target>();
  const add = (config: Record<string, unknown>, intentId?: string) => {
    const key = targetKey(config);
    let target = targets.get(key);
    if (!target) {
      if (targets.size >= TARGETS_PER_CHECK) return;
      target = { config, intentIds: [], defaults: false };
      targets.set(key, target);
    }
    if (intentId) target.intentIds.push(intentId);
    else target.defaults = true;
  };
  add(resolvedConfig(provider, defaults, {}));
  for (const intent of intents)
    add(resolvedConfig(provider, defaults, JSON.parse(intent.overrides_json) as Record<string, unknown>), intent.id);

  const scopes = connection.scopes.split(/[\s,]+/).filter(Boolean);
  let unverified: string | null = null;
  const result = await withTokens(deps, connection, async (tokens) => {
    for (const target of targets.values()) {
      if (target.problems) continue;
      try {
        target.problems = Object.keys(target.config).length ? await checkTargets(context, tokens, { config: target.config, scopes }) : [];
      } catch (error) {
        // A refused token goes back to the vault (refresh once, then the health check's verdict).
        if (!(error instanceof ProviderError) || isAuthFailure(error)) throw error;
        unverified = describeProviderError(error);
        // The provider is down or rate limiting: ask again at the next check, not now.
        if (error.kind !== "client_error") break;
      }
    }
  });
  if (!result.ok) {
    return { checked: 0, problems: 0, unverified: result.problem === "provider" ? describeProviderError(result.error) : "tokens unusable" };
  }

  const writes: Compilable[] = [];
  let checked = 0;
  let problems = 0;
  for (const target of targets.values()) {
    if (!target.problems) continue;
    checked++;
    problems += target.problems.length;
    const drift = { drift_json: JSON.stringify(target.problems), drift_checked_at: now };
    if (target.defaults) {
      writes.push(
        deps.db.updateTable("connections").set(drift).where("workspace_id", "=", connection.workspace_id).where("id", "=", connection.id),
      );
    }
    if (target.intentIds.length) {
      writes.push(
        deps.db
          .updateTable("intents")
          .set(drift)
          .where("workspace_id", "=", connection.workspace_id)
          .where("connection_id", "=", connection.id)
          .where("id", "in", target.intentIds),
      );
    }
  }
  if (writes.length) await runBatch(deps.db, writes);
  return { checked, problems, unverified };
}

/**
 * One scheduled check of a connection: its token (connections/health.server.ts), then, when the
 * provider confirmed it, what its settings point at.
 */
export async function runConnectionCheck(deps: VaultDeps, message: HealthCheckMessage): Promise<HealthOutcome | null> {
  const outcome = await runHealthCheck(deps, message);
  if (outcome !== "ok") return outcome;
  const connection = await getConnection(deps.db, message.workspaceId, message.connectionId);
  if (connection) await checkConfigDrift(deps, connection);
  return outcome;
}

/** "Test connection": the token, then the settings' targets; the answer says what was found. */
export async function testConnectionAndTargets(deps: VaultDeps, connection: ConnectionRow): Promise<ConnectionTestOutcome> {
  const outcome = await testConnection(deps, connection);
  if (outcome.status !== "active") return outcome;
  const current = await getConnection(deps.db, connection.workspace_id, connection.id);
  const drift = current ? await checkConfigDrift(deps, current) : null;
  if (!drift) return outcome;
  if (drift.problems > 0) {
    const count = drift.problems === 1 ? "1 problem" : `${drift.problems} problems`;
    return { ...outcome, warning: true, message: `${outcome.message} The settings have ${count}: see below.` };
  }
  if (drift.unverified) return { ...outcome, message: `${outcome.message} The settings could not be checked (${drift.unverified}).` };
  return { ...outcome, message: `${outcome.message} Everything its settings point at exists and can be used.` };
}
