import type { AppLoadContext } from "@remix-run/cloudflare";
import { getConfig, type AppConfig } from "./config.server";
import { openDatabase, type Db, type DbHandle } from "./db.server";
import { cookieName, readCookie, serializeCookie } from "./cookies.server";

const BOOKMARK_COOKIE = "spokedo_d1";

export interface RequestContext {
  env: Env;
  /** Settings and secrets, parsed once per isolate. */
  config: AppConfig;
  db: Db;
  dbHandle: DbHandle;
  cspNonce: string;
  /** True when the request reached us over HTTPS: decides cookie prefixes and HSTS. */
  secure: boolean;
  clientIp: string;
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
  const dbHandle = openDatabase(env.DB, bookmark);
  return {
    env,
    config: getConfig(env),
    db: dbHandle.db,
    dbHandle,
    cspNonce: options.cspNonce,
    secure,
    clientIp: request.headers.get("CF-Connecting-IP") ?? "unknown",
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
  const bookmark = context.dbHandle.d1.getBookmark();
  if (!bookmark) return null;
  const name = cookieName(BOOKMARK_COOKIE, context.secure);
  if (readCookie(request, name) === bookmark) return null;
  return serializeCookie(name, bookmark, { secure: context.secure, maxAge: 60 * 60 * 24 });
}
