import { describe, expect, it } from "vitest";
import { type Browser, countRows, database, pageHtml, signedUpUser } from "./helpers";

async function addMember(owner: Browser, email: string, role = "member") {
  return owner.post("/settings/workspace", { intent: "add-member", email, role });
}

describe("workspace switcher", () => {
  it("switches between the user's workspaces and shows the active one", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const created = await alice.browser.post("/workspaces/new", { name: "Beta" });
    expect(created.status).toBe(302);
    let page = await (await alice.browser.get("/settings/workspace")).text();
    expect(page).toContain("<strong>Beta</strong>");

    const response = await alice.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId, redirectTo: "/settings/workspace" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/settings");
    page = await (await alice.browser.get("/settings/workspace")).text();
    expect(page).toContain("<strong>Alpha</strong>");
  });

  it("answers 404 for a workspace the user does not belong to and keeps the session as it was", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const mallory = await signedUpUser({ workspaceName: "Mallory Inc" });
    const before = await database()
      .selectFrom("sessions")
      .select("workspace_id")
      .where("user_id", "=", mallory.user.id)
      .executeTakeFirstOrThrow();
    const response = await mallory.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId });
    expect(response.status).toBe(404);
    const after = await database()
      .selectFrom("sessions")
      .select("workspace_id")
      .where("user_id", "=", mallory.user.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    expect(await (await mallory.browser.get("/settings/workspace")).text()).not.toContain("Alpha");
  });

  it("never redirects off-site after switching", async () => {
    const alice = await signedUpUser();
    const response = await alice.browser.post("/workspaces/switch", {
      workspaceId: alice.workspaceId,
      redirectTo: "https://evil.example/",
    });
    expect(response.headers.get("Location")).toBe("/integration-connections");
  });
});

