import * as v from "valibot";
import { PROVIDER_LIST } from "./providers/registry";
import type { ClientCredentials, ProviderEndpoints, ProviderId } from "./providers/types";
import { loadKeyRing, type KeyRing } from "./token-crypto.server";

/**
 * Secrets and settings, parsed once per isolate from the Worker's bindings. Routes never read
 * raw bindings; they get this typed object through the load context.
 */
export interface ProviderSettings {
  endpoints: ProviderEndpoints;
  credentials: ClientCredentials | null;
}

export interface AppConfig {
  /** Public origin of this deployment; redirect URIs are built from it, never from requests. */
  appUrl: string | null;
  providers: Record<ProviderId, ProviderSettings>;
  keyRing: Promise<KeyRing> | null;
  /** Start an insight's deliveries right away (default), or leave them to the cron sweep. */
  deliveriesInBackground: boolean;
  problems: string[];
}

const OptionalString = v.optional(v.pipe(v.string(), v.trim()));
const OptionalUrl = v.optional(
  v.pipe(v.string(), v.trim(), v.url("must be an absolute URL"), v.transform((url) => url.replace(/\/+$/, ""))),
);

const ENV_PREFIX: Record<ProviderId, string> = {
  github: "GITHUB",
  slack: "SLACK",
  notion: "NOTION",
  linear: "LINEAR",
  trello: "TRELLO",
};

/** Names of the settings for one provider, as documented in README and .dev.vars.example. */
export function providerEnvNames(provider: ProviderId) {
  const prefix = ENV_PREFIX[provider];
  return provider === "trello"
    ? { id: "TRELLO_API_KEY", secret: "TRELLO_API_SECRET", web: "TRELLO_WEB_URL", api: "TRELLO_API_URL" }
    : { id: `${prefix}_CLIENT_ID`, secret: `${prefix}_CLIENT_SECRET`, web: `${prefix}_WEB_URL`, api: `${prefix}_API_URL` };
}

function isLocalHost(url: string) {
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname.endsWith(".localhost");
}

const cache = new WeakMap<object, AppConfig>();

export function getConfig(env: Env): AppConfig {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env as unknown as Record<string, unknown>);
    cache.set(env, config);
  }
  return config;
}

export function parseConfig(raw: Record<string, unknown>): AppConfig {
  const problems: string[] = [];
  const read = (name: string, schema: typeof OptionalString | typeof OptionalUrl) => {
    const result = v.safeParse(schema, raw[name]);
    if (!result.success) {
      problems.push(`${name} ${result.issues[0]?.message ?? "is invalid"}.`);
      return undefined;
    }
    return result.output || undefined;
  };

  const appUrl = read("APP_URL", OptionalUrl) ?? null;
  // A deployed (HTTPS) app must never talk to a local emulator or any plain-HTTP endpoint.
  const deployed = appUrl !== null && !isLocalHost(appUrl);

  const providers = {} as Record<ProviderId, ProviderSettings>;
  for (const provider of PROVIDER_LIST) {
    const names = providerEnvNames(provider.id);
    const endpoints = {
      web: read(names.web, OptionalUrl) ?? provider.defaultEndpoints.web,
      api: read(names.api, OptionalUrl) ?? provider.defaultEndpoints.api,
    };
    const clientId = read(names.id, OptionalString);
    const clientSecret = read(names.secret, OptionalString);
    let credentials: ClientCredentials | null = clientId && clientSecret ? { clientId, clientSecret } : null;
    if (deployed && [endpoints.web, endpoints.api].some((url) => !url.startsWith("https://") || isLocalHost(url))) {
      problems.push(`${provider.name} endpoints must be public HTTPS URLs in a deployed app; ${provider.name} is disabled.`);
      credentials = null;
    }
    providers[provider.id] = { endpoints, credentials };
  }

  const keys = read("TOKEN_ENCRYPTION_KEYS", OptionalString);
  const primary = read("TOKEN_ENCRYPTION_PRIMARY_KEY_ID", OptionalString);
  let keyRing: Promise<KeyRing> | null = null;
  if (keys && primary) keyRing = loadKeyRing(keys, primary);
  else problems.push("TOKEN_ENCRYPTION_KEYS and TOKEN_ENCRYPTION_PRIMARY_KEY_ID are not set: connections are disabled.");
  if (!appUrl) problems.push("APP_URL is not set: connections are disabled.");

  const deliveriesInBackground = read("DELIVERIES_IN_BACKGROUND", OptionalString) !== "false";

  return { appUrl, providers, keyRing, deliveriesInBackground, problems };
}

export function redirectUri(config: AppConfig, provider: ProviderId): string {
  if (!config.appUrl) throw new Error("APP_URL is not configured.");
  return `${config.appUrl}/integration-connections/callback/${provider}`;
}
