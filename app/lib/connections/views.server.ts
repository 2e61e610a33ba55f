import { configFormValues } from "../providers/config-form";
import { isProviderConfigured, type Settings } from "../platform/settings.server";
import type { ConnectionRow } from "../platform/schema";
import { getProvider, listProviders } from "../providers/registry";
import type { ConnectionListRow } from "./repository.server";
import { budgetWaitUntil } from "./rate-budget.server";
import { authorizationEndsAt, expiresSoon } from "./status.server";

/** Rows turned into what pages render: only the fields they show, never a token column. */

export interface ProviderView {
  id: string;
  name: string;
  icon: string;
}

export function providerView(id: string): ProviderView {
  const { name, icon } = getProvider(id);
  return { id, name, icon };
}

export function providerChoices(settings: Settings) {
  return listProviders().map((provider) => ({
    id: provider.id,
    name: provider.name,
    icon: provider.icon,
    summary: provider.summary,
    configured: isProviderConfigured(settings, provider.id),
  }));
}

export interface DriftView {
  /** When the targets were last checked; null: not since the settings changed. */
  checkedAt: number | null;
  problems: { field: string; label: string; message: string }[];
}

/**
 * Config drift as pages show it: the problems found by the last check of what the settings point
 * at, each under its field's label.
 */
export function driftView(providerId: string, json: string | null, checkedAt: number | null): DriftView {
  const provider = getProvider(providerId);
  let problems: { field: string; message: string }[] = [];
  try {
    const parsed = json === null ? [] : (JSON.parse(json) as unknown);
    if (Array.isArray(parsed)) problems = parsed as { field: string; message: string }[];
  } catch {
    problems = [];
  }
  return {
    checkedAt: json === null ? null : checkedAt,
    problems: problems.map((problem) => ({
      field: problem.field,
      label: provider.configFields.find((field) => field.name === problem.field)?.label ?? problem.field,
      message: problem.message,
    })),
  };
}

export function budgetView(row: ConnectionRow, now = Date.now()) {
  const current = row.budget_reset_at !== null && row.budget_reset_at > now;
  return {
    /** The limit in words (from the provider's declaration). */
    description: getProvider(row.provider).rateLimit.description,
    unit: row.budget_unit,
    limit: row.budget_limit,
    /** Null once the reported window has passed: the budget has been refilled since. */
    remaining: current ? row.budget_remaining : null,
    resetAt: current ? row.budget_reset_at : null,
    observedAt: row.budget_observed_at,
    /** Deliveries through the connection wait until then (nearly spent, or paused by a 429). */
    waitUntil: budgetWaitUntil(row, now),
  };
}

export function connectionSummaryView(row: ConnectionListRow, expiryWarningMs: number, now = Date.now()) {
  const endsAt = authorizationEndsAt(row);
  return {
    /** Set when the authorization ends within the warning window (EXPIRY_WARNING_DAYS). */
    expiresAt: row.status === "active" && expiresSoon(endsAt, expiryWarningMs, now) ? endsAt : null,
    id: row.id,
    name: row.name,
    provider: row.provider,
    status: row.status,
    disabled: row.disabled_at !== null,
    accountLabel: row.account_label,
    lastUsedAt: row.last_used_at,
    intentCount: Number(row.intent_count ?? 0),
  };
}

export function connectionDetailView(row: ConnectionRow, settings: Settings) {
  const provider = getProvider(row.provider);
  const config = JSON.parse(row.config_json) as Record<string, unknown>;
  return {
    connection: {
      id: row.id,
      name: row.name,
      status: row.status,
      statusReason: row.status_reason,
      statusChangedAt: row.status_changed_at,
      lastError: row.last_error,
      lastErrorInsightId: row.last_error_insight_id,
      lastErrorAt: row.last_error_at,
      accountLabel: row.account_label,
      accountUrl: row.account_url,
      identity: JSON.parse(row.identity_json) as Record<string, string>,
      scopes: row.scopes ? row.scopes.split(" ") : [],
      accessTokenExpiresAt: row.access_token_expires_at,
      refreshTokenExpiresAt: row.refresh_token_expires_at,
      hasRefreshToken: row.refresh_token_ct !== null,
      tokensUnreadable: row.tokens_unreadable_at !== null,
      authorizedAt: row.authorized_at,
      lastRefreshedAt: row.last_refreshed_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastUsedAt: row.last_used_at,
      disabledAt: row.disabled_at,
      health: {
        checkedAt: row.health_checked_at,
        outcome: row.health_outcome,
        latencyMs: row.health_latency_ms,
        message: row.health_message,
        dueAt: row.health_due_at,
      },
      refreshFailingSince: row.refresh_failing_since,
      /** The token's request budget as last reported, and until when deliveries wait for it. */
      budget: budgetView(row),
      /** What the defaults point at, as last checked. */
      drift: driftView(row.provider, row.drift_json, row.drift_checked_at),
      /** Defaults saved but not yet checked with the provider (it could not be asked, or no check ran since). */
      settingsUnverified: row.drift_json === null && row.config_json !== "{}" && provider.checkTargets !== undefined,
      /** When the authorization ends, if that is within the warning window (EXPIRY_WARNING_DAYS). */
      expiresSoonAt: (() => {
        const endsAt = authorizationEndsAt({ ...row, has_refresh_token: row.refresh_token_ct !== null });
        return row.status === "active" && expiresSoon(endsAt, settings.health.expiryWarningMs) ? endsAt : null;
      })(),
    },
    provider: {
      ...providerView(provider.id),
      configured: isProviderConfigured(settings, provider.id),
      canRevoke: provider.revoke !== undefined,
    },
    configFields: provider.configFields,
    overridableFields: provider.overridableFields,
    configValues: configFormValues(provider.configFields, config),
  };
}

/** A connection in the read API (GET /api/v1/connections): facts and health, never a token. */
export function connectionApiView(row: ConnectionRow) {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: iso(row.status_changed_at),
    disabled: row.disabled_at !== null,
    account: { id: row.account_id, label: row.account_label, url: row.account_url },
    scopes: row.scopes ? row.scopes.split(" ") : [],
    health: {
      checkedAt: iso(row.health_checked_at),
      outcome: row.health_outcome,
      latencyMs: row.health_latency_ms,
      message: row.health_message,
      nextCheckAt: iso(row.health_due_at),
    },
    expiry: {
      accessTokenExpiresAt: iso(row.access_token_expires_at),
      refreshTokenExpiresAt: iso(row.refresh_token_expires_at),
      refreshFailingSince: iso(row.refresh_failing_since),
    },
    lastError: row.last_error ? { message: row.last_error, at: iso(row.last_error_at), insightId: row.last_error_insight_id } : null,
    drift: apiDrift(driftView(row.provider, row.drift_json, row.drift_checked_at)),
    rateLimit: (() => {
      const budget = budgetView(row);
      return {
        unit: budget.unit,
        limit: budget.limit,
        remaining: budget.remaining,
        resetAt: iso(budget.resetAt),
        reportedAt: iso(budget.observedAt),
        pacedUntil: iso(budget.waitUntil),
      };
    })(),
    lastUsedAt: iso(row.last_used_at),
    authorizedAt: iso(row.authorized_at),
    createdAt: iso(row.created_at),
  };
}

/** Config drift in the read API: when checked, and each problem by field name. */
export function apiDrift(drift: DriftView) {
  return {
    checkedAt: iso(drift.checkedAt),
    problems: drift.problems.map(({ field, message }) => ({ field, message })),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