describe("members", () => {
  it("lets an owner add an existing user, who then sees the workspace in their switcher", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser({ workspaceName: "Bob's" });
    const response = await addMember(alice.browser, bob.email.toUpperCase());
    expect(response.status).toBe(303);
    const settings = await (await alice.browser.get("/settings/workspace")).text();
    expect(settings).toContain(bob.email);

    const bobPage = await (await bob.browser.get("/integration-connections")).text();
    expect(bobPage).toMatch(/<option value="[^"]+">Alpha<\/option>/);
    const switched = await bob.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId });
    expect(switched.status).toBe(302);
    expect(await (await bob.browser.get("/settings/workspace")).text()).toContain("you are a member");
  });

  it("explains unknown e-mails and duplicates next to the field", async () => {
    const alice = await signedUpUser();
    const unknown = await addMember(alice.browser, "nobody@example.com");
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("No SpokeDo account uses this e-mail address");
    const self = await addMember(alice.browser, alice.email);
    expect(self.status).toBe(400);
    expect(await self.text()).toContain("already a member");
    const badRole = await addMember(alice.browser, alice.email, "superuser");
    expect(badRole.status).toBe(400);
    expect(await badRole.text()).toContain("Choose owner, admin or member.");
    expect(await countRows("memberships")).toBe(1);
  });

  it("refuses member management to members (403) and writes nothing", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser();
    const carol = await signedUpUser();
    await addMember(alice.browser, bob.email);
    await bob.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId });
    const before = await countRows("memberships");
    expect((await addMember(bob.browser, carol.email)).status).toBe(403);
    expect(
      (await bob.browser.post("/settings/workspace", { intent: "remove-member", userId: alice.user.id, confirmed: "yes" })).status,
    ).toBe(403);
    expect((await bob.browser.post("/settings/workspace", { intent: "rename", name: "Hijacked" })).status).toBe(403);
    expect((await bob.browser.post("/settings/workspace", { intent: "change-role", userId: bob.user.id, role: "owner" })).status).toBe(403);
    expect(await countRows("memberships")).toBe(before);
    expect(await (await alice.browser.get("/settings/workspace")).text()).toContain("<strong>Alpha</strong>");
  });

  it("asks before removing a member or revoking a key: the first submission changes nothing and shows what it would do", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser();
    await addMember(alice.browser, bob.email);
    const asked = await alice.browser.post("/settings/workspace", { intent: "remove-member", userId: bob.user.id });
    expect(asked.status).toBe(200);
    const html = await pageHtml(asked);
    expect(html).toContain(`Remove ${bob.email} from Alpha?`);
    expect(html).toMatch(/<input type="hidden" name="confirmed" value="yes"\/>/);
    expect(html).toContain('href="/settings/workspace">Cancel</a>');
    const members = await database().selectFrom("memberships").select("user_id").where("workspace_id", "=", alice.workspaceId).execute();
    expect(members).toHaveLength(2);

    const created = await pageHtml(await alice.browser.post("/settings/workspace", { intent: "create-key", keyName: "ci" }));
    // The new key is shown once, at the top of the page, above everything else.
    expect(created.indexOf("New key (copy it now")).toBeGreaterThan(0);
    expect(created.indexOf("New key (copy it now")).toBeLessThan(created.indexOf("<h2>Members</h2>"));
    const key = await database().selectFrom("api_keys").selectAll().where("workspace_id", "=", alice.workspaceId).executeTakeFirstOrThrow();
    const revoke = await pageHtml(await alice.browser.post("/settings/workspace", { intent: "revoke-key", keyId: key.id }));
    expect(revoke).toContain("Revoke the API key ci?");
    expect(
      (await database().selectFrom("api_keys").select("revoked_at").where("id", "=", key.id).executeTakeFirstOrThrow()).revoked_at,
    ).toBeNull();
    await alice.browser.post("/settings/workspace", { intent: "revoke-key", keyId: key.id, confirmed: "yes" });
    expect(
      (await database().selectFrom("api_keys").select("revoked_at").where("id", "=", key.id).executeTakeFirstOrThrow()).revoked_at,
    ).not.toBeNull();
  });

  it("removes members but never the last owner", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser();
    await addMember(alice.browser, bob.email);
    const last = await alice.browser.post("/settings/workspace", { intent: "remove-member", userId: alice.user.id, confirmed: "yes" });
    expect(last.status).toBe(400);
    expect(await last.text()).toContain("A workspace needs at least one owner");

    expect(
      (await alice.browser.post("/settings/workspace", { intent: "remove-member", userId: bob.user.id, confirmed: "yes" })).status,
    ).toBe(303);
    const memberships = await database().selectFrom("memberships").selectAll().where("workspace_id", "=", alice.workspaceId).execute();
    expect(memberships.map((m) => m.user_id)).toEqual([alice.user.id]);
  });

  it("lets an owner leave once another owner exists", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser();
    await addMember(alice.browser, bob.email, "owner");
    expect(
      (await alice.browser.post("/settings/workspace", { intent: "remove-member", userId: alice.user.id, confirmed: "yes" })).status,
    ).toBe(303);
    // Alice's session falls back to a workspace she still belongs to.
    const page = await (await alice.browser.get("/integration-connections")).text();
    expect(page).not.toContain("<strong>Alpha</strong>");
  });

  it("sends a removed member's session to another workspace they belong to", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const bob = await signedUpUser({ workspaceName: "Bobs Place" });
    await addMember(alice.browser, bob.email);
    await bob.browser.post("/workspaces/switch", { workspaceId: alice.workspaceId });
    await alice.browser.post("/settings/workspace", { intent: "remove-member", userId: bob.user.id, confirmed: "yes" });
    const page = await (await bob.browser.get("/settings/workspace")).text();
    expect(page).toContain("<strong>Bobs Place</strong>");
    expect(page).not.toContain("Alpha");
  });
});

describe("workspace isolation", () => {
  it("ignores ids from another workspace: removing a foreign member is a 404 that deletes nothing", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const mallory = await signedUpUser({ workspaceName: "Mallory Inc" });
    const before = await countRows("memberships");
    const response = await mallory.browser.post("/settings/workspace", {
      intent: "remove-member",
      userId: alice.user.id,
      confirmed: "yes",
    });
    expect(response.status).toBe(404);
    expect(await countRows("memberships")).toBe(before);
  });

  it("scopes every page to the active workspace, whatever the request carries", async () => {
    const alice = await signedUpUser({ workspaceName: "Alpha" });
    const mallory = await signedUpUser({ workspaceName: "Mallory Inc" });
    const page = await (await mallory.browser.get(`/settings/workspace?workspaceId=${alice.workspaceId}`)).text();
    expect(page).not.toContain(alice.email);
    expect(page).not.toContain("Alpha");
    const renamed = await mallory.browser.post("/settings/workspace", { intent: "rename", name: "Pwned", workspaceId: alice.workspaceId });
    expect(renamed.status).toBe(303);
    const alpha = await database().selectFrom("workspaces").select("name").where("id", "=", alice.workspaceId).executeTakeFirstOrThrow();
    expect(alpha.name).toBe("Alpha");
  });
});
