import { handleAdmin, indexPage } from "./admin";
import type { EmuRequest, ProviderModule } from "./context";
import { isReplacingFault } from "./context";
import { github } from "./github";
import { escapeHtml, html, parseBody, raceAbort, sleep, text } from "./http";
import { linear } from "./linear";
import { notion } from "./notion";
import { slack } from "./slack";
import {
  EmulatorState,
  faultApplies,
  PROVIDERS,
  type CreatedItem,
  type EmulatorOptions,
  type Endpoint,
  type Fault,
  type IssuedToken,
  type Provider,
  type RecordedRequest,
} from "./state";
import { trello } from "./trello";

export { readConsentForm, submitConsent, type ConsentForm, type RequestHandler } from "./consent-driver";
export { EMULATOR_ACCOUNTS, EMULATOR_CLIENTS, registeredRedirectUri } from "./fixtures";
export { ENDPOINTS, PROVIDERS } from "./state";
export type { CreatedItem, EmulatorOptions, Endpoint, Fault, FaultKind, IssuedToken, Provider, RecordedRequest } from "./state";

const MODULES: Record<Provider, ProviderModule> = { github, slack, notion, linear, trello };

export type EmulatorOptionsInput = Partial<Omit<EmulatorOptions, "revokeAccessTokenOnRefresh">> & {
  revokeAccessTokenOnRefresh?: Partial<Record<Provider, boolean>>;
};

export interface Emulator {
  readonly options: EmulatorOptions;
  /** Serves one request: a provider endpoint, the admin API (/__emulator/…) or the index page (/). */
  handle(request: Request): Promise<Response>;
  /** The next `times` requests to this endpoint that the fault fits are answered with it. */
  failNext(provider: Provider, endpoint: Endpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  pendingFaults(): { provider: Provider; endpoint: Endpoint; fault: Fault; remaining: number }[];
  /** Forgets codes, tokens, created items, faults, recorded requests and clock moves. */
  reset(): void;
  readonly requests: RecordedRequest[];
  requestsTo(provider: Provider, endpoint?: Endpoint): RecordedRequest[];
  tokens(provider: Provider): IssuedToken[];
  /** The user revoked the app on the provider's side: every token of that account dies. */
  revokeTokensOf(provider: Provider, accountId: string | number): void;
  /** Every current access token of the provider is now expired (refresh tokens stay usable). */
  expireAccessTokens(provider: Provider): void;
  /** Moves the emulator's clock (code expiry, token expiry, OAuth 1 timestamps). */
  advanceTime(ms: number): void;
  setOptions(patch: EmulatorOptionsInput): void;
  readonly created: CreatedItem[];
}

function defaultOptions(input: EmulatorOptionsInput): EmulatorOptions {
  const { revokeAccessTokenOnRefresh, ...rest } = input;
  return {
    origin: "https://provider-emulator.test",
    appOrigin: "https://spokedo.test",
    githubTokenStyle: "github-app",
    slackTokenRotation: true,
    slackRefreshErrorShape: "ok_false",
    notionErrorShape: "code",
    linearAuthErrorStatus: 401,
    oauth1TimestampSkewSeconds: 300,
    ...rest,
    revokeAccessTokenOnRefresh: { github: true, slack: false, notion: false, linear: false, trello: false, ...revokeAccessTokenOnRefresh },
  };
}

const stripSlash = (origin: string) => origin.replace(/\/+$/, "");

export function createEmulator(input: EmulatorOptionsInput = {}): Emulator {
  const options = defaultOptions(input);
  options.origin = stripSlash(options.origin);
  options.appOrigin = stripSlash(options.appOrigin);
  const state = new EmulatorState();

  async function serveProvider(request: Request, url: URL, provider: Provider): Promise<Response> {
    const module = MODULES[provider];
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
    if (!route) {
      response = (method === "GET" && createdItemPage(url)) || module.notFound(emuRequest);
    } else {
      const endpoint = route.endpoint;
      let fault: Fault | undefined;
      if (endpoint) {
        const slow = state.takeFault(provider, endpoint, (f) => f.kind === "slow");
        if (slow?.kind === "slow") {
          record.faults.push("slow");
          await sleep(slow.delayMs, request.signal);
        }
        fault = state.takeFault(provider, endpoint, (f) => f.kind !== "slow" && faultApplies(f, endpoint, route.consent === true));
        if (fault) record.faults.push(fault.kind);
      }
      const ctx = { ...emuRequest, state, options, fault };
      response = fault && endpoint && isReplacingFault(fault) ? module.faultResponse(fault, ctx, endpoint) : await route.handle(ctx);
    }
    record.status = response.status;
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

  const emulator: Emulator = {
    options,
    async handle(request) {
      const url = new URL(request.url);
      if (url.pathname === "/__emulator" || url.pathname.startsWith("/__emulator/")) return handleAdmin(request, url, emulator);
      if (url.pathname === "/" && (request.method === "GET" || request.method === "HEAD")) return indexPage(emulator);
      const prefix = url.pathname.split("/")[1] ?? "";
      if (!PROVIDERS.includes(prefix as Provider)) return text("Not Found: the emulator serves /github, /slack, /notion, /linear and /trello\n", 404);
      return serveProvider(request, url, prefix as Provider);
    },
    failNext(provider, endpoint, fault, times = 1) {
      state.addFault(provider, endpoint, fault, times);
    },
    clearFaults: () => state.clearFaults(),
    pendingFaults: () => state.pendingFaults(),
    reset: () => state.reset(),
    get requests() {
      return state.requests;
    },
    requestsTo: (provider, endpoint) =>
      state.requests.filter((r) => r.provider === provider && (endpoint === undefined || r.endpoint === endpoint)),
    tokens: (provider) => state.tokens.filter((t) => t.provider === provider).map((t) => ({ ...t, scopes: [...t.scopes], extra: { ...t.extra } })),
    revokeTokensOf: (provider, accountId) => state.revokeTokensOf(provider, String(accountId)),
    expireAccessTokens: (provider) => state.expireAccessTokens(provider),
    advanceTime: (ms) => state.advanceTime(ms),
    setOptions(patch) {
      const { revokeAccessTokenOnRefresh, ...rest } = patch;
      Object.assign(options, rest);
      if (revokeAccessTokenOnRefresh) Object.assign(options.revokeAccessTokenOnRefresh, revokeAccessTokenOnRefresh);
      options.origin = stripSlash(options.origin);
      options.appOrigin = stripSlash(options.appOrigin);
    },
    get created() {
      return state.created;
    },
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
    return raceAbort(emulator.handle(request), signal);
  };
  globalThis.fetch = intercepted as typeof globalThis.fetch;
  return () => {
    if (globalThis.fetch === intercepted) globalThis.fetch = original;
  };
}
