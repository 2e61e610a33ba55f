import { getProvider, isProviderId } from "../providers/registry";
import { randomToken } from "./crypto.server";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The only endpoints a cross-site POST may reach: the API authenticates with bearer keys only
 * and never reads cookies, so a cross-site page has no ambient credential to ride on (servers
 * calling it send no Origin at all). Anything else under /api/ is refused like any form.
 */
const BEARER_ENDPOINTS = [/^\/api\/v1\/insights$/];

/**
 * POST /webhooks/<provider>, for the providers that push revocations: each delivery is verified
 * by the provider's signature, the receiver never reads cookies, and providers send no Origin.
 */
function isProviderWebhook(method: string, path: string) {
  const id = /^\/webhooks\/([a-z][a-z0-9-]{1,30})$/.exec(path)?.[1];
  return method === "POST" && isProviderId(id) && getProvider(id).revocationWebhook !== undefined;
}

/**
 * CSRF defence without tokens, so plain HTML forms keep working with JavaScript off:
 * browsers send Sec-Fetch-Site on every request; older ones at least send Origin on POST.
 * Same-site (a sibling subdomain) is refused too: only our own origin may change state.
 */
export function rejectCrossSiteRequest(request: Request): Response | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const path = new URL(request.url).pathname;
  if (BEARER_ENDPOINTS.some((pattern) => pattern.test(path))) return null;
  if (isProviderWebhook(request.method, path)) return null;
  const site = request.headers.get("Sec-Fetch-Site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return null;
    return forbidden();
  }
  const origin = request.headers.get("Origin");
  if (origin !== null && origin === new URL(request.url).origin) return null;
  return forbidden();
}

function forbidden() {
  return new Response("Forbidden: cross-site requests cannot change anything here.", {
    status: 403,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}

export function createCspNonce(): string {
  return randomToken(16);
}

function contentSecurityPolicy(nonce: string, formActionOrigins: string[] = []): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    // Starting an authorization POSTs here and is redirected to the provider's consent page,
    // which form-action also governs.
    ["form-action 'self'", ...formActionOrigins].join(" "),
  ].join("; ");
}

/** Headers every dynamic response carries. */
export function applySecurityHeaders(response: Response, options: { nonce: string; secure: boolean; formActionOrigins?: string[] }) {
  const headers = response.headers;
  headers.set("Content-Security-Policy", contentSecurityPolicy(options.nonce, options.formActionOrigins));
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("X-Frame-Options", "DENY");
  if (!headers.has("Referrer-Policy")) headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
  if (options.secure) headers.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  return response;
}
