import * as v from "valibot";
import { getProvider, listProviders } from "../providers/registry";
import { PROVIDER_TIMEOUT_MS } from "../providers/http.server";
import type { ClientCredentials, ProviderContext, ProviderEndpoints, ProviderId } from "../providers/types";
import { loadKeyRing, type KeyRing } from "./encryption.server";

/**
 * Secrets and settings, parsed once per isolate from the Worker's bindings. Routes never read
 * raw bindings; they get this typed object through the load context.
 */
export interface ProviderSettings {
  endpoints: ProviderEndpoints;
  credentials: ClientCredentials | null;
  /** The secret its revocation webhooks are signed with; null when not declared or not set. */
  webhookSecret: string | null;
}

export interface Settings {
  /** Public origin of this deployment; redirect URIs are built from it, never from requests. */
  appUrl: string | null;
  keyRing: Promise<KeyRing> | null;
  /** queue: deliveries go through the delivery queue (default); manual: something else drives them (the tests). */
  dispatch: "queue" | "manual";
  /**
   * Where outgoing webhooks may go: `public` in production (APP_URL is HTTPS and not localhost, or
   * unset): public HTTPS URLs only; `local` when the app runs on a developer's machine, where
   * http://localhost and the emulator are fine.
   */
  webhookTargets: "public" | "local";
  /** How long one provider call (request and body) may take; at most PROVIDER_TIMEOUT_MS, which leases are sized for. */
  providerTimeoutMs: number;
  /** Connection health: how often each connection is checked, and how long refresh outages are tolerated. */
  health: { intervalMs: number; refreshGiveUpMs: number; expiryWarningMs: number };
  /** A provider's endpoints and credentials, read from the env names its module declares. */
  provider(id: ProviderId): ProviderSettings;
  /** What is misconfigured, in words an operator can act on (logged once per isolate). */
  problems: string[];
}

const OptionalString = v.optional(v.pipe(v.string(), v.trim()));
const OptionalUrl = v.optional(
  v.pipe(
    v.string(),
    v.trim(),
    v.url("must be an absolute URL"),
    v.transform((url) => url.replace(/\/+$/, "")),
  ),
);

function isLocalHost(url: string) {
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname.endsWith(".localhost");
}

const cache = new WeakMap<object, Settings>();

export function getSettings(env: Env): Settings {
  let settings = cache.get(env);
  if (!settings) {
    settings = parseSettings(env as unknown as Record<string, unknown>);
    cache.set(env, settings);
  }
  return settings;
}

function parseSettings(raw: Record<string, unknown>): Settings {
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

  const providers = new Map<ProviderId, ProviderSettings>();
  // Read lazily: a provider's settings are parsed the first time they are needed.
  const provider = (id: ProviderId): ProviderSettings => {
    let settings = providers.get(id);
    if (settings) return settings;
    const module = getProvider(id);
    const names = module.env;
    const endpoints = {
      web: read(names.webUrl, OptionalUrl) ?? module.defaultEndpoints.web,
      api: read(names.apiUrl, OptionalUrl) ?? module.defaultEndpoints.api,
    };
    const clientId = read(names.clientId, OptionalString);
    const clientSecret = read(names.clientSecret, OptionalString);
    let credentials: ClientCredentials | null = clientId && clientSecret ? { clientId, clientSecret } : null;
    if (deployed && [endpoints.web, endpoints.api].some((url) => !url.startsWith("https://") || isLocalHost(url))) {
      problems.push(`${module.name} endpoints must be public HTTPS URLs in a deployed app; ${module.name} is disabled.`);
      credentials = null;
    }
    const webhookSecret = (names.webhookSecret && read(names.webhookSecret, OptionalString)) || null;
    settings = { endpoints, credentials, webhookSecret };
    providers.set(id, settings);
    return settings;
  };
  for (const module of listProviders()) provider(module.id);

  const keys = read("TOKEN_ENCRYPTION_KEYS", OptionalString);
  const primary = read("TOKEN_ENCRYPTION_PRIMARY_KEY_ID", OptionalString);
  let keyRing: Promise<KeyRing> | null = null;
  if (keys && primary) keyRing = loadKeyRing(keys, primary);
  else problems.push("TOKEN_ENCRYPTION_KEYS and TOKEN_ENCRYPTION_PRIMARY_KEY_ID are not set: connections are disabled.");
  if (!appUrl) problems.push("APP_URL is not set: connections are disabled.");

  const dispatch = read("DELIVERY_DISPATCH", OptionalString) === "manual" ? "manual" : "queue";

  /** A whole number in [min, max] from an optional setting, or the fallback (with a problem noted). */
  const wholeNumber = (name: string, min: number, max: number, fallback: number) => {
    const raw = read(name, OptionalString);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    problems.push(`${name} must be a whole number from ${min} to ${max}; using ${fallback}.`);
    return fallback;
  };
  const maxTimeoutSeconds = PROVIDER_TIMEOUT_MS / 1000;
  const providerTimeoutMs = wholeNumber("PROVIDER_TIMEOUT_SECONDS", 1, maxTimeoutSeconds, maxTimeoutSeconds) * 1000;
  const health = {
    intervalMs: wholeNumber("HEALTH_CHECK_INTERVAL_HOURS", 1, 168, 6) * 3_600_000,
    refreshGiveUpMs: wholeNumber("REFRESH_GIVE_UP_DAYS", 1, 30, 3) * 86_400_000,
    expiryWarningMs: wholeNumber("EXPIRY_WARNING_DAYS", 1, 60, 7) * 86_400_000,
  };

  const local = appUrl !== null && (!appUrl.startsWith("https://") || isLocalHost(appUrl));
  const webhookTargets = local ? "local" : "public";

  return { appUrl, keyRing, dispatch, webhookTargets, providerTimeoutMs, health, provider, problems };
}

export function isProviderConfigured(settings: Settings, id: ProviderId): boolean {
  return settings.provider(id).credentials !== null;
}

/** What a provider module needs to call its provider, or null when it is not configured. */
export function providerContext(settings: Settings, id: ProviderId): ProviderContext | null {
  const { endpoints, credentials } = settings.provider(id);
  if (!credentials) return null;
  // Looked up at call time, not captured: tests and the emulator may replace the global fetch.
  return { endpoints, credentials, fetch: (input, init) => fetch(input, init), timeoutMs: settings.providerTimeoutMs };
}

export function redirectUri(settings: Settings, provider: ProviderId): string {
  if (!settings.appUrl) throw new Error("APP_URL is not configured.");
  return `${settings.appUrl}/integration-connections/callback/${provider}`;
}

/** The origins of configured providers' consent pages (the CSP's form-action allows them). */
export function providerWebOrigins(settings: Settings): string[] {
  return [
    ...new Set(
      listProviders()
        .map((module) => settings.provider(module.id))
        .filter((provider) => provider.credentials)
        .map((provider) => new URL(provider.endpoints.web).origin),
    ),
  ];
}
