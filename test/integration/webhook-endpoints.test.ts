import { env } from "cloudflare:workers";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { decryptToken, loadKeyRing } from "~/lib/platform/encryption.server";
import { createEndpoint, MAX_ENDPOINTS_PER_WORKSPACE, reencryptSigningSecrets } from "~/lib/webhooks/endpoints.server";
import { Browser, database, pageHtml, signedUpUser, uniqueEmail } from "./helpers";
import { RECEIVER_URL } from "./webhook-receiver";
import { createEndpointThroughForm, endpointFor, webhookDeps } from "./webhooks-support";

function endpointRow(id: string) {
  return database().selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

describe("webhook endpoints in workspace settings", () => {
  it("an owner creates one through the form: the Standard Webhooks secret is shown once and stored only encrypted", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const created = await createEndpointThroughForm(browser, { description: "Ops alerts" });
    expect(created.response.status).toBe(200);
    expect(created.response.headers.get("Cache-Control")).toBe("no-store");
    expect(created.html).toContain("it will not be shown again");
    const secret = created.secret!;
    // whsec_ + base64 of 32 random bytes, usable as is by the standardwebhooks library.
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice("whsec_".length))).toHaveLength(32);
    expect(() => new Webhook(secret)).not.toThrow();

    const row = await endpointRow(created.id!);
    expect(row).toMatchObject({ workspace_id: workspaceId, url: RECEIVER_URL, description: "Ops alerts", enabled: 1 });
    expect(JSON.parse(row.events)).toEqual([
      "connection.status_changed",
      "connection.recovered",
      "connection.health_failed",
      "delivery.failed",
    ]);
    expect(row.secret_ct).not.toContain(secret.slice(6, 20));
    const ring = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
    expect(await decryptToken(ring, row.secret_ct, { workspaceId, recordId: row.id, field: "webhook_secret" })).toBe(secret);
    // Bound to its row: the same ciphertext does not open as another endpoint's secret.
    await expect(
      decryptToken(ring, row.secret_ct, { workspaceId, recordId: crypto.randomUUID(), field: "webhook_secret" }),
    ).rejects.toThrow();

    // Never shown again: not on the endpoint's page, not in settings.
    for (const path of [`/settings/workspace/webhooks/${row.id}`, "/settings/workspace"]) {
      const page = await browser.get(path);
      expect(page.status).toBe(200);
      const html = await pageHtml(page);
      expect(html).toContain(RECEIVER_URL);
      expect(html).not.toContain(secret);
      expect(html).not.toContain("whsec_");
    }
  });

  it("the settings page that shows a new API key once is not cached either", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.post("/settings/workspace", { intent: "create-key", keyName: "ci" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    await response.body?.cancel();
  });

  it("invalid input gets a 400 with the message next to its field, never a 500, and writes nothing", async () => {
    const { browser } = await signedUpUser();
    const cases: [Parameters<typeof createEndpointThroughForm>[1], string][] = [
      [{ url: "" }, "Enter the endpoint&#x27;s URL."],
      [{ url: "not a url" }, "Enter an absolute URL"],
      [{ events: [] }, "Choose at least one event."],
      [{ events: ["connection.deleted"] }, "Choose events from the list."],
      [{ url: "http://hooks.example.com/x" }, "Use an https:// URL"],
      [{ url: "ftp://hooks.example.com/x" }, "Use an https:// URL."],
      [{ url: `https://example.com/${"a".repeat(2100)}` }, "at most 2000 characters"],
    ];
    for (const [fields, message] of cases) {
      const created = await createEndpointThroughForm(browser, fields);
      expect(created.response.status, message).toBe(400);
      expect(created.html).toContain(message);
      expect(created.html).toMatch(/class="field field--invalid"|class="field-errors"/);
      expect(created.secret).toBeUndefined();
    }
    expect(await database().selectFrom("webhook_endpoints").selectAll().execute()).toHaveLength(0);
  });

  it("refuses URLs that are not public HTTPS in production (SSRF), next to the URL field", async () => {
    const { browser } = await signedUpUser();
    const refused: [string, string][] = [
      ["https://localhost/hook", "localhost is not a public host name"],
      ["https://127.0.0.1/hook", "loopback"],
      ["https://0x7f.1/hook", "loopback"],
      ["https://2130706433/hook", "loopback"],
      ["https://10.1.2.3/hook", "private (10.0.0.0/8)"],
      ["https://172.20.0.1/hook", "private (172.16.0.0/12)"],
      ["https://192.168.1.10/hook", "private (192.168.0.0/16)"],
      ["https://169.254.169.254/latest/meta-data", "link-local"],
      ["https://100.64.0.1/hook", "carrier-grade NAT"],
      ["https://[::1]/hook", "loopback"],
      ["https://[fd12:3456::1]/hook", "unique-local"],
      ["https://[fe80::1]/hook", "link-local"],
      ["https://[::ffff:127.0.0.1]/hook", "IPv4-mapped"],
      ["https://[::ffff:8.8.8.8]/hook", "IPv4-mapped"],
      ["https://metadata.google.internal/hook", "not a public host name"],
      ["https://printer.local/hook", "not a public host name"],
      ["https://intranet/hook", "not a public host name"],
      ["https://user:secret@hooks.example.com/hook", "Leave the user name and password out"],
    ];
    for (const [url, message] of refused) {
      const created = await createEndpointThroughForm(browser, { url });
      expect(created.response.status, url).toBe(400);
      const urlField = created.html.slice(created.html.indexOf('name="url"'));
      expect(urlField.slice(0, 1500), url).toContain(message);
    }
    expect(await database().selectFrom("webhook_endpoints").selectAll().execute()).toHaveLength(0);
  });

  it("edits and deletes an endpoint through its page (JavaScript off: POST, redirect, GET)", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { id } = await endpointFor(browser);
    const saved = await browser.post(`/settings/workspace/webhooks/${id}`, [
      ["intent", "save"],
      ["url", "https://hooks.example.com/v2"],
      ["description", ""],
      ["events", "delivery.failed"],
    ]);
    expect(saved.status).toBe(303);
    expect(saved.headers.get("Location")).toBe(`/settings/workspace/webhooks/${id}`);
    expect(await endpointRow(id)).toMatchObject({
      url: "https://hooks.example.com/v2",
      description: "",
      enabled: 0,
      events: '["delivery.failed"]',
    });
    const page = await pageHtml(await browser.get(`/settings/workspace/webhooks/${id}`));
    expect(page).toContain("Endpoint saved.");
    expect(page).toContain("Disabled");

    const invalid = await browser.post(`/settings/workspace/webhooks/${id}`, [
      ["intent", "save"],
      ["url", "https://192.168.0.1/"],
      ["events", "delivery.failed"],
    ]);
    expect(invalid.status).toBe(400);
    expect(await pageHtml(invalid)).toContain("private (192.168.0.0/16)");

    const deleted = await browser.post(`/settings/workspace/webhooks/${id}`, { intent: "delete" });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("Location")).toBe("/settings/workspace");
    expect(await pageHtml(await browser.get("/settings/workspace"))).toContain(
      "Deleted the webhook endpoint https://hooks.example.com/v2.",
    );
    expect(await database().selectFrom("webhook_endpoints").selectAll().where("workspace_id", "=", workspaceId).execute()).toHaveLength(0);
    expect((await browser.get(`/settings/workspace/webhooks/${id}`)).status).toBe(404);
  });

  it("only owners and admins manage endpoints; other workspaces' endpoints are a 404; cross-site posts are refused", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const { id } = await endpointFor(alice.browser);
    const bob = await signedUpUser({ email: uniqueEmail("bob"), workspaceName: "Bob's" });
    expect((await alice.browser.post("/settings/workspace", { intent: "add-member", email: bob.email, role: "member" })).status).toBe(303);
    await bob.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId, redirectTo: "/settings/workspace" });

    const settings = await pageHtml(await bob.browser.get("/settings/workspace"));
    expect(settings).toContain("Owners and admins manage the workspace");
    expect(settings).not.toContain(RECEIVER_URL);
    expect((await bob.browser.get(`/settings/workspace/webhooks/${id}`)).status).toBe(403);
    expect((await bob.browser.get("/settings/workspace/webhooks/new")).status).toBe(403);
    expect((await bob.browser.post(`/settings/workspace/webhooks/${id}`, { intent: "delete" })).status).toBe(403);
    expect((await createEndpointThroughForm(bob.browser)).response.status).toBe(403);

    const mallory = await signedUpUser({ email: uniqueEmail("mallory") });
    expect((await mallory.browser.get(`/settings/workspace/webhooks/${id}`)).status).toBe(404);
    expect((await mallory.browser.post(`/settings/workspace/webhooks/${id}`, { intent: "test" })).status).toBe(404);

    const crossSite = await alice.browser.post(
      `/settings/workspace/webhooks/${id}`,
      { intent: "delete" },
      { "Sec-Fetch-Site": "cross-site" },
    );
    expect(crossSite.status).toBe(403);
    expect(await endpointRow(id)).toBeTruthy();
  });

  it(`a workspace holds at most ${MAX_ENDPOINTS_PER_WORKSPACE} endpoints`, async () => {
    const { browser, workspaceId, user } = await signedUpUser();
    const deps = await webhookDeps();
    for (let i = 0; i < MAX_ENDPOINTS_PER_WORKSPACE; i++) {
      const created = await createEndpoint(
        deps,
        { workspaceId, userId: user.id },
        { url: `https://hooks.example.com/${i}`, description: "", events: ["delivery.failed"], enabled: true },
      );
      expect(created.ok).toBe(true);
    }
    const refused = await createEndpointThroughForm(browser);
    expect(refused.response.status).toBe(400);
    expect(refused.html).toContain("the most it can have");
    expect(await pageHtml(await browser.get("/settings/workspace"))).not.toContain("Add an endpoint");
  });

  it("key rotation moves signing secrets onto the primary key", async () => {
    const { workspaceId, user } = await signedUpUser();
    const primary = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
    const older = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, "test1");
    const deps = await webhookDeps({ ring: older });
    const created = await createEndpoint(
      deps,
      { workspaceId, userId: user.id },
      { url: RECEIVER_URL, description: "", events: ["delivery.failed"], enabled: true },
    );
    expect(created.ok).toBe(true);
    const id = created.ok ? created.id : "";
    expect((await endpointRow(id)).secret_key_id).toBe("test1");
    expect(await reencryptSigningSecrets(database(), primary)).toEqual({ moved: 1 });
    const row = await endpointRow(id);
    expect(row.secret_key_id).toBe("test2");
    expect(await decryptToken(primary, row.secret_ct, { workspaceId, recordId: id, field: "webhook_secret" })).toBe(created.secret);
    expect(await reencryptSigningSecrets(database(), primary)).toEqual({ moved: 0 });
  });

  it("the endpoint forms survive arbitrary input: no 500, and nothing but a valid endpoint is written", async () => {
    const { browser } = await signedUpUser();
    const { id } = await endpointFor(browser);
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom("", "\u0000", "https://", "https://[::1", "https://ex ample.com", "delivery.failed", "on", "x".repeat(5000)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("url", "description", "events", "enabled", "intent", "deliveryId"), value), { maxLength: 8 }),
        async (pairs) => {
          for (const path of ["/settings/workspace/webhooks/new", `/settings/workspace/webhooks/${id}`]) {
            const response = await browser.post(path, pairs);
            expect([200, 303, 400, 404], `${path} ${response.status}`).toContain(response.status);
            await response.body?.cancel();
          }
        },
      ),
      { numRuns: 15 },
    );
    for (const row of await database().selectFrom("webhook_endpoints").select(["url", "events"]).execute()) {
      expect(row.url).toMatch(/^https:\/\//);
      expect(JSON.parse(row.events)).not.toHaveLength(0);
    }
    // A browser that sends no form at all.
    const bare = await new Browser().post("/settings/workspace/webhooks/new", {});
    expect([302, 403]).toContain(bare.status);
  }, 120_000);
});
