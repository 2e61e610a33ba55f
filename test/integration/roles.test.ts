import { describe, expect, it } from "vitest";
import { submitConsent } from "../emulator";
import { connect, connectedUser, connectionRow, returnToApp, storedTokens, useEmulator } from "./connections-support";
import { type Browser, database, pageHtml, signedUpUser } from "./helpers";

// Roles that mean something (issue 11, item 2; decision 026): the whole matrix, each forbidden
// action refused with 403 and nothing written, each allowed one let through, and the pages
// offering only what the viewer's role allows.

const emulator = useEmulator();

type Role = "owner" | "admin" | "member";

/** An owner with a GitHub connection, an intent and an API key, and one colleague per role. */
async function team() {
  const owner = await connectedUser(emulator(), "github");
  const intent = await owner.browser.post("/intents/new", {
    name: "bugs",
    connectionId: owner.id,
  });
  expect(intent.status).toBe(303);
  await owner.browser.post("/settings/workspace", { intent: "create-key", keyName: "ci" });
  const colleagues = {} as Record<Role, Browser & { userId: string }>;
  for (const role of ["owner", "admin", "member"] as const) {
    const user = await signedUpUser();
    expect((await owner.browser.post("/settings/workspace", { intent: "add-member", email: user.email, role })).status).toBe(303);
    await user.browser.post("/workspaces/switch", { workspaceId: owner.workspaceId });
    colleagues[role] = Object.assign(user.browser, { userId: user.user.id });
  }
  const key = await database().selectFrom("api_keys").select("id").where("workspace_id", "=", owner.workspaceId).executeTakeFirstOrThrow();
  const intentRow = await database()
    .selectFrom("intents")
    .select("id")
    .where("workspace_id", "=", owner.workspaceId)
    .executeTakeFirstOrThrow();
  return { owner, colleagues, keyId: key.id, intentId: intentRow.id };
}

/** Everything a workspace holds that an action could change, to prove a refusal wrote nothing. */
async function snapshot(workspaceId: string) {
  const db = database();
  return {
    connections: await db.selectFrom("connections").selectAll().where("workspace_id", "=", workspaceId).orderBy("id").execute(),
    intents: await db.selectFrom("intents").selectAll().where("workspace_id", "=", workspaceId).orderBy("id").execute(),
    keys: await db.selectFrom("api_keys").selectAll().where("workspace_id", "=", workspaceId).orderBy("id").execute(),
    members: await db.selectFrom("memberships").selectAll().where("workspace_id", "=", workspaceId).orderBy("user_id").execute(),
    workspace: await db.selectFrom("workspaces").selectAll().where("id", "=", workspaceId).execute(),
    endpoints: await db.selectFrom("webhook_endpoints").selectAll().where("workspace_id", "=", workspaceId).execute(),
  };
}

interface Row {
  action: string;
  allowed: Role[];
  request: (browser: Browser, ids: { path: string; keyId: string; intentId: string; otherId: string }) => Promise<Response>;
}

