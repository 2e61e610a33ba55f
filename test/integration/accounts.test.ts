import { describe, expect, it } from "vitest";
import { sha256Hex } from "~/lib/platform/crypto.server";
import { verifyPassword } from "~/lib/accounts/passwords.server";
import { MAX_FAILED_LOGINS_PER_EMAIL, MAX_FAILED_LOGINS_PER_IP, recordFailedLogin } from "~/lib/accounts/rate-limits.server";
import { SESSION_TTL_MS } from "~/lib/accounts/sessions.server";
import { Browser, PASSWORD, countRows, database, signedUpUser, uniqueEmail, appFetch } from "./helpers";

const SESSION = "__Host-spokedo_session";

describe("sign up", () => {
  it("creates the user, their first workspace as owner and a session, then lands on connections", async () => {
    const browser = new Browser();
    const email = uniqueEmail();
    const response = await browser.post("/signup", { email: ` ${email.toUpperCase()} `, password: PASSWORD, workspaceName: "Acme Eng" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/integration-connections");

    const db = database();
    const user = await db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirstOrThrow();
    expect(user.password_hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(user.password_hash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, user.password_hash)).toBe(true);
    expect(await verifyPassword("wrong password!", user.password_hash)).toBe(false);

    const membership = await db
      .selectFrom("memberships")
      .innerJoin("workspaces", "workspaces.id", "memberships.workspace_id")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(membership).toHaveLength(1);
    expect(membership[0]).toMatchObject({ role: "owner", name: "Acme Eng" });

    const page = await browser.get("/integration-connections");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("No connections yet");
    expect(html).toContain(email);
  });

  it("stores only the SHA-256 of the session token", async () => {
    const { browser, user } = await signedUpUser();
    const token = decodeURIComponent(browser.cookies.get(SESSION)!);
    const rows = await database().selectFrom("sessions").selectAll().where("user_id", "=", user.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(await sha256Hex(token));
    expect(rows[0]!.id).not.toContain(token);
  });

  it("gives salted hashes: the same password twice hashes differently", async () => {
    const a = await signedUpUser();
    const b = await signedUpUser();
    expect(a.user.password_hash).not.toBe(b.user.password_hash);
  });

  it("rejects a registered e-mail next to the field with 400 and writes nothing", async () => {
    const { email } = await signedUpUser();
    const before = await Promise.all([countRows("users"), countRows("workspaces"), countRows("sessions")]);
    const response = await new Browser().post("/signup", { email: email.toUpperCase(), password: PASSWORD, workspaceName: "Second" });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("An account with this e-mail address already exists");
    expect(html).not.toContain(PASSWORD);
    expect(await Promise.all([countRows("users"), countRows("workspaces"), countRows("sessions")])).toEqual(before);
  });

  it.each([
    [{ email: "", password: PASSWORD, workspaceName: "A" }, "Enter your e-mail address."],
    [{ email: "not-an-email", password: PASSWORD, workspaceName: "A" }, "Enter a valid e-mail address"],
    [{ email: `${"a".repeat(250)}@example.com`, password: PASSWORD, workspaceName: "A" }, "at most 254 characters"],
    [{ email: "a@example.com", password: "short", workspaceName: "A" }, "Use at least 10 characters."],
    [{ email: "a@example.com", password: "x".repeat(129), workspaceName: "A" }, "Use at most 128 characters."],
    [{ email: "a@example.com", password: PASSWORD, workspaceName: "   " }, "Name the workspace."],
    [{ email: "a@example.com", password: PASSWORD, workspaceName: "w".repeat(81) }, "at most 80 characters"],
    [{ email: "a@example.com", password: PASSWORD }, "This field is required."],
  ])("rejects bad input %# with a field message and status 400", async (form, message) => {
    const response = await new Browser().post("/signup", form);
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain(message);
    expect(html).toMatch(/aria-invalid="true"/);
    expect(await countRows("users")).toBe(0);
  });

  it("handles repeated fields (wrong type) without a 500", async () => {
    const body = new URLSearchParams([
      ["email", "a@example.com"],
      ["email", "b@example.com"],
      ["password", PASSWORD],
      ["workspaceName", "A"],
    ]);
    const response = await appFetch("https://spokedo.test/signup", {
      method: "POST",
      body,
      headers: { Host: "spokedo.test", "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
    });
    expect(response.status).toBe(400);
    await response.text();
    expect(await countRows("users")).toBe(0);
  });
});

describe("sign in", () => {
  it("signs in with the right password and goes to a safe redirect target", async () => {
    const { email } = await signedUpUser();
    const browser = new Browser();
    const response = await browser.post("/login", { email, password: PASSWORD, redirectTo: "/settings/workspace" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/settings/workspace");
    expect(browser.cookies.has(SESSION)).toBe(true);
  });

  it("ignores an off-site redirect target", async () => {
    const { email } = await signedUpUser();
    const response = await new Browser().post("/login", { email, password: PASSWORD, redirectTo: "//evil.example/x" });
    expect(response.headers.get("Location")).toBe("/integration-connections");
  });

  it("says only 'wrong e-mail or password' for a wrong password and for an unknown e-mail", async () => {
    const { email } = await signedUpUser();
    const wrongPassword = await new Browser().post("/login", { email, password: "not the password" });
    const unknownEmail = await new Browser().post("/login", { email: uniqueEmail("nobody"), password: PASSWORD });
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain("Wrong e-mail or password.");
      expect(html).not.toContain("not the password");
    }
  });

  it(`answers 429 with Retry-After after ${MAX_FAILED_LOGINS_PER_EMAIL} failures for one e-mail, even with the right password`, async () => {
    const { email } = await signedUpUser();
    for (let i = 0; i < MAX_FAILED_LOGINS_PER_EMAIL; i++) {
      const response = await new Browser().post(
        "/login",
        { email, password: `wrong-${i}-password` },
        { "CF-Connecting-IP": `198.51.100.${i}` },
      );
      expect(response.status).toBe(400);
    }
    const limited = await new Browser().post("/login", { email, password: PASSWORD }, { "CF-Connecting-IP": "198.51.100.200" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await limited.text()).toContain("Too many failed sign-ins");
  });

  it(`answers 429 after ${MAX_FAILED_LOGINS_PER_IP} failures from one IP across e-mails`, async () => {
    const ip = { "CF-Connecting-IP": "203.0.113.9" };
    // Every sign-in costs a PBKDF2 hash, so all failures but the last are recorded the way the
    // form records them; the last one and the refusal go through the form.
    for (let i = 0; i < MAX_FAILED_LOGINS_PER_IP - 1; i++) {
      await recordFailedLogin(database(), { email: uniqueEmail("spray"), ip: ip["CF-Connecting-IP"] });
    }
    const last = await new Browser().post("/login", { email: uniqueEmail("spray"), password: "guessing-password" }, ip);
    expect(last.status).toBe(400);
    const limited = await new Browser().post("/login", { email: uniqueEmail("spray"), password: "guessing-password" }, ip);
    expect(limited.status).toBe(429);
    const otherIp = await new Browser().post(
      "/login",
      { email: uniqueEmail("spray"), password: "guessing-password" },
      { "CF-Connecting-IP": "203.0.113.10" },
    );
    expect(otherIp.status).toBe(400);
  });

  it("forgets an e-mail's failures after a successful sign-in", async () => {
    const { email } = await signedUpUser();
    for (let i = 0; i < MAX_FAILED_LOGINS_PER_EMAIL - 1; i++) await recordFailedLogin(database(), { email, ip: "198.51.100.7" });
    expect((await new Browser().post("/login", { email, password: PASSWORD })).status).toBe(302);
    expect((await new Browser().post("/login", { email, password: "wrong password" })).status).toBe(400);
    // Had the earlier failures been kept, that was the e-mail's last allowed one and this is 429.
    expect((await new Browser().post("/login", { email, password: PASSWORD })).status).toBe(302);
  });
});

describe("sessions", () => {
  it("signs out with POST only: the row is deleted and the cookie cleared", async () => {
    const { browser, user } = await signedUpUser();
    const get = await browser.get("/logout");
    expect(get.status).toBe(302);
    expect(await countRows("sessions")).toBe(1);

    const response = await browser.post("/logout", {});
    expect(response.status).toBe(302);
    expect(response.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=;`) && /Max-Age=0/.test(c))).toBe(true);
    expect(await database().selectFrom("sessions").selectAll().where("user_id", "=", user.id).execute()).toHaveLength(0);
    const after = await browser.get("/integration-connections");
    expect(after.status).toBe(302);
    expect(after.headers.get("Location")).toBe("/login?redirectTo=%2Fintegration-connections");
  });

  it("redirects signed-out visitors to sign in and back", async () => {
    const response = await new Browser().get("/settings/workspace");
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/login?redirectTo=%2Fsettings%2Fworkspace");
  });

  it("refuses an expired session", async () => {
    const { browser, user } = await signedUpUser();
    await database()
      .updateTable("sessions")
      .set({ expires_at: Date.now() - 1000 })
      .where("user_id", "=", user.id)
      .execute();
    expect((await browser.get("/integration-connections")).status).toBe(302);
  });

  it("slides the 30-day expiry forward on use, at most once a day", async () => {
    const { browser, user } = await signedUpUser();
    const db = database();
    const tenDaysLeft = Date.now() + 10 * 24 * 3600 * 1000;
    await db.updateTable("sessions").set({ expires_at: tenDaysLeft }).where("user_id", "=", user.id).execute();
    const response = await browser.get("/integration-connections");
    expect(response.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`) && c.includes("Max-Age=2592000"))).toBe(true);
    const row = await db.selectFrom("sessions").selectAll().where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(row.expires_at).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 60_000);

    const again = await browser.get("/integration-connections");
    expect(again.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`))).toBe(false);
  });

  it("round-trips the D1 Sessions API bookmark in a cookie", async () => {
    const browser = new Browser();
    await browser.post("/signup", { email: uniqueEmail(), password: PASSWORD, workspaceName: "Acme" });
    const first = browser.cookies.get("__Host-spokedo_d1");
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-/);

    // A read with the bookmark we hold: the Worker resumes the session from it, and the
    // bookmark it hands back never goes backwards.
    const read = await browser.get("/integration-connections");
    expect(read.status).toBe(200);
    expect(browser.cookies.get("__Host-spokedo_d1")! >= first!).toBe(true);

    // A write moves the bookmark forward; the client receives the newer one.
    const beforeWrite = browser.cookies.get("__Host-spokedo_d1")!;
    await browser.post("/settings/workspace", { intent: "rename", name: "Acme 2" });
    const second = browser.cookies.get("__Host-spokedo_d1");
    expect(second).toBeDefined();
    expect(second! > beforeWrite).toBe(true);
    const page = await (await browser.get("/settings/workspace")).text();
    expect(page).toContain("Acme 2");
  });
});
