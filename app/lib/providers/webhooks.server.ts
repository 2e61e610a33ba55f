import type { WebhookEvent, WebhookReading } from "./types";

/** Building blocks for the revocation webhooks providers sign (see each module's `revocationWebhook`). */

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(parts.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Whether `signatureHex` is the HMAC-SHA256 of `message` under `secret`. WebCrypto's verify
 * compares in constant time: how long a refusal takes says nothing about how much of a forged
 * signature was right.
 */
export async function hmacSha256Matches(secret: string, message: Uint8Array<ArrayBuffer>, signatureHex: string): Promise<boolean> {
  const signature = hexBytes(signatureHex.trim());
  if (!signature || signature.byteLength !== 32) return false;
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", key, signature, message);
}

/** Within `windowMs` of now, either way (a sender's clock may run a little ahead of ours). */
export function isFresh(sentAt: number, now: number, windowMs: number): boolean {
  return Number.isFinite(sentAt) && Math.abs(now - sentAt) <= windowMs;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body as a JSON object, or null when it is not UTF-8 JSON with an object at the top. */
export function readJsonObject(body: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(body));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function accepted(event: WebhookEvent): WebhookReading {
  return { ok: true, event };
}

/** Unsigned, mis-signed, stale or otherwise not provably from the provider: 401. */
export function refused(code: string, message: string): WebhookReading {
  return { ok: false, problem: "unauthorized", code, message };
}

/** Signed by the provider but not what it documents: 400. */
export function malformed(code: string, message: string): WebhookReading {
  return { ok: false, problem: "malformed", code, message };
}
