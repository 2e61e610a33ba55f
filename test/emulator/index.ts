import { handleAdmin, indexPage } from "./admin";
import { Chaos, type ChaosSettings } from "./chaos";
import type { EmuRequest, HandlerContext, ProviderModule, ProviderPart } from "./context";
import { isReplacingFault } from "./context";
import { github } from "./github";
import { EmulatedNetworkError, escapeHtml, html, parseBody, raceAbort, sleep, stallBody, text } from "./http";
import { linear } from "./linear";
import { notion } from "./notion";
import { defaultRateLimits, mergeRateLimits, RateLimiter, type RateLimitPatch } from "./rate-limits";
import { slack } from "./slack";
import {
  EmulatorState,
  faultApplies,
  type CreatedItem,
  type EmulatorOptions,
  type Endpoint,
  type Fault,
  type IssuedToken,
  type Provider,
  type ProviderId,
  type RecordedRequest,
} from "./state";
import { trello } from "./trello";
import { deliverWebhook, type WebhookDelivery, type WebhookTarget } from "./webhooks";

export { readConsentForm, submitConsent, type ConsentForm, type RequestHandler } from "./consent-driver";
export type { EmuRequest, HandlerContext, ProviderModule, ProviderPart, ReplacingFault, Route } from "./context";
export { EMULATOR_ACCOUNTS, EMULATOR_CLIENTS, registeredRedirectUri } from "./fixtures";
export { EmulatedNetworkError, isEmulatedNetworkError } from "./http";
export type { ChaosSettings } from "./chaos";
export type { RateLimitPatch, RateLimitSettings } from "./rate-limits";
export { ENDPOINTS, PROVIDERS } from "./state";
export type { CreatedItem, EmulatorOptions, Endpoint, Fault, FaultKind, IssuedToken, Provider, ProviderId, RecordedRequest } from "./state";
export * from "./webhooks";
export { grantFor, type EmulatorGrant, type GrantOptions } from "./testing";
export {
  createGenericOAuth2Part,
  type GenericItem,
  type GenericOAuth2Account,
  type GenericOAuth2Config,
  type GenericOAuth2Part,
} from "./generic-oauth2";

const BUILT_INS: ProviderModule[] = [github, slack, notion, linear, trello];

export type EmulatorOptionsInput = Partial<Omit<EmulatorOptions, "revokeAccessTokenOnRefresh" | "rateLimits" | "searchIndexDelayMs">> & {
  revokeAccessTokenOnRefresh?: Partial<Record<Provider, boolean>>;
  rateLimits?: RateLimitPatch;
  searchIndexDelayMs?: Partial<EmulatorOptions["searchIndexDelayMs"]>;
};

export interface CreateEmulatorInput extends EmulatorOptionsInput {
  /** Parts mounted beside the five built-ins, each under `/{part.provider}`. */
  extraProviders?: ProviderPart[];
}

export interface HandleOptions {
  /** The caller's AbortSignal: it ends slow answers and stalled bodies (fetch does this for real). */
  signal?: AbortSignal | null;
}

