import type { ProviderModule, ScopeNeed } from "../providers/types";

/**
 * Scope pre-flight: what an intent's deliveries need that its connection was not granted, checked
 * when the intent is shown or saved instead of at the first delivery. A connection that reports no
 * scopes at all (a GitHub App's token, say) cannot be judged and gets no warning.
 */
export function missingScopes(provider: ProviderModule, grantedScopes: string, config: Record<string, unknown>): ScopeNeed[] {
  const granted = new Set(grantedScopes.split(/[\s,]+/).filter(Boolean));
  if (granted.size === 0 || !provider.requiredScopes) return [];
  return provider.requiredScopes(config).filter((need) => !need.anyOf.some((scope) => granted.has(scope)));
}
