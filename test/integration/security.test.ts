import { describe, expect, it } from "vitest";
import { appFetch, Browser, ORIGIN, countRows, signedUpUser, uniqueEmail, PASSWORD } from "./helpers";

function post(headers: Record<string, string>, path = "/signup") {
  return appFetch(`${ORIGIN}${path}`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ email: uniqueEmail(), password: PASSWORD, workspaceName: "Evil" }),
    headers: { Host: "spokedo.test", "Content-Type": "application/x-www-form-urlencoded", ...headers },
  });
}

describe("request guard", () => {
  it("refuses a cross-site POST with 403 and writes nothing", async () => {
    const response = await post({ "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect(await countRows("users")).toBe(0);
  });

  it("refuses same-site POSTs from sibling subdomains", async () => {
    expect((await post({ "Sec-Fetch-Site": "same-site", Origin: "https://other.spokedo.test" })).status).toBe(403);
  });

  it("falls back to Origin when Sec-Fetch-Site is absent", async () => {
    expect((await post({ Origin: "https://evil.example" })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ Origin: "null" })).status).toBe(403);
    expect(await countRows("users")).toBe(0);
    expect((await post({ Origin: ORIGIN })).status).toBe(302);
    expect(await countRows("users")).toBe(1);
  });

  it("accepts same-origin POSTs", async () => {
    expect((await post({ "Sec-Fetch-Site": "same-origin" })).status).toBe(302);
  });

  it("refuses cross-site sign-out so another site cannot log a user out", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.post("/logout", {}, { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect(await countRows("sessions")).toBe(1);
  });
});

describe("security headers", () => {
  it("sends a CSP with a fresh nonce per response that matches the page's scripts", async () => {
    const first = await appFetch(`${ORIGIN}/login`);
    const second = await appFetch(`${ORIGIN}/login`);
    const nonceOf = (response: Response) => /'nonce-([A-Za-z0-9_-]+)'/.exec(response.headers.get("Content-Security-Policy") ?? "")?.[1];
    const [nonceA, nonceB] = [nonceOf(first), nonceOf(second)];
    expect(nonceA).toBeTruthy();
    expect(nonceA).not.toBe(nonceB);

    const csp = first.headers.get("Content-Security-Policy")!;
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);

    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const inline = !script.includes(" src=");
      if (inline) expect(script).toContain(`nonce="${nonceA}"`);
    }
    await second.text();
  });

  it("sends nosniff, a strict referrer policy and HSTS over HTTPS", async () => {
    const response = await appFetch(`${ORIGIN}/`);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("strict-origin-when-cross-origin");
    expect(response.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d{8}/);
    await response.text();
  });

  it("does not send HSTS over plain HTTP (local development)", async () => {
    const response = await appFetch("http://localhost/");
    expect(response.headers.get("Strict-Transport-Security")).toBeNull();
    await response.text();
  });
});

describe("session cookie", () => {
  it("is __Host- prefixed, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain over HTTPS", async () => {
    const browser = new Browser();
    const response = await browser.post("/signup", { email: uniqueEmail(), password: PASSWORD, workspaceName: "Acme" });
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith("__Host-spokedo_session="));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=2592000/);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it("drops the prefix and Secure over plain HTTP, where browsers would reject them", async () => {
    const browser = new Browser("http://localhost");
    const response = await browser.post("/signup", { email: uniqueEmail(), password: PASSWORD, workspaceName: "Acme" });
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith("spokedo_session="));
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/HttpOnly/);
  });
});

describe("error pages", () => {
  it("answers unknown URLs with a 404 page inside the layout", async () => {
    const response = await appFetch(`${ORIGIN}/no/such/page`);
    expect(response.status).toBe(404);
    const html = await response.text();
    expect(html).toContain("Page not found");
    expect(html).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it("answers an unreadable form body with 400, never a 500", async () => {
    const response = await appFetch(`${ORIGIN}/signup`, {
      method: "POST",
      body: "--broken",
      headers: { "Content-Type": "multipart/form-data; boundary=x", "Sec-Fetch-Site": "same-origin" },
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).not.toContain("Error:");
  });

  it("answers a non-form body with 415", async () => {
    const response = await appFetch(`${ORIGIN}/signup`, {
      method: "POST",
      body: JSON.stringify({ email: "a@b.c" }),
      headers: { "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin" },
    });
    expect(response.status).toBe(415);
    await response.text();
  });
});