export interface Emulator {
  readonly options: EmulatorOptions;
  /**
   * Serves one request: a provider endpoint, the admin API (/__emulator/…) or the index page (/).
   * Rejects with an EmulatedNetworkError ("Network connection lost.") when a drop_after_commit
   * fault dropped the connection, as fetch would.
   */
  handle(request: Request, options?: HandleOptions): Promise<Response>;
  /** The next `times` requests to this endpoint that the fault fits are answered with it. */
  failNext(provider: ProviderId, endpoint: Endpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  pendingFaults(): { provider: ProviderId; endpoint: Endpoint; fault: Fault; remaining: number }[];
  /**
   * Seeded random faults (429, 5xx, stalled bodies, dropped connections) on deliver and lookup
   * endpoints until `setChaos(null)`. Queued failNext faults still come first.
   */
  setChaos(settings: ChaosSettings | null): void;
  readonly chaos: ChaosSettings | null;
  /** What chaos drew so far, in order. */
  chaosLog(): { provider: ProviderId; endpoint: Endpoint; fault: Fault["kind"] }[];
  /** Changes per-token budgets (deep merge); `{ enabled: false }` stops refusing requests. */
  setRateLimits(patch: RateLimitPatch): void;
  /** Forgets codes, tokens, created items, faults, chaos, budgets, webhook deliveries, recorded requests and clock moves. */
  reset(): void;
  readonly requests: RecordedRequest[];
  requestsTo(provider: ProviderId, endpoint?: Endpoint): RecordedRequest[];
  tokens(provider: ProviderId): IssuedToken[];
  /**
   * The user revoked the app on the provider's side: every token of that account dies. When a
   * webhook target is set for the provider, the provider's revocation webhook(s) are delivered
   * to it; the promise resolves with those deliveries (it never rejects).
   */
  revokeTokensOf(provider: ProviderId, accountId: string | number): Promise<WebhookDelivery[]>;
  /** Where the provider pushes webhooks (Slack Events API, GitHub App webhook, Linear webhook); null stops them. */
  setWebhookTarget(provider: ProviderId, target: WebhookTarget | null): void;
  /** Every webhook delivered so far, with the app's answers. */
  readonly webhookDeliveries: WebhookDelivery[];
  /** Every current access token of the provider is now expired (refresh tokens stay usable). */
  expireAccessTokens(provider: ProviderId): void;
  /** Moves the emulator's clock (code and token expiry, OAuth 1 timestamps, rate-limit windows, search index lag). */
  advanceTime(ms: number): void;
  /** The emulator's clock, epoch ms. */
  now(): number;
  setOptions(patch: EmulatorOptionsInput): void;
  readonly created: CreatedItem[];
  /** Mounts a provider part under `/{part.provider}` (an id that is not yet taken). */
  registerProvider(part: ProviderPart): void;
  /** The ids of every mounted provider, built-ins first. */
  providers(): ProviderId[];
  provider(id: ProviderId): ProviderModule | undefined;
}

function defaultOptions(input: EmulatorOptionsInput): EmulatorOptions {
  const { revokeAccessTokenOnRefresh, rateLimits, searchIndexDelayMs, ...rest } = input;
  const limits = defaultRateLimits();
  if (rateLimits) mergeRateLimits(limits, rateLimits);
  return {
    origin: "https://provider-emulator.test",
    appOrigin: "https://spokedo.test",
    githubTokenStyle: "github-app",
    slackTokenRotation: true,
    slackRefreshErrorShape: "ok_false",
    notionErrorShape: "code",
    linearAuthErrorStatus: 401,
    oauth1TimestampSkewSeconds: 300,
    linearRateLimitedStatus: 400,
    githubRateLimitedStatus: 403,
    slackAppDistribution: "marketplace_or_internal",
    slackLongText: "msg_too_long",
    ...rest,
    searchIndexDelayMs: { github: 3000, trello: 3000, ...searchIndexDelayMs },
    rateLimits: limits,
    revokeAccessTokenOnRefresh: { github: true, slack: false, notion: false, linear: false, trello: false, ...revokeAccessTokenOnRefresh },
  };
}

const stripSlash = (origin: string) => origin.replace(/\/+$/, "");

export function createEmulator(input: CreateEmulatorInput = {}): Emulator {
  const { extraProviders = [], ...optionInput } = input;
  const options = defaultOptions(optionInput);
  options.origin = stripSlash(options.origin);
  options.appOrigin = stripSlash(options.appOrigin);
  const state = new EmulatorState();
  const limits = new RateLimiter();
  const modules = new Map<string, ProviderModule>();
  const webhookTargets = new Map<string, WebhookTarget>();
  const webhookDeliveries: WebhookDelivery[] = [];
  let chaos: Chaos | null = null;

  function register(part: ProviderPart) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(part.provider)) throw new Error(`provider id ${part.provider} must be a lowercase URL segment`);
    if (part.provider === "__emulator" || modules.has(part.provider)) throw new Error(`provider ${part.provider} is already mounted`);
    modules.set(part.provider, part);
  }
  for (const part of [...BUILT_INS, ...extraProviders]) register(part);

  async function serveProvider(request: Request, url: URL, module: ProviderModule, signal: AbortSignal | null): Promise<Response> {
    const provider = module.provider;
    const method = request.method.toUpperCase();
    // Read the body exactly once, before anything else, so it is both recorded and parsed.
    // Decode bytes ourselves: workerd warns when .text() meets a form-urlencoded body.
    const bodyText = method === "GET" || method === "HEAD" ? "" : new TextDecoder().decode(await request.arrayBuffer());
    const body = parseBody(bodyText, request.headers.get("Content-Type") ?? "");
    const emuRequest: EmuRequest = {
      raw: request,
      method,
      url,
      path: url.pathname.slice(provider.length + 1) || "/",
      headers: request.headers,
      bodyText,
      body,
      param: (name) => body.fields.get(name) ?? url.searchParams.get(name),
    };
    const route = module.route(emuRequest);
    const record: RecordedRequest = {
      provider,
      endpoint: route?.endpoint ?? null,
      method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: bodyText,
      at: state.now(),
      faults: [],
    };
    state.requests.push(record);

    let response: Response;
    // Faults that act on the connection rather than on the answer.
    let after: Extract<Fault, { kind: "slow_body" | "drop_after_commit" }> | undefined;
    if (!route) {
      response = (method === "GET" && createdItemPage(url)) || module.notFound(emuRequest);
    } else {
      const endpoint = route.endpoint;
      let fault: Fault | undefined;
      if (endpoint) {
        const slow = state.takeFault(provider, endpoint, (f) => f.kind === "slow");
        if (slow?.kind === "slow") {
          record.faults.push("slow");
          await sleep(slow.delayMs, signal);
        }
        fault = state.takeFault(
          provider,
          endpoint,
          (f) =>
            f.kind !== "slow" &&
            f.kind !== "slow_body" &&
            f.kind !== "drop_after_commit" &&
            faultApplies(f, endpoint, route.consent === true),
        );
        const connectionFault = state.takeFault(provider, endpoint, (f) => f.kind === "slow_body" || f.kind === "drop_after_commit");
        if (connectionFault?.kind === "slow_body" || connectionFault?.kind === "drop_after_commit") after = connectionFault;
        if (!fault && !after && chaos) {
          const drawn = chaos.draw(provider, endpoint);
          if (drawn) {
            record.chaos = true;
            if (drawn.kind === "slow_body" || drawn.kind === "drop_after_commit") after = drawn;
            else fault = drawn;
          }
        }
        if (fault) record.faults.push(fault.kind);
        if (after) record.faults.push(after.kind);
      }
      const ctx: HandlerContext = { ...emuRequest, state, options, limits, fault };
      response = fault && endpoint && isReplacingFault(fault) ? module.faultResponse(fault, ctx, endpoint) : await route.handle(ctx);
    }
    record.status = response.status;
    if (after?.kind === "drop_after_commit") throw new EmulatedNetworkError();
    if (after?.kind === "slow_body") return stallBody(response, after.delayMs, signal);
    return response;
  }

  /** Created issues, messages, pages and cards link back here: show what was delivered. */
  function createdItemPage(url: URL) {
    const item = state.created.find((candidate) => new URL(candidate.url).pathname === url.pathname);
    if (!item) return null;
    return html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`${item.provider} ${item.kind} ${item.id}`)} (emulated)</title></head>
