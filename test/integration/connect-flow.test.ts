import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { submitConsent } from "../emulator";
import { PROVIDERS, connect, connectionRow, returnToApp, startConnect, storedTokens, useEmulator } from "./connections-support";
import { Browser, countRows, database, signedUpUser } from "./helpers";

const emulator = useEmulator();
const CALLBACK = (provider: string) => `${env.APP_URL}/integration-connections/callback/${provider}`;

describe.each(PROVIDERS)("%s connect flow", (provider) => {
  it("stores an active connection with the account's identity and encrypted tokens", async () => {
    const { browser, workspaceId } = await signedUpUser();
    const { response, id } = await connect(browser, emulator(), provider, `${provider}-work`);
    expect(response.status).toBe(303);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Location")).not.toMatch(/code|state|oauth/);

    const row = await connectionRow(id!);
    expect(row).toMatchObject({ workspace_id: workspaceId, provider, name: `${provider}-work`, status: "active", config_json: "{}" });
    expect(row.account_label).not.toBe("");

    const issued = emulator().tokens(provider).at(-1)!;
    const tokens = await storedTokens(row);
    expect(tokens.accessToken).toBe(issued.accessToken);
    for (const column of [row.access_token_ct, row.refresh_token_ct, row.token_secret_ct]) {
      if (column === null) continue;
      expect(column).toMatch(/^v1\.test2\./);
      expect(column).not.toContain(issued.accessToken);
      if (issued.refreshToken) expect(column).not.toContain(issued.refreshToken);
    }

    const detail = await (await browser.get(`/integration-connections/${id}`)).text();
    expect(detail).toContain(row.account_label.replace("&", "&amp;"));
    expect(detail).not.toContain(issued.accessToken);
    if (issued.refreshToken) expect(detail).not.toContain(issued.refreshToken);
  });

  it("goes back to the form with a clear message when the user denies, storing nothing", async () => {
    const { browser } = await signedUpUser();
    const { response } = await connect(browser, emulator(), provider, `${provider}-denied`, { decision: "deny" });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe(`/integration-connections/new?provider=${provider}&name=${provider}-denied`);
    const form = await (await browser.get(response.headers.get("Location")!)).text();
    expect(form).toContain("You cancelled the authorization");
    expect(form).toContain(`value="${provider}-denied"`);
    expect(await countRows("connections" as never)).toBe(0);
    expect(emulator().requestsTo(provider, "token")).toHaveLength(0);
  });
});

describe("authorization URL", () => {
  it.each(PROVIDERS.filter((p) => p !== "trello"))(
    "%s: fresh 256-bit state, configured redirect_uri, reviewed scopes, PKCE only where supported",
    async (provider) => {
      const { browser } = await signedUpUser();
      const first = new URL(await startConnect(browser, provider, `${provider}-a`));
      const second = new URL(await startConnect(browser, provider, `${provider}-b`));
      const state = first.searchParams.get("state")!;
      expect(state).toMatch(/^[\w-]{43}$/);
      expect(second.searchParams.get("state")).not.toBe(state);
      expect(first.searchParams.get("redirect_uri")).toBe(CALLBACK(provider));
      expect({ scope: first.searchParams.get("scope"), pkce: first.searchParams.get("code_challenge_method") }).toMatchSnapshot();
      // The state itself is never stored, only its hash.
      const flows = await database().selectFrom("oauth_flows").selectAll().execute();
      expect(JSON.stringify(flows)).not.toContain(state);
    },
  );

  it("Trello: an OAuth 1.0a request token, read/write scope, no expiry", async () => {
    const { browser } = await signedUpUser();
    const url = new URL(await startConnect(browser, "trello", "trello-a"));
    expect(url.pathname).toBe("/trello/1/OAuthAuthorizeToken");
    expect(url.searchParams.get("scope")).toBe("read,write");
    expect(url.searchParams.get("expiration")).toBe("never");
    const request = emulator().requestsTo("trello", "token")[0] ?? emulator().requests.find((r) => r.url.includes("OAuthGetRequestToken"))!;
    expect(request.headers.authorization).toMatch(/oauth_signature_method="HMAC-SHA1"/);
    expect(decodeURIComponent(request.headers.authorization!)).toContain(`oauth_callback="${CALLBACK("trello")}"`);
  });

  it("starting an authorization is a POST: GET on /new changes nothing", async () => {
    const { browser } = await signedUpUser();
    const page = await browser.get("/integration-connections/new?provider=github&name=github-x");
    expect(page.status).toBe(200);
    expect(await countRows("oauth_flows" as never)).toBe(0);
    expect(emulator().requests).toHaveLength(0);
  });

  it("refuses a cross-site start", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.post(
      "/integration-connections/new",
      { provider: "github", name: "gh" },
      { "Sec-Fetch-Site": "cross-site" },
    );
    expect(response.status).toBe(403);
    expect(await countRows("oauth_flows" as never)).toBe(0);
  });

  it("rate limits starting authorizations", async () => {
    const { browser } = await signedUpUser();
    for (let i = 0; i < 20; i++) await startConnect(browser, "github", `github-${i}`);
    const limited = await browser.post("/integration-connections/new", { provider: "github", name: "github-21" });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain("Too many authorizations");
  });
});

