import { describe, expect, it } from "vitest";
import { useEmulator } from "./connections-support";
import { createApiKey, deliveringSetup } from "./deliveries-support";
import { appFetch, Browser, countRows, ORIGIN, PASSWORD, pageHtml, signedUpUser, uniqueEmail } from "./helpers";

// Hostile requests against a fresh instance (issue 11, items 10–14): each refused cleanly, with
// the security headers every response carries, never a 500 and never a write.

const emulator = useEmulator();

/** A body sent chunked: no Content-Length, so only a limit enforced while streaming can stop it. */
function chunked(text: string) {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.byteLength; offset += 16 * 1024) controller.enqueue(bytes.slice(offset, offset + 16 * 1024));
      controller.close();
    },
  });
}

function expectSecurityHeaders(response: Response) {
  expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
}

describe("body limits enforced while streaming", () => {
  it("a chunked 1 MB sign-up is refused with 413 and creates no account", async () => {
    const form = new URLSearchParams({ email: uniqueEmail(), password: PASSWORD, workspaceName: "Pad", pad: "x".repeat(1024 * 1024) });
    const response = await appFetch(`${ORIGIN}/signup`, {
      method: "POST",
      redirect: "manual",
      body: chunked(form.toString()),
      // @ts-expect-error: workerd needs duplex for a streamed request body.
      duplex: "half",
      headers: { Host: "spokedo.test", "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
    });
    expect(response.status).toBe(413);
    expect(response.headers.has("Content-Length") && Number(response.headers.get("Content-Length")) > 100_000).toBe(false);
    expect(await countRows("users")).toBe(0);
  });

  it("a chunked 1 MB API body is refused with 413 as JSON", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const key = await createApiKey(browser);
    const response = await appFetch(`${ORIGIN}/api/v1/insights`, {
      method: "POST",
      body: chunked(JSON.stringify({ title: "t", body: "x".repeat(1024 * 1024) })),
      // @ts-expect-error: workerd needs duplex for a streamed request body.
      duplex: "half",
      headers: { Host: "spokedo.test", "Content-Type": "application/json", Authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: expect.any(String) as string } });
  });
});

describe("hostile JSON keys", () => {
  it.each(["toString", "__proto__", "constructor", "hasOwnProperty"])(
    "a body with a key named %s is a 400 with a JSON error",
    async (name) => {
      const { browser } = await deliveringSetup(emulator(), "github");
      const key = await createApiKey(browser);
      const response = await appFetch(`${ORIGIN}/api/v1/insights`, {
        method: "POST",
        body: `{"title": "t", "body": "b", "${name}": {"x": 1}}`,
        headers: { Host: "spokedo.test", "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      });
      expect(response.status).toBe(400);
      const error = await response.json<{ error: { fields?: Record<string, string[]> } }>();
      expect(Object.keys(error.error.fields ?? {})).toContain(name);
    },
  );
});

describe("OAuth callbacks", () => {
  it("signed out: refused in a page of its own, the code never carried onward, never cached or referred", async () => {
    const browser = new Browser();
    const response = await browser.get("/integration-connections/callback/github?code=secret-code&state=some-state");
    expect(response.status).toBe(401);
    expect(response.headers.get("Location")).toBeNull();
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expectSecurityHeaders(response);
    const html = await pageHtml(response);
    expect(html).not.toContain("secret-code");
    expect(html).not.toContain("some-state");
    expect(html).toContain("Sign in");
  });

  it("an unknown, expired or replayed state renders a full page with a way back, not a bare text 400", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.get("/integration-connections/callback/github?code=the-code-1234&state=unknown-state");
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const html = await pageHtml(response);
    expect(html).toContain('<header class="topbar"');
    expect(html).toMatch(/<h1[^>]*>[^<]+<\/h1>/);
    expect(html).toContain('href="/integration-connections/new"');
    expect(html).not.toContain("the-code-1234");
    expect(html).not.toContain("unknown-state");
  });
});

describe("secrets are never cacheable; cross-site refusals carry the security headers", () => {
  it("the new API key page answers no-store", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.post("/settings/workspace", { intent: "create-key", keyName: "ci" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    await response.body?.cancel();
  });

  it("a cross-site POST to an /api/ path that is not an endpoint is a 403, with the usual headers", async () => {
    for (const path of ["/api/v1/connections", "/api/v1/nothing-here", "/api/"]) {
      const response = await appFetch(`${ORIGIN}${path}`, {
        method: "POST",
        body: "{}",
        headers: {
          Host: "spokedo.test",
          "Content-Type": "application/json",
          "Sec-Fetch-Site": "cross-site",
          Origin: "https://evil.example",
        },
      });
      expect(response.status, path).toBe(403);
      expectSecurityHeaders(response);
      await response.body?.cancel();
    }
  });
});
