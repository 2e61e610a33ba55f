import { redirect } from "@remix-run/cloudflare";
import type { RequestContext } from "./context.server";
import { cookieName, readCookie, serializeCookie } from "./cookies.server";

/**
 * One-shot messages that survive a redirect (POST → redirect → GET), for JS-off users too.
 * They carry only wording shown to the user, never secrets.
 */
export interface Flash {
  type: "success" | "error" | "info";
  message: string;
}

const FLASH_COOKIE = "spokedo_flash";

function flashCookie(context: Pick<RequestContext, "secure">, flash: Flash): string {
  return serializeCookie(cookieName(FLASH_COOKIE, context.secure), JSON.stringify(flash), { secure: context.secure, maxAge: 120 });
}

export function readFlash(context: RequestContext, request: Request): Flash | null {
  const name = cookieName(FLASH_COOKIE, context.secure);
  const raw = readCookie(request, name);
  if (!raw) return null;
  context.responseCookies.push(serializeCookie(name, "", { secure: context.secure, maxAge: 0 }));
  try {
    const value = JSON.parse(raw) as Flash;
    if (!["success", "error", "info"].includes(value.type) || typeof value.message !== "string") return null;
    return { type: value.type, message: value.message.slice(0, 600) };
  } catch {
    return null;
  }
}

/**
 * POST → redirect → GET with a one-shot message for the page it lands on. Extra headers (the
 * OAuth callback's no-referrer, for example) ride along.
 */
export function redirectWithFlash(context: Pick<RequestContext, "secure">, location: string, flash: Flash, headers: HeadersInit = {}) {
  const responseHeaders = new Headers(headers);
  responseHeaders.append("Set-Cookie", flashCookie(context, flash));
  return redirect(location, { status: 303, headers: responseHeaders });
}
