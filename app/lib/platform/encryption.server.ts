import { fromBase64Url, randomBytes, toBase64Url } from "./crypto.server";

/**
 * Envelope encryption for provider tokens: AES-256-GCM with a fresh 96-bit IV per encryption,
 * additional authenticated data binding the ciphertext to its workspace, record and field, and
 * an envelope that names its key: `v1.<key id>.<iv>.<ciphertext>`. Anything unexpected fails
 * closed: there is no plaintext fallback.
 */

const VERSION = "v1";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class TokenCryptoError extends Error {
  override name = "TokenCryptoError";
}

export interface KeyRing {
  primaryKeyId: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

export interface TokenBinding {
  workspaceId: string;
  /** The row the ciphertext belongs to (connection id, OAuth flow id…). */
  recordId: string;
  field: string;
}

/** Parses `id:base64url,id:base64url` (each key 32 bytes) into raw key material. */
export function parseKeyRingSecret(secret: string): Map<string, Uint8Array<ArrayBuffer>> {
  const material = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const entry of secret
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [id, encoded, ...rest] = entry.split(":");
    if (!id || !encoded || rest.length > 0 || !KEY_ID.test(id)) {
      throw new TokenCryptoError("TOKEN_ENCRYPTION_KEYS must look like `keyid:base64url,keyid:base64url`.");
    }
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = fromBase64Url(encoded);
    } catch {
      throw new TokenCryptoError(`Encryption key ${id} is not valid base64url.`);
    }
    if (bytes.byteLength !== 32) throw new TokenCryptoError(`Encryption key ${id} must be 32 bytes (AES-256).`);
    if (material.has(id)) throw new TokenCryptoError(`Encryption key ${id} appears twice.`);
    material.set(id, bytes);
  }
  if (material.size === 0) throw new TokenCryptoError("TOKEN_ENCRYPTION_KEYS holds no key.");
  return material;
}

// CryptoKeys are imported once per isolate, not per request.
const ringCache = new Map<string, Promise<KeyRing>>();

export function loadKeyRing(secret: string, primaryKeyId: string): Promise<KeyRing> {
  const cacheKey = `${primaryKeyId}\u0000${secret}`;
  let ring = ringCache.get(cacheKey);
  if (!ring) {
    ring = importKeyRing(secret, primaryKeyId);
    ringCache.set(cacheKey, ring);
    ring.catch(() => ringCache.delete(cacheKey));
  }
  return ring;
}

async function importKeyRing(secret: string, primaryKeyId: string): Promise<KeyRing> {
  const material = parseKeyRingSecret(secret);
  if (!material.has(primaryKeyId)) {
    throw new TokenCryptoError(`TOKEN_ENCRYPTION_PRIMARY_KEY_ID names ${primaryKeyId}, which is not in the key ring.`);
  }
  const keys = new Map<string, CryptoKey>();
  for (const [id, bytes] of material) {
    keys.set(id, await crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
  }
  return { primaryKeyId, keys };
}

function additionalData(binding: TokenBinding) {
  return encoder.encode(`spokedo:${VERSION}|${binding.workspaceId}|${binding.recordId}|${binding.field}`);
}

export async function encryptToken(ring: KeyRing, plaintext: string, binding: TokenBinding): Promise<string> {
  const key = ring.keys.get(ring.primaryKeyId);
  if (!key) throw new TokenCryptoError("The primary encryption key is missing.");
  const iv = randomBytes(12);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(binding) },
    key,
    encoder.encode(plaintext),
  );
  return [VERSION, ring.primaryKeyId, toBase64Url(iv), toBase64Url(new Uint8Array(ciphertext))].join(".");
}

export function envelopeKeyId(envelope: string): string | null {
  const parts = envelope.split(".");
  return parts.length === 4 && parts[0] === VERSION ? (parts[1] ?? null) : null;
}

/**
 * Recently decrypted tokens, per key ring: every delivery through a connection would otherwise
 * decrypt the same envelope again (tens of microseconds each, a few percent of a delivery). An
 * entry is keyed by the exact envelope and its binding, so it answers only what decrypting would
 * answer; a rotated or re-encrypted token has a new envelope and misses. Bounded in size and age,
 * held in this isolate's memory only (never stored, logged or sent anywhere).
 * See docs/decisions/014-decrypted-token-cache.md.
 */
const DECRYPTED_MAX = 256;
const DECRYPTED_TTL_MS = 5 * 60_000;
type DecryptedCache = Map<string, { plaintext: string; at: number }>;
const decrypted = new WeakMap<KeyRing, DecryptedCache>();

export async function decryptToken(ring: KeyRing, envelope: string, binding: TokenBinding): Promise<string> {
  let cache = decrypted.get(ring);
  if (!cache) {
    cache = new Map() as DecryptedCache;
    decrypted.set(ring, cache);
  }
  const cacheKey = `${binding.workspaceId}|${binding.recordId}|${binding.field}|${envelope}`;
  const now = performance.now();
  const hit = cache.get(cacheKey);
  if (hit) {
    cache.delete(cacheKey);
    if (now - hit.at < DECRYPTED_TTL_MS) {
      cache.set(cacheKey, hit);
      return hit.plaintext;
    }
  }
  const plaintext = await decryptEnvelope(ring, envelope, binding);
  cache.set(cacheKey, { plaintext, at: now });
  if (cache.size > DECRYPTED_MAX) cache.delete(cache.keys().next().value!);
  return plaintext;
}

async function decryptEnvelope(ring: KeyRing, envelope: string, binding: TokenBinding): Promise<string> {
  const parts = envelope.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) throw new TokenCryptoError("Not a SpokeDo token envelope.");
  const [, keyId, iv, ciphertext] = parts as [string, string, string, string];
  const key = ring.keys.get(keyId);
  if (!key) throw new TokenCryptoError(`Unknown encryption key ${keyId}.`);
  try {
    const ivBytes = fromBase64Url(iv);
    if (ivBytes.byteLength !== 12) throw new Error("bad iv");
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: ivBytes, additionalData: additionalData(binding) },
      key,
      fromBase64Url(ciphertext),
    );
    return decoder.decode(plaintext);
  } catch {
    // Wrong row, wrong field, tampered bytes or wrong key: all look the same from outside.
    throw new TokenCryptoError("A stored token could not be decrypted.");
  }
}

/** Re-encrypts under the primary key; null when the envelope already uses it. */
export async function reencryptToken(ring: KeyRing, envelope: string, binding: TokenBinding): Promise<string | null> {
  if (envelopeKeyId(envelope) === ring.primaryKeyId) return null;
  return encryptToken(ring, await decryptToken(ring, envelope, binding), binding);
}

/** A fresh random key, formatted for TOKEN_ENCRYPTION_KEYS. */
export function generateKeyMaterial(): string {
  return toBase64Url(randomBytes(32));
}