const MATRIX: Row[] = [
  {
    action: "connect a new account",
    allowed: ["owner", "admin", "member"],
    request: (b) => b.post("/integration-connections/new", { provider: "github", name: "another" }),
  },
  { action: "test a connection", allowed: ["owner", "admin", "member"], request: (b, { path }) => b.post(path, { intent: "test" }) },
  { action: "re-authorize", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "reauthorize" }) },
  { action: "confirm another account", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "confirm-account" }) },
  { action: "keep the account", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "cancel-account" }) },
  { action: "open the settings page", allowed: ["owner", "admin"], request: (b, { path }) => b.get(`${path}/settings`) },
  {
    action: "save settings",
    allowed: ["owner", "admin"],
    request: (b, { path }) => b.post(`${path}/settings`, { intent: "save", name: "github-main" }),
  },
  { action: "disable", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "disable" }) },
  { action: "enable", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "enable" }) },
  { action: "redeliver failed", allowed: ["owner", "admin"], request: (b, { path }) => b.post(path, { intent: "redeliver-failed" }) },
  {
    action: "repoint intents",
    allowed: ["owner", "admin"],
    request: (b, { path }) => b.post(path, { intent: "repoint-intents", targetConnectionId: "none" }),
  },
  { action: "open the delete page", allowed: ["owner", "admin"], request: (b, { path }) => b.get(`${path}/delete`) },
  {
    action: "delete a connection",
    allowed: ["owner", "admin"],
    request: (b, { otherId }) => b.post(`/integration-connections/${otherId}/delete`, {}),
  },
  { action: "create an intent", allowed: ["owner", "admin", "member"], request: (b) => b.get("/intents/new") },
  {
    action: "delete an intent (asks first)",
    allowed: ["owner", "admin", "member"],
    request: (b, { intentId }) => b.get(`/intents/${intentId}/delete`),
  },
  {
    action: "create an API key",
    allowed: ["owner", "admin"],
    request: (b) => b.post("/settings/workspace", { intent: "create-key", keyName: "mine" }),
  },
  {
    action: "revoke an API key",
    allowed: ["owner", "admin"],
    request: (b, { keyId }) => b.post("/settings/workspace", { intent: "revoke-key", keyId }),
  },
  { action: "open the new webhook page", allowed: ["owner", "admin"], request: (b) => b.get("/settings/workspace/webhooks/new") },
  {
    action: "add a member",
    allowed: ["owner"],
    request: (b) => b.post("/settings/workspace", { intent: "add-member", email: "nobody@example.com", role: "member" }),
  },
  {
    action: "change a role",
    allowed: ["owner"],
    request: (b) => b.post("/settings/workspace", { intent: "change-role", userId: "nobody", role: "owner" }),
  },
  {
    action: "remove someone else",
    allowed: ["owner"],
    request: (b) => b.post("/settings/workspace", { intent: "remove-member", userId: "nobody" }),
  },
  {
    action: "rename the workspace",
    allowed: ["owner"],
    request: (b) => b.post("/settings/workspace", { intent: "rename", name: "Renamed" }),
  },
];

describe("the role matrix, enforced in every action", () => {
  it.each(["admin", "member"] as const)("%s: forbidden actions answer 403 and change nothing; allowed ones go through", async (role) => {
    const { owner, colleagues, keyId, intentId } = await team();
    // A second connection, for the one delete that may succeed.
    const other = await owner.browser.post("/integration-connections/new", { provider: "github", name: "spare" });
    const callback = await submitConsent(emulator(), other.headers.get("Location")!, {});
    const otherId = /([0-9a-f-]{36})$/.exec((await returnToApp(owner.browser, callback)).headers.get("Location")!)![1]!;
    const ids = { path: owner.path, keyId, intentId, otherId };
    const browser = colleagues[role];
    for (const row of MATRIX) {
      const before = await snapshot(owner.workspaceId);
      const response = await row.request(browser, ids);
      if (row.allowed.includes(role)) {
        expect(response.status, `${role} may ${row.action}`).not.toBe(403);
        expect(response.status, `${role} may ${row.action}`).toBeLessThan(500);
      } else {
        expect(response.status, `${role} may not ${row.action}`).toBe(403);
        const page = await pageHtml(response);
        expect(page, row.action).toContain("Not allowed");
        expect(page, row.action).toMatch(/Only (owners|owners and admins) may do this/);
        expect(await snapshot(owner.workspaceId), `${role} may not ${row.action}: nothing changed`).toEqual(before);
      }
    }
  });

  it("anyone may leave; the last owner may not be demoted or leave", async () => {
    const { owner, colleagues } = await team();
    const left = await colleagues.member.post("/settings/workspace", {
      intent: "remove-member",
      userId: colleagues.member.userId,
      confirmed: "yes",
    });
    expect(left.status).toBe(303);
    // Two owners: one may step down to admin, the last one may not.
    expect(
      (await owner.browser.post("/settings/workspace", { intent: "change-role", userId: colleagues.owner.userId, role: "admin" })).status,
    ).toBe(303);
    const last = await owner.browser.post("/settings/workspace", { intent: "change-role", userId: owner.user.id, role: "member" });
    expect(last.status).toBe(400);
    expect(await pageHtml(last)).toContain("A workspace needs at least one owner");
    const roles = await database()
      .selectFrom("memberships")
      .select(["user_id", "role"])
      .where("workspace_id", "=", owner.workspaceId)
      .execute();
    expect(roles).toEqual(
      expect.arrayContaining([
        { user_id: owner.user.id, role: "owner" },
        { user_id: colleagues.owner.userId, role: "admin" },
        { user_id: colleagues.admin.userId, role: "admin" },
      ]),
    );
    expect(roles).toHaveLength(3);
  });

  it("a role taken away while at the provider: the callback refuses, keeps nothing and revokes the new token", async () => {
    const { owner, colleagues } = await team();
    const before = await storedTokens(await connectionRow(owner.id));
    const start = await colleagues.admin.post(owner.path, { intent: "reauthorize" });
    expect(start.status).toBe(303);
    await owner.browser.post("/settings/workspace", { intent: "change-role", userId: colleagues.admin.userId, role: "member" });
    const callback = await submitConsent(emulator(), start.headers.get("Location")!, {});
    const response = await returnToApp(colleagues.admin, callback);
    expect(response.status).toBe(303);
    const page = await pageHtml(await colleagues.admin.get(response.headers.get("Location")!));
    expect(page).toContain("Only owners and admins may do this (re-authorize a connection");
    expect((await storedTokens(await connectionRow(owner.id))).accessToken).toBe(before.accessToken);
    const issued = emulator().tokens("github");
    expect(issued.filter((token) => token.revoked)).toHaveLength(1);
    expect(issued.find((token) => token.accessToken === before.accessToken)!.revoked).toBe(false);
  });
});

