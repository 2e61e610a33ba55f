import type { ConnectionRow } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { describeProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { TargetProblem } from "../providers/types";
import { budgetWaitUntil } from "./rate-budget.server";
import { withTokens, type VaultDeps } from "./vault.server";

/**
 * Asks the provider, through the connection's token, whether what a config points at exists and
 * can be used (the same question the scheduled drift check asks; decision 019). Used to validate
 * settings when they are saved.
 */
export type TargetVerdict =
  /** `typed`: the values to store for fields that checked out, typed as the provider's schema says. */
  | { verified: true; problems: TargetProblem[]; typed: Record<string, unknown> }
  /** The provider could not be asked (an outage, a spent budget, a token it refuses): save, marked unverified. */
  | { verified: false; reason: string };

export async function verifyTargets(deps: VaultDeps, connection: ConnectionRow, config: Record<string, unknown>): Promise<TargetVerdict> {
  const provider = getProvider(connection.provider);
  if (!provider.checkTargets || Object.keys(config).length === 0) return { verified: true, problems: [], typed: {} };
  const checkTargets = provider.checkTargets.bind(provider);
  const context = providerContext(deps.settings, connection.provider);
  if (!context) return { verified: false, reason: `${provider.name} is not configured on this server` };
  if (connection.disabled_at !== null) return { verified: false, reason: "the connection is disabled" };
  if (connection.status === "revoked" || connection.status === "expired") {
    return { verified: false, reason: `the connection is ${connection.status}: re-authorize it first` };
  }
  if (budgetWaitUntil(connection, Date.now()) !== null)
    return { verified: false, reason: `${provider.name}'s rate limit is spent for now` };
  const scopes = connection.scopes.split(/[\s,]+/).filter(Boolean);
  let typed: Record<string, unknown> = {};
  const result = await withTokens(deps, connection, (tokens) => {
    typed = {};
    return checkTargets(context, tokens, { config, scopes, typed: (field, value) => (typed[field] = value) });
  });
  if (result.ok) return { verified: true, problems: result.value, typed };
  if (result.problem === "provider") {
    // The provider refused the read itself (a missing read scope, say) or could not answer: no
    // verdict either way, so the settings are saved unverified.
    const said = result.error.kind === "client_error" ? "refused to say" : "could not be asked";
    return { verified: false, reason: `${provider.name} ${said} (${describeProviderError(result.error)})` };
  }
  if (result.problem === "unavailable")
    return { verified: false, reason: `the token could not be refreshed (${describeProviderError(result.error)})` };
  return { verified: false, reason: result.change.reason ?? "the tokens cannot be used" };
}

/** Problems as Conform field errors, under the form's prefix ("config." or "overrides."). */
export function problemsByField(problems: TargetProblem[], prefix: string): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const problem of problems) (errors[`${prefix}${problem.field}`] ??= []).push(problem.message);
  return errors;
}
