import { github } from "./github";
import { linear } from "./linear";
import { notion } from "./notion";
import { slack } from "./slack";
import { trello } from "./trello";
import type { ProviderId, ProviderModule } from "./types";

/** Adding a provider: one module beside this file and one line here. */
const BUILT_IN: ProviderModule[] = [github, slack, notion, linear, trello];

const providers = new Map<ProviderId, ProviderModule>(BUILT_IN.map((provider) => [provider.id, provider]));

/**
 * Adds a provider at runtime, and returns what removes it. The app registers its providers above;
 * tests use this to prove that a provider module is all a new provider needs.
 */
export function registerProvider(provider: ProviderModule): () => void {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(provider.id)) throw new Error(`Invalid provider id: ${provider.id}`);
  providers.set(provider.id, provider);
  // What undoes it: test files share modules (decision 029), so a test's provider must not outlive it.
  return () => {
    if (providers.get(provider.id) === provider) providers.delete(provider.id);
  };
}

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === "string" && providers.has(value);
}

/** The provider module for an id read from the database or a validated request. */
export function getProvider(id: ProviderId): ProviderModule {
  const provider = providers.get(id);
  if (!provider) throw new Error(`Unknown provider: ${id}`);
  return provider;
}

export function listProviders(): ProviderModule[] {
  return [...providers.values()];
}
