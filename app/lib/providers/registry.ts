import { github } from "./github";
import { linear } from "./linear";
import { notion } from "./notion";
import { slack } from "./slack";
import { trello } from "./trello";
import { PROVIDER_IDS, type ProviderId, type ProviderModule } from "./types";

/** Adding a provider: one module beside this file and one line here (and its id in types.ts). */
export const PROVIDERS: Record<ProviderId, ProviderModule> = {
  github,
  slack,
  notion,
  linear,
  trello,
};

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === "string" && (PROVIDER_IDS as readonly string[]).includes(value);
}

export function getProvider(id: ProviderId): ProviderModule {
  return PROVIDERS[id];
}

export const PROVIDER_LIST: ProviderModule[] = PROVIDER_IDS.map((id) => PROVIDERS[id]);
