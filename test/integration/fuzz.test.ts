import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connect, useEmulator } from "./connections-support";
import { Browser, countRows, database, signedUpUser } from "./helpers";

const emulator = useEmulator();

/** Field values a hostile or broken client might send: any text, huge text, control characters, lookalikes. */
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "x".repeat(5000),
    "github",
    "owner",
    "save",
    "test",
  ),
);
const form = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: keys.length });

// Dozens of full requests per property: far beyond vitest's 5-second default on a loaded 2-core CI.
const FUZZ_TIMEOUT_MS = 60_000;

const ACCEPTABLE = new Set([200, 302, 303, 400, 403, 404, 413, 429]);

async function snapshot() {
  const db = database();
  return {
    users: await countRows("users"),
    workspaces: await db.selectFrom("workspaces").select(["id", "name"]).orderBy("id").execute(),
    memberships: await countRows("memberships"),
    connections: await db
      .selectFrom("connections")
      .select(["id", "name", "config_json", "status", "access_token_ct"])
      .orderBy("id")
      .execute(),
    flows: await countRows("oauth_flows" as never),
  };
}

describe("every form survives arbitrary input: no 500, no write on invalid input", () => {
  it(
    "sign up and sign in",
    async () => {
      await fc.assert(
        fc.asyncProperty(form(["email", "password", "workspaceName", "redirectTo"]), async (fields) => {
          for (const path of ["/signup", "/login"]) {
            const response = await new Browser().post(path, fields, { "CF-Connecting-IP": "198.51.100.77" });
            expect(ACCEPTABLE.has(response.status), `${path} ${response.status}`).toBe(true);
            await response.body?.cancel();
          }
        }),
        { numRuns: 40 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "workspace settings, switcher and new workspace",
    async () => {
      const { browser } = await signedUpUser();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("/settings/workspace", "/workspaces/switch", "/workspaces/new"),
          form(["intent", "name", "email", "role", "userId", "workspaceId", "redirectTo"]),
          async (path, fields) => {
            const response = await browser.post(path, fields);
            expect(ACCEPTABLE.has(response.status), `${path} ${response.status}`).toBe(true);
            await response.body?.cancel();
          },
        ),
        { numRuns: 60 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "new connection and connection detail actions",
    async () => {
      const { browser } = await signedUpUser();
      const { id } = await connect(browser, emulator(), "notion", "notion-main");
      const fields = [
        "intent",
        "provider",
        "name",
        "config.databaseId",
        "config.propertyMappings[0].key",
        "config.propertyMappings[0].value",
        "config.repository",
        "config.labels",
      ];
      await fc.assert(
        fc.asyncProperty(form(fields), async (input) => {
          // Only valid submissions may write: each invalid one (400) must leave everything as it was
          // just before it (a valid submission to the other path may legitimately write).
          for (const path of ["/integration-connections/new", `/integration-connections/${id}/settings`]) {
            const before = await snapshot();
            const payload = {
              ...input,
              intent: input.intent === "test" || input.intent === "reauthorize" ? "save" : (input.intent ?? "save"),
            };
            const response = await browser.post(path, payload);
            expect(ACCEPTABLE.has(response.status), `${path} ${response.status}`).toBe(true);
            await response.body?.cancel();
            if (response.status === 400) expect(await snapshot()).toEqual(before);
          }
        }),
        { numRuns: 60 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "index filters",
    async () => {
      const { browser } = await signedUpUser();
      await fc.assert(
        fc.asyncProperty(form(["provider", "status", "q", "unused", "sort", "page"]), async (params) => {
          const response = await browser.get(`/integration-connections?${new URLSearchParams(params)}`);
          expect([200, 302]).toContain(response.status);
          await response.body?.cancel();
        }),
        { numRuns: 60 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
