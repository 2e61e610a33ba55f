import { describe, expect, it } from "vitest";
import { sha256Hex } from "~/lib/platform/crypto.server";
import { useEmulator } from "./connections-support";
import { createApiKey as createKey, deliveriesOf, deliveringSetup, settle } from "./deliveries-support";
import { database, pageHtml, signedUpUser, appFetch } from "./helpers";

const emulator = useEmulator();

function post(body: unknown, headers: Record<string, string> = {}) {
  return appFetch("https://spokedo.test/api/v1/insights", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { Host: "spokedo.test", "Content-Type": "application/json", ...headers },
  });
}

describe("POST /api/v1/insights", () => {
  it("creates an insight for every enabled intent and answers 202 with its id and URL", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const response = await post({ title: "CPU spike", body: "api-3 at 98%" }, { Authorization: `Bearer ${key}` });
    expect(response.status).toBe(202);
    const json = await response.json<{ id: string; url: string; deliveries: number }>();
    expect(json).toMatchObject({ url: `https://spokedo.test/insights/${json.id}`, deliveries: 1 });
    await settle();
    expect((await deliveriesOf(json.id))[0]).toMatchObject({ status: "succeeded" });
  });

  it("targets intents by name or id", async () => {
    const { browser, intentId } = await deliveringSetup(emulator(), "slack");
    const key = await createKey(browser);
    for (const intents of [["slack-intent"], [intentId]]) {
      const response = await post({ title: "t", body: "b", intents }, { Authorization: `Bearer ${key}` });
      expect(response.status).toBe(202);
      await response.body?.cancel();
    }
  });

  it("stores keys hashed, shows them once and lists only a prefix", async () => {
    const { browser } = await signedUpUser();
    const key = await createKey(browser);
    const row = await database().selectFrom("api_keys").selectAll().executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(await sha256Hex(key));
    expect(JSON.stringify(row)).not.toContain(key);
    const page = await pageHtml(await browser.get("/settings/workspace"));
    expect(page).not.toContain(key);
    expect(page).toContain(`${key.slice(0, 10)}…`);
  });

  it("answers 401 for a missing, malformed, unknown or revoked key", async () => {
    const { browser } = await signedUpUser();
    const key = await createKey(browser);
    for (const authorization of [undefined, "Basic abc", "Bearer spk_unknown-key-value", `Bearer ${key}x`]) {
      const response = await post({ title: "t", body: "b" }, authorization ? { Authorization: authorization } : {});
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain("Bearer");
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const row = await database().selectFrom("api_keys").select("id").executeTakeFirstOrThrow();
    await browser.post("/settings/workspace", { intent: "revoke-key", keyId: row.id, confirmed: "yes" });
    const revoked = await post({ title: "t", body: "b" }, { Authorization: `Bearer ${key}` });
    expect(revoked.status).toBe(401);
    await revoked.body?.cancel();
  });

  it("answers 400 with a JSON error per field for bad JSON or fields", async () => {
    const { browser } = await signedUpUser();
    const auth = { Authorization: `Bearer ${await createKey(browser)}` };
    const badJson = await post("{not json", auth);
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error: { code: "invalid_json" } });

    const bad = await post({ title: "", body: 42, intents: "all", extra: true }, auth);
    expect(bad.status).toBe(400);
    const json = await bad.json<{ error: { code: string; fields: Record<string, string[]> } }>();
    expect(json.error.code).toBe("validation_failed");
    expect(Object.keys(json.error.fields).sort()).toEqual(expect.arrayContaining(["body", "intents", "title"]));
    expect(await database().selectFrom("insights").selectAll().execute()).toHaveLength(0);

    const wrongType = await post({ title: "t", body: "b" }, { ...auth, "Content-Type": "text/plain" });
    expect(wrongType.status).toBe(415);
    await wrongType.body?.cancel();
  });

  it("answers 404 for another workspace's intent and creates nothing", async () => {
    await deliveringSetup(emulator(), "github");
    const other = await signedUpUser();
    const key = await createKey(other.browser);
    const response = await post({ title: "t", body: "b", intents: ["github-intent"] }, { Authorization: `Bearer ${key}` });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "intent_not_found", intents: ["github-intent"] } });
    expect(await database().selectFrom("insights").selectAll().execute()).toHaveLength(0);
  });

  it("is exempt from the cookie CSRF guard but never reads cookies", async () => {
    const { browser } = await signedUpUser();
    const response = await post({ title: "t", body: "b" }, { Cookie: browser.cookieHeader(), Origin: "https://evil.example" });
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });

  it("insight pages are scoped to their workspace", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const { id } = await (await post({ title: "private", body: "b" }, { Authorization: `Bearer ${key}` })).json<{ id: string }>();
    const mallory = await signedUpUser();
    expect((await mallory.browser.get(`/insights/${id}`)).status).toBe(404);
    expect(await pageHtml(await mallory.browser.get("/insights"))).not.toContain("private");
  });
});

describe("Idempotency-Key on POST /api/v1/insights", () => {
  it("the same key with the same body gets the first answer again and creates nothing more", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const headers = { Authorization: `Bearer ${key}`, "Idempotency-Key": "run-42" };
    const first = await post({ title: "Disk full", body: "db-1" }, headers);
    expect(first.status).toBe(202);
    const again = await post({ title: "Disk full", body: "db-1" }, headers);
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(1);
    expect(await database().selectFrom("deliveries").select("id").execute()).toHaveLength(1);
  });

  it("the same key with another body is refused with 422, and writes nothing", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const headers = { Authorization: `Bearer ${key}`, "Idempotency-Key": "run-43" };
    expect((await post({ title: "Disk full", body: "db-1" }, headers)).status).toBe(202);
    const other = await post({ title: "Disk full", body: "db-2" }, headers);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: { code: "idempotency_key_reused" } });
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(1);
  });

  it("concurrent retries with one key create one insight and all get its answer", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const headers = { Authorization: `Bearer ${key}`, "Idempotency-Key": "burst" };
    const responses = await Promise.all(Array.from({ length: 6 }, () => post({ title: "Burst", body: "b" }, headers)));
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(202));
    const ids = new Set(await Promise.all(responses.map(async (response) => (await response.json<{ id: string }>()).id)));
    expect(ids.size).toBe(1);
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(1);
  });

  it("keys are per workspace and kept for 24 hours; without a key every request creates", async () => {
    const { browser, workspaceId } = await deliveringSetup(emulator(), "github");
    const key = await createKey(browser);
    const headers = { Authorization: `Bearer ${key}` };
    await post({ title: "A", body: "b" }, headers);
    await post({ title: "A", body: "b" }, headers);
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(2);

    const keyed = { ...headers, "Idempotency-Key": "daily" };
    await post({ title: "A", body: "b" }, keyed);
    await database()
      .updateTable("api_idempotency_keys")
      .set({ created_at: Date.now() - 25 * 3600_000 })
      .where("workspace_id", "=", workspaceId)
      .execute();
    const later = await post({ title: "A", body: "b" }, keyed);
    expect(later.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(4);
    expect((await post({ title: "A", body: "b" }, { ...headers, "Idempotency-Key": "x".repeat(300) })).status).toBe(400);
  });
});
