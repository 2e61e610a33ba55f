import type { AppLoadContext } from "@remix-run/cloudflare";
import { cookieName, readCookie, serializeCookie } from "./cookies.server";
import { getDatabase, openScope, type DatabaseScope, type Db } from "./db.server";
import { deliveryQueue, type DeliveryQueue } from "./queues";
import { getSettings, type Settings } from "./settings.server";

const BOOKMARK_COOKIE = "spokedo_d1";

export interface RequestContext {
  env: Env;
  /** Settings and secrets, parsed once per isolate. */
  settings: Settings;
  /** The isolate's Kysely instance; queries run in this request's D1 scope. */
  db: Db;
  /** This request's D1 session (replica reads at least as new as the client's bookmark). */
  scope: DatabaseScope;
  /** Where new deliveries go; null when something else drives them (DELIVERY_DISPATCH=manual). */
  deliveryQueue: DeliveryQueue | null;
  cspNonce: string;
  /** True when the request reached us over HTTPS: decides cookie prefixes and HSTS. */
  secure: boolean;
  clientIp: string;
  /** Two-letter country of the client, from Cloudflare's request metadata (when present). */
  clientCountry: string | null;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Set-Cookie values the Worker entry appends to whatever response Remix produced. */
  responseCookies: string[];
  /** Per-request memo, so parallel loaders share one session lookup. */
  memo: Map<string, Promise<unknown>>;
}

declare module "@remix-run/cloudflare" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AppLoadContext extends RequestContext {}
}

export function createRequestContext(options: {
  request: Request;
  env: Env;
  waitUntil: (promise: Promise<unknown>) => void;
  cspNonce: string;
}): AppLoadContext {
  const { request, env } = options;
  const secure = new URL(request.url).protocol === "https:";
  const bookmark = readCookie(request, cookieName(BOOKMARK_COOKIE, secure));
  const country = (request as Request & { cf?: { country?: unknown } }).cf?.country;
  const settings = getSettings(env);
  return {
    env,
    settings,
    deliveryQueue: deliveryQueue(env, settings),
    db: getDatabase(env.DB),
    scope: openScope(env.DB, bookmark),
    cspNonce: options.cspNonce,
    secure,
    clientIp: request.headers.get("CF-Connecting-IP") ?? "unknown",
    clientCountry: typeof country === "string" && /^[A-Z]{2}$/.test(country) ? country : null,
    waitUntil: options.waitUntil,
    responseCookies: [],
    memo: new Map(),
  };
}

/**
 * The D1 Sessions API bookmark travels in a cookie so the next request (which may be served
 * by a read replica) observes at least everything this one wrote.
 */
export function bookmarkCookie(request: Request, context: RequestContext): string | null {
  const bookmark = context.scope.bookmark();
  if (!bookmark) return null;
  const name = cookieName(BOOKMARK_COOKIE, context.secure);
  if (readCookie(request, name) === bookmark) return null;
  return serializeCookie(name, bookmark, { secure: context.secure, maxAge: 60 * 60 * 24 });
}