describe("callback checks happen before any token request", () => {
  async function approvedCallback(browser: Browser, provider: "github" | "slack" = "github") {
    const authorizeUrl = await startConnect(browser, provider, `${provider}-cb`);
    return submitConsent(emulator(), authorizeUrl);
  }

  async function expectRejected(response: Response, message: RegExp) {
    expect(response.status).toBe(400);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(await response.text()).toMatch(message);
    expect(emulator().requestsTo("github", "token")).toHaveLength(0);
    expect(emulator().requestsTo("slack", "token")).toHaveLength(0);
    expect(await countRows("connections" as never)).toBe(0);
  }

  it("rejects a missing state", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser);
    callback.searchParams.delete("state");
    await expectRejected(await returnToApp(browser, callback), /missing its state/);
  });

  it("rejects an unknown state", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser);
    callback.searchParams.set("state", "x".repeat(43));
    await expectRejected(await returnToApp(browser, callback), /unknown/);
  });

  it("rejects an expired flow (older than 10 minutes)", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser);
    await database()
      .updateTable("oauth_flows")
      .set({ expires_at: Date.now() - 1 })
      .execute();
    await expectRejected(await returnToApp(browser, callback), /expired/);
  });

  it("rejects a replayed callback", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser);
    expect((await returnToApp(browser, callback)).status).toBe(303);
    const tokenRequests = emulator().requestsTo("github", "token").length;
    const replay = await returnToApp(browser, callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toMatch(/already used/);
    expect(emulator().requestsTo("github", "token")).toHaveLength(tokenRequests);
    expect(await countRows("connections" as never)).toBe(1);
  });

  it("rejects a state from another session, even of the same user", async () => {
    const { browser, email } = await signedUpUser();
    const callback = await approvedCallback(browser);
    const other = new Browser();
    await other.post("/login", { email, password: "correct horse battery" });
    await expectRejected(await returnToApp(other, callback), /another session/);
  });

  it("rejects a callback on another provider's path (mix-up defence)", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser, "github");
    const mixedUp = new URL(callback);
    mixedUp.pathname = "/integration-connections/callback/slack";
    await expectRejected(await returnToApp(browser, mixedUp), /another provider/);
  });

  it("answers 404 for an unknown provider path", async () => {
    const { browser } = await signedUpUser();
    expect((await browser.get("/integration-connections/callback/myspace?state=x&code=y")).status).toBe(404);
  });

  it("refuses a signed-out visitor without touching the provider, never carrying the code onward to sign-in", async () => {
    const { browser } = await signedUpUser();
    const callback = await approvedCallback(browser);
    const response = await returnToApp(new Browser(), callback);
    expect(response.status).toBe(401);
    expect(response.headers.get("Location")).toBeNull();
    expect(await response.text()).toContain('href="/login"');
    expect(emulator().requestsTo("github", "token")).toHaveLength(0);
  });
});

