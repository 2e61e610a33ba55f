import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerProvider } from "~/lib/providers/registry";
import { createGenericOAuth2Part, submitConsent } from "../../emulator";
import { connectionRow, returnToApp, startConnect, storedTokens, useEmulator } from "../connections-support";
import { settle } from "../deliveries-support";
import { database, pageHtml, signedUpUser } from "../helpers";
import { acme } from "./acme";

const emulator = useEmulator();

/**
 * "Adding a provider is one module and one registry line (and its emulator part)": the Acme
 * module next to this file, registered here, is taken through the whole product with no other
 * change to the app — its settings come from the env names it declares (vitest.config.ts), its
 * OAuth flow, pages, deliveries and revocation from the shared machinery.
 */
describe("a sixth provider", () => {
  let unregister: (() => void) | undefined;
  beforeEach(() => {
    unregister = registerProvider(acme);
    emulator().registerProvider(
      createGenericOAuth2Part({ id: "acme", label: "Acme", clientId: "emu-acme-client", clientSecret: "emu-acme-secret" }),
    );
  });
  // Test files share modules (decision 029): the other files see the five providers only.
  afterEach(() => unregister?.());

  it("connects, is configured, delivers and is revoked like the five built in", async () => {
    const { browser } = await signedUpUser();

    // Offered on the new-connection page, configured from the env names the module declares.
    const offered = await pageHtml(await browser.get("/integration-connections/new"));
    expect(offered).toContain("File items in an Acme project.");
    expect(offered).toMatch(/<input[^>]*value="acme"(?![^>]*disabled)[^>]*>/);

    // Connect: the generic flow sends PKCE S256 and the declared scopes, then reads the identity.
    const authorizeUrl = new URL(await startConnect(browser, "acme", "acme-main"));
    expect(authorizeUrl.pathname).toBe("/acme/oauth/authorize");
    expect(authorizeUrl.searchParams.get("scope")).toBe("profile items:write");
    expect(authorizeUrl.searchParams.get("code_challenge_method")).toBe("S256");
    const callback = await submitConsent(emulator(), authorizeUrl.toString());
    const returned = await returnToApp(browser, callback);
    const id = /^\/integration-connections\/([0-9a-f-]{36})$/.exec(returned.headers.get("Location") ?? "")?.[1];
    expect(id).toBeDefined();
    const row = await connectionRow(id!);
    expect(row).toMatchObject({
      provider: "acme",
      name: "acme-main",
      status: "active",
      account_id: "acct-1",
      account_label: "Ada Example",
    });
    expect((await storedTokens(row)).refreshToken).toBeTruthy();

    // Configure: its config schema validates on the connection page.
    const page = `/integration-connections/${id}`;
    expect((await browser.post(`${page}/settings`, { intent: "save", name: "acme-main", "config.project": "Not A Slug" })).status).toBe(
      400,
    );
    expect((await browser.post(`${page}/settings`, { intent: "save", name: "acme-main", "config.project": "ops" })).status).toBe(303);
    const detail = await pageHtml(await browser.get(page));
    expect(detail).toContain("Default project");
    expect(detail).toContain("Ada Example");

    // Deliver: an intent on it, an insight through it.
    const intent = await browser.post("/intents/new", { name: "acme-intent", connectionId: id!, enabled: "on" });
    expect(intent.status).toBe(303);
    const insight = await browser.post("/insights/new", { title: "Disk almost full", body: "db-1 is at 93%." });
    expect(insight.status).toBe(303);
    await settle();
    const delivered = emulator().requestsTo("acme", "deliver");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.status).toBe(201);
    expect(JSON.parse(delivered[0]!.body)).toEqual({ title: "[ops] Disk almost full", body: "db-1 is at 93%." });
    const insightId = insight.headers.get("Location")!.split("/").pop()!;
    const log = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(log).toContain("Open in Acme");

    // Revoke: deleting it (once its intent is gone) revokes both tokens at the provider.
    await database().deleteFrom("intents").where("name", "=", "acme-intent").execute();
    const deleted = await browser.post(`${page}/delete`, {});
    expect(deleted.status).toBe(303);
    expect(emulator().requestsTo("acme", "revoke")).toHaveLength(2);
    expect(
      emulator()
        .tokens("acme")
        .every((token) => token.revoked),
    ).toBe(true);
    expect(await database().selectFrom("connections").select("id").where("id", "=", id!).executeTakeFirst()).toBeUndefined();
  });

  it("refreshes its rotating tokens under the shared lease", async () => {
    const { browser } = await signedUpUser();
    const authorizeUrl = await startConnect(browser, "acme", "acme-main");
    const returned = await returnToApp(browser, await submitConsent(emulator(), authorizeUrl));
    const id = returned.headers.get("Location")!.split("/").pop()!;
    await database()
      .updateTable("connections")
      .set({ access_token_expires_at: Date.now() - 1000 })
      .where("id", "=", id)
      .execute();
    const before = await connectionRow(id);
    const tested = await browser.post(`/integration-connections/${id}`, { intent: "test" });
    expect(tested.status).toBe(303);
    const after = await connectionRow(id);
    expect(after.status).toBe("active");
    expect(after.token_version).toBe(before.token_version + 1);
    expect(emulator().requestsTo("acme", "refresh")).toHaveLength(1);
  });
});