<body><h1>${escapeHtml(`${item.provider} ${item.kind}`)} (emulated)</h1><p>id <code>${escapeHtml(item.id)}</code>, account <code>${escapeHtml(item.accountId)}</code></p>
<pre>${escapeHtml(JSON.stringify(item.payload, null, 2))}</pre></body></html>`);
  }

  async function revoke(provider: ProviderId, accountId: string): Promise<WebhookDelivery[]> {
    const revoked = state.revokeTokensOf(provider, accountId);
    const target = webhookTargets.get(provider);
    const module = modules.get(provider);
    if (!target || !module?.revocationWebhooks || revoked.length === 0) return [];
    const requests = await module.revocationWebhooks({ accountId, revoked, target, options, now: state.now() });
    const deliveries: WebhookDelivery[] = [];
    for (const { event, request } of requests) {
      const delivery = await deliverWebhook(provider, event, target, request, state.now());
      webhookDeliveries.push(delivery);
      deliveries.push(delivery);
    }
    return deliveries;
  }

  const emulator: Emulator = {
    options,
    async handle(request, handleOptions = {}) {
      const url = new URL(request.url);
      if (url.pathname === "/__emulator" || url.pathname.startsWith("/__emulator/")) return handleAdmin(request, url, emulator);
      if (url.pathname === "/" && (request.method === "GET" || request.method === "HEAD")) return indexPage(emulator);
      const module = modules.get(url.pathname.split("/")[1] ?? "");
      if (!module) return text(`Not Found: the emulator serves ${[...modules.keys()].map((id) => `/${id}`).join(", ")}\n`, 404);
      return serveProvider(request, url, module, handleOptions.signal ?? request.signal);
    },
    failNext(provider, endpoint, fault, times = 1) {
      state.addFault(provider, endpoint, fault, times);
    },
    clearFaults: () => state.clearFaults(),
    pendingFaults: () => state.pendingFaults(),
    setChaos(settings) {
      chaos = settings ? new Chaos(settings) : null;
    },
    get chaos() {
      return chaos?.settings ?? null;
    },
    chaosLog: () => [...(chaos?.drawn ?? [])],
    setRateLimits: (patch) => mergeRateLimits(options.rateLimits, patch),
    reset() {
      state.reset();
      limits.reset();
      chaos = null;
      webhookDeliveries.length = 0;
      for (const module of modules.values()) module.reset?.();
    },
    get requests() {
      return state.requests;
    },
    requestsTo: (provider, endpoint) =>
      state.requests.filter((r) => r.provider === provider && (endpoint === undefined || r.endpoint === endpoint)),
    tokens: (provider) =>
      state.tokens.filter((t) => t.provider === provider).map((t) => ({ ...t, scopes: [...t.scopes], extra: { ...t.extra } })),
    revokeTokensOf: (provider, accountId) => revoke(provider, String(accountId)),
    setWebhookTarget(provider, target) {
      if (target) webhookTargets.set(provider, target);
      else webhookTargets.delete(provider);
    },
    webhookDeliveries,
    expireAccessTokens: (provider) => state.expireAccessTokens(provider),
    advanceTime: (ms) => state.advanceTime(ms),
    now: () => state.now(),
    setOptions(patch) {
      const { revokeAccessTokenOnRefresh, rateLimits, searchIndexDelayMs, ...rest } = patch;
      Object.assign(options, rest);
      if (revokeAccessTokenOnRefresh) Object.assign(options.revokeAccessTokenOnRefresh, revokeAccessTokenOnRefresh);
      if (rateLimits) mergeRateLimits(options.rateLimits, rateLimits);
      if (searchIndexDelayMs) Object.assign(options.searchIndexDelayMs, searchIndexDelayMs);
      options.origin = stripSlash(options.origin);
      options.appOrigin = stripSlash(options.appOrigin);
    },
    get created() {
      return state.created;
    },
    registerProvider: register,
    providers: () => [...modules.keys()],
    provider: (id) => modules.get(id),
  };
  return emulator;
}

/**
 * Replaces globalThis.fetch so the app's outbound calls to the emulator's
 * origin are served in-process; any other outbound call fails loudly instead
 * of reaching the internet. Returns the function that puts fetch back.
 */
export function installEmulatorFetch(emulator: Emulator): () => void {
  const original = globalThis.fetch;
  const intercepted = async (input: RequestInfo | URL, init?: RequestInit<RequestInitCfProperties>) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== new URL(emulator.options.origin).origin) {
      throw new Error(`unexpected outbound fetch to ${url.origin}${url.pathname}`);
    }
    // Take the caller's signal itself: a Request copy may not carry it in every runtime.
    const signal = init?.signal ?? (input instanceof Request ? input.signal : null) ?? request.signal;
    if (signal?.aborted) throw signal.reason;
    return raceAbort(emulator.handle(request, { signal }), signal);
  };
  globalThis.fetch = intercepted;
  return () => {
    if (globalThis.fetch === intercepted) globalThis.fetch = original;
  };
}