describe("token endpoint failures: back to the form, nothing stored", () => {
  it.each([
    ["github", { kind: "invalid_code" } as const, /bad_verification_code/],
    [
      "github",
      {
        kind: "oauth_error",
        code: "incorrect_client_credentials",
        description: "The client_id and/or client_secret passed are incorrect.",
      } as const,
      /incorrect_client_credentials/,
    ],
    ["slack", { kind: "invalid_code" } as const, /invalid_code/],
    ["notion", { kind: "invalid_code" } as const, /invalid_grant/],
    ["linear", { kind: "invalid_code" } as const, /invalid_grant/],
    ["github", { kind: "http", status: 503 } as const, /HTTP 503/],
    ["notion", { kind: "http", status: 500 } as const, /HTTP 500/],
    ["slack", { kind: "malformed_json" } as const, /not JSON/],
    ["linear", { kind: "malformed_json" } as const, /not JSON/],
    ["trello", { kind: "http", status: 500 } as const, /500/],
  ])("%s token endpoint: %j", async (provider, fault, message) => {
    const { browser } = await signedUpUser();
    emulator().failNext(provider, "token", fault);
    const { response } = await connect(browser, emulator(), provider as never, `${provider}-broken`);
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toMatch(/^\/integration-connections\/new\?/);
    const page = await (await browser.get(response.headers.get("Location")!)).text();
    expect(page).toMatch(message);
    expect(page).toContain("did not complete the authorization");
    expect(await countRows("connections" as never)).toBe(0);
  });

  it("reports an identity lookup failure after a good token exchange", async () => {
    const { browser } = await signedUpUser();
    emulator().failNext("github", "identity", { kind: "http", status: 502 });
    const { response } = await connect(browser, emulator(), "github", "github-identity");
    const page = await (await browser.get(response.headers.get("Location")!)).text();
    expect(page).toMatch(/HTTP 502|502/);
    expect(await countRows("connections" as never)).toBe(0);
  });
});

describe("names", () => {
  it("refuses a duplicate name in the workspace next to the field", async () => {
    const { browser } = await signedUpUser();
    await connect(browser, emulator(), "github", "github-personal");
    const response = await browser.post("/integration-connections/new", { provider: "slack", name: "github-personal" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("already has a connection named github-personal");
    expect(await countRows("connections" as never)).toBe(1);
  });

  it("allows the same name in another workspace", async () => {
    const a = await signedUpUser();
    const b = await signedUpUser();
    expect((await connect(a.browser, emulator(), "github", "shared-name")).id).toBeDefined();
    expect((await connect(b.browser, emulator(), "github", "shared-name")).id).toBeDefined();
  });

  it.each([
    ["", "Name the connection."],
    // A refused name is answered with the one it could be.
    ["GitHub Personal", "Use lowercase letters, digits and single hyphens, starting with a letter: github-personal, for example."],
    ["-github", "github, for example"],
    ["Ops / Triage Bugs!", "ops-triage-bugs, for example"],
    ["a".repeat(51), "at most 50 characters"],
  ])("rejects %j", async (name, message) => {
    const { browser } = await signedUpUser();
    const response = await browser.post("/integration-connections/new", { provider: "github", name });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(message);
  });

  it("rejects an unknown provider", async () => {
    const { browser } = await signedUpUser();
    const response = await browser.post("/integration-connections/new", { provider: "myspace", name: "x-y" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Choose a provider.");
  });
});

describe("secrets stay secret", () => {
  it("logs no token, code, verifier, client secret or key during full flows", async () => {
    const logged: string[] = [];
    for (const method of ["log", "info", "warn", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    }
    const { browser } = await signedUpUser();
    for (const provider of PROVIDERS) await connect(browser, emulator(), provider, `${provider}-logs`);
    const secrets = [
      ...PROVIDERS.flatMap((p) =>
        emulator()
          .tokens(p)
          .flatMap((t) => [t.accessToken, t.refreshToken ?? ""]),
      ),
      ...emulator().requests.flatMap((r) => [
        new URL(r.url).searchParams.get("code") ?? "",
        new URL(r.url).searchParams.get("code_verifier") ?? "",
      ]),
      "emu-github-secret",
      "emu-slack-secret",
      "emu-trello-secret",
      env.TOKEN_ENCRYPTION_KEYS.split(",")[1]!.split(":")[1]!,
    ].filter((secret) => secret.length > 5);
    const everything = logged.join("\n");
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it("never renders the tokens in the index or detail HTML", async () => {
    const { browser } = await signedUpUser();
    const ids: string[] = [];
    for (const provider of PROVIDERS) ids.push((await connect(browser, emulator(), provider, `${provider}-html`)).id!);
    const pages = [await (await browser.get("/integration-connections")).text()];
    for (const id of ids) pages.push(await (await browser.get(`/integration-connections/${id}`)).text());
    const html = pages.join("\n");
    for (const provider of PROVIDERS) {
      for (const token of emulator().tokens(provider)) {
        expect(html).not.toContain(token.accessToken);
        if (token.refreshToken) expect(html).not.toContain(token.refreshToken);
      }
    }
    expect(html).not.toMatch(/v1\.test\d\./);
  });
});
