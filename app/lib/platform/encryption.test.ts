import { describe, expect, it, vi } from "vitest";
import { fromBase64Url } from "./crypto.server";
import {
  TokenCryptoError,
  decryptToken,
  encryptToken,
  envelopeKeyId,
  generateKeyMaterial,
  loadKeyRing,
  parseKeyRingSecret,
  reencryptToken,
} from "./encryption.server";

const binding = { workspaceId: "ws-1", recordId: "conn-1", field: "access_token" };
const k1 = generateKeyMaterial();
const k2 = generateKeyMaterial();

describe("token encryption", () => {
  it("round-trips and never contains the plaintext", async () => {
    const ring = await loadKeyRing(`k1:${k1}`, "k1");
    const envelope = await encryptToken(ring, "gho_supersecrettoken1234567890", binding);
    expect(envelope).toMatch(/^v1\.k1\.[\w-]{16}\.[\w-]+$/);
    expect(envelope).not.toContain("supersecret");
    expect(await decryptToken(ring, envelope, binding)).toBe("gho_supersecrettoken1234567890");
  });

  it("uses a fresh 96-bit IV: the same plaintext encrypts differently every time", async () => {
    const ring = await loadKeyRing(`k1:${k1}`, "k1");
    const a = await encryptToken(ring, "same", binding);
    const b = await encryptToken(ring, "same", binding);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
    expect(fromBase64Url(a.split(".")[2]!).byteLength).toBe(12);
  });

  it.each([
    ["another row", { ...binding, recordId: "conn-2" }],
    ["another field", { ...binding, field: "refresh_token" }],
    ["another workspace", { ...binding, workspaceId: "ws-2" }],
  ])("fails when the ciphertext is moved to %s", async (_, moved) => {
    const ring = await loadKeyRing(`k1:${k1}`, "k1");
    const envelope = await encryptToken(ring, "token", binding);
    await expect(decryptToken(ring, envelope, moved)).rejects.toThrow(TokenCryptoError);
  });

  it("fails closed on an unknown key, a missing prefix or a tampered tag", async () => {
    const ring = await loadKeyRing(`k1:${k1}`, "k1");
    const envelope = await encryptToken(ring, "token", binding);
    await expect(decryptToken(ring, envelope.replace("v1.k1.", "v1.k9."), binding)).rejects.toThrow(/Unknown encryption key/);
    await expect(decryptToken(ring, envelope.replace(/^v1\./, ""), binding)).rejects.toThrow(TokenCryptoError);
    await expect(decryptToken(ring, "token", binding)).rejects.toThrow(TokenCryptoError);
    const last = envelope.at(-2) === "A" ? "B" : "A";
    await expect(decryptToken(ring, `${envelope.slice(0, -2)}${last}${envelope.at(-1)}`, binding)).rejects.toThrow(TokenCryptoError);
  });

  it("keeps decrypting key-1 rows after key 2 becomes primary, and re-encrypts them idempotently", async () => {
    const old = await loadKeyRing(`k1:${k1}`, "k1");
    const envelope = await encryptToken(old, "token", binding);
    const rotated = await loadKeyRing(`k1:${k1},k2:${k2}`, "k2");
    expect(await decryptToken(rotated, envelope, binding)).toBe("token");
    const moved = await reencryptToken(rotated, envelope, binding);
    expect(envelopeKeyId(moved!)).toBe("k2");
    expect(await decryptToken(rotated, moved!, binding)).toBe("token");
    expect(await reencryptToken(rotated, moved!, binding)).toBeNull();
  });

  it("decrypts a recently opened envelope once, and a cached value answers only what decrypting would", async () => {
    const ring = await loadKeyRing(`k1:${k1}`, "k1");
    const envelope = await encryptToken(ring, "cached-token", binding);
    const decrypt = vi.spyOn(crypto.subtle, "decrypt");
    try {
      expect(await decryptToken(ring, envelope, binding)).toBe("cached-token");
      expect(await decryptToken(ring, envelope, binding)).toBe("cached-token");
      expect(decrypt).toHaveBeenCalledTimes(1);
      // Another binding or another ring is never answered from the cache.
      await expect(decryptToken(ring, envelope, { ...binding, recordId: "conn-2" })).rejects.toThrow(TokenCryptoError);
      const other = await loadKeyRing(`k2:${k2}`, "k2");
      await expect(decryptToken(other, envelope, binding)).rejects.toThrow(/Unknown encryption key/);
      // Bounded: after 300 other envelopes the first one is decrypted again.
      for (let i = 0; i < 300; i++) {
        const b = { ...binding, recordId: `conn-${i}` };
        await decryptToken(ring, await encryptToken(ring, `t${i}`, b), b);
      }
      decrypt.mockClear();
      expect(await decryptToken(ring, envelope, binding)).toBe("cached-token");
      expect(decrypt).toHaveBeenCalledTimes(1);
    } finally {
      decrypt.mockRestore();
    }
  });

  it("rejects malformed key rings", () => {
    expect(() => parseKeyRingSecret("")).toThrow(/no key/);
    expect(() => parseKeyRingSecret("k1:AAAA")).toThrow(/32 bytes/);
    expect(() => parseKeyRingSecret("k1:not*base64")).toThrow(/base64url/);
    expect(() => parseKeyRingSecret(`k.1:${k1}`)).toThrow(TokenCryptoError);
    expect(() => parseKeyRingSecret(`k1:${k1},k1:${k2}`)).toThrow(/twice/);
  });

  it("refuses a primary key id that is not in the ring", async () => {
    await expect(loadKeyRing(`k1:${k1}`, "k2")).rejects.toThrow(/not in the key ring/);
  });
});