describe("pages offer only what the role allows", () => {
  it("a member sees the connection without re-authorize, settings, disable, repoint or delete; an admin sees them", async () => {
    const { owner, colleagues } = await team();
    const forMember = await pageHtml(await colleagues.member.get(owner.path));
    for (const offered of [
      'value="reauthorize"',
      `href="${owner.path}/settings"`,
      'value="disable"',
      'value="repoint-intents"',
      `href="${owner.path}/delete"`,
    ]) {
      expect(forMember, offered).not.toContain(offered);
    }
    expect(forMember).toContain('value="test"');
    // Nor elsewhere: the connections list's Reconnect, an intent's missing-scope prompt.
    await database().updateTable("connections").set({ status: "revoked" }).where("id", "=", owner.id).execute();
    const list = await pageHtml(await colleagues.member.get("/integration-connections"));
    expect(list).toContain("github-main");
    expect(list).not.toContain('value="reauthorize"');
    expect(await pageHtml(await colleagues.admin.get("/integration-connections"))).toContain('value="reauthorize"');
    await database().updateTable("connections").set({ status: "active" }).where("id", "=", owner.id).execute();
    const forAdmin = await pageHtml(await colleagues.admin.get(owner.path));
    for (const offered of ['value="reauthorize"', `href="${owner.path}/settings"`, 'value="disable"', `href="${owner.path}/delete"`]) {
      expect(forAdmin, offered).toContain(offered);
    }
  });

  it("an intent's missing-scope prompt offers re-authorizing only to those who may", async () => {
    const { owner, colleagues } = await team();
    const { id: linearId } = await connect(owner.browser, emulator(), "linear", "linear-main");
    const created = await owner.browser.post("/intents/new", { name: "triage", connectionId: linearId!, enabled: "on" });
    const path = created.headers.get("Location")!;
    await database().updateTable("connections").set({ scopes: "read" }).where("id", "=", linearId!).execute();
    const forMember = await pageHtml(await colleagues.member.get(path));
    expect(forMember).toContain("linear-main was not granted what this intent needs");
    expect(forMember).not.toContain('value="reauthorize"');
    expect(forMember).toContain("Ask an owner or admin of the workspace to re-authorize linear-main.");
    expect(await pageHtml(await colleagues.admin.get(path))).toContain("Re-authorize linear-main with Linear");
  });

  it("Workspace settings shows the matrix and offers member, key and name changes only to those allowed", async () => {
    const { colleagues } = await team();
    const member = await pageHtml(await colleagues.member.get("/settings/workspace"));
    expect(member).toContain("you are a member");
    expect(member).toContain("<h2>Roles</h2>");
    expect(member).toMatch(
      /<th scope="row">Delete a connection, or move its intents to another connection<\/th>.*?allowed.*?allowed.*?not allowed/s,
    );
    for (const hidden of ['value="add-member"', 'value="change-role"', 'value="create-key"', 'value="revoke-key"', 'value="rename"']) {
      expect(member, hidden).not.toContain(hidden);
    }
    expect(member).toContain("Leave…");
    const admin = await pageHtml(await colleagues.admin.get("/settings/workspace"));
    expect(admin).toContain('value="create-key"');
    expect(admin).toContain('value="revoke-key"');
    expect(admin).not.toContain('value="add-member"');
    expect(admin).not.toContain('value="change-role"');
    const owner = await pageHtml(await colleagues.owner.get("/settings/workspace"));
    for (const offered of ['value="add-member"', 'value="change-role"', 'value="rename"', 'value="create-key"']) {
      expect(owner, offered).toContain(offered);
    }
  });
});
