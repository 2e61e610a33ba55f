import { json } from "@remix-run/cloudflare";

/** The JSON API's answers: errors as `{ error: { code, message, … } }`, never cached. */
export function apiError(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: HeadersInit = {}) {
  return json({ error: { code, message, ...extra } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export function apiJson(body: unknown, init: { status?: number; headers?: HeadersInit } = {}) {
  return json(body, { status: init.status ?? 200, headers: { "Cache-Control": "no-store", ...init.headers } });
}

/** 401 with the Bearer challenge: a missing, unknown or revoked key. */
export function apiUnauthorized() {
  return apiError(
    401,
    "unauthorized",
    "Send a valid workspace API key as `Authorization: Bearer <key>`.",
    {},
    {
      "WWW-Authenticate": 'Bearer realm="SpokeDo"',
    },
  );
}

/** An opaque cursor for keyset pagination (base64url of a JSON value); null when it is not one of ours. */
export function encodeCursor(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeCursor(cursor: string): unknown {
  if (cursor.length > 512 || !/^[\w-]+$/.test(cursor)) return null;
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
  } catch {
    return null;
  }
}
