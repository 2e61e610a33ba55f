import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EMULATOR_CLIENTS, createEmulator, installEmulatorFetch, readConsentForm, submitConsent, type Emulator } from "../emulator";
import { signatureBaseString } from "../emulator/oauth1";

// The emulator is exercised directly here (emulator.handle), as a faithful
// stand-in for the five providers; the app's own tests drive it through fetch.

const EMU = "https://emu.test";
const APP = "https://spokedo.test";
const callback = (provider: string) => `${APP}/integration-connections/callback/${provider}`;

let emu: Emulator;
beforeEach(() => {
  emu = createEmulator({ origin: EMU, appOrigin: APP });
});

function call(path: string, init: RequestInit = {}) {
  return emu.handle(new Request(`${EMU}${path}`, { redirect: "manual", ...init }));
}

function form(values: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    body: new URLSearchParams(values),
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
  };
}

function jsonBody(value: unknown, headers: Record<string, string> = {}, method = "POST"): RequestInit {
  return { method, body: JSON.stringify(value), headers: { "Content-Type": "application/json", ...headers } };
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

async function pkcePair() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const encode = (data: Uint8Array) =>
    btoa(String.fromCharCode(...data))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
  const verifier = encode(bytes);
  const challenge = encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

/** workerd warns when .text() meets a form-urlencoded body. */
async function bytesAsText(response: Response) {
  return new TextDecoder().decode(await response.arrayBuffer());
}

function authorizeUrl(path: string, params: Record<string, string>) {
  return `${EMU}${path}?${new URLSearchParams(params)}`;
}

// ---------------------------------------------------------------- fetch interceptor

describe("installEmulatorFetch", () => {
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  it("serves the emulator origin in-process and refuses every other origin", async () => {
    const original = globalThis.fetch;
    uninstall = installEmulatorFetch(emu);
    const response = await fetch(`${EMU}/slack/api/auth.test`, { method: "POST" });
    expect(await response.json()).toEqual({ ok: false, error: "not_authed" });
    await expect(fetch("https://slack.com/api/auth.test")).rejects.toThrow("unexpected outbound fetch to https://slack.com/api/auth.test");
    uninstall();
    expect(globalThis.fetch).toBe(original);
  });

  it("rejects with the signal's reason when a slow answer outlives the caller's timeout", async () => {
    uninstall = installEmulatorFetch(emu);
    emu.failNext("github", "identity", { kind: "slow", delayMs: 2000 });
    const started = Date.now();
    const error = await fetch(`${EMU}/github/api/user`, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(1500);

    const aborted = new AbortController();
    aborted.abort(new Error("gave up"));
    await expect(fetch(`${EMU}/github/api/user`, { signal: aborted.signal })).rejects.toThrow("gave up");
  });

  it("a slow fault answers normally once the delay has passed", async () => {
    uninstall = installEmulatorFetch(emu);
    emu.failNext("slack", "identity", { kind: "slow", delayMs: 30 });
    const response = await fetch(`${EMU}/slack/api/auth.test`, { method: "POST", body: new URLSearchParams({ token: "nope" }) });
    expect(await response.json()).toEqual({ ok: false, error: "invalid_auth" });
    const [recorded] = emu.requestsTo("slack", "identity");
    expect(recorded).toMatchObject({ method: "POST", body: "token=nope", faults: ["slow"], status: 200 });
    expect(recorded!.headers["content-type"]).toContain("application/x-www-form-urlencoded");
  });
});

// ---------------------------------------------------------------- GitHub

async function githubCode(options: { account?: number; scope?: string; challenge?: string } = {}) {
  const params: Record<string, string> = {
    client_id: EMULATOR_CLIENTS.github.clientId,
    redirect_uri: callback("github"),
    state: "st-gh",
    scope: options.scope ?? "repo user",
  };
  if (options.challenge) Object.assign(params, { code_challenge: options.challenge, code_challenge_method: "S256" });
  const location = await submitConsent(emu, authorizeUrl("/github/login/oauth/authorize", params), { account: options.account });
  expect(location.searchParams.get("state")).toBe("st-gh");
  return location.searchParams.get("code")!;
}

function githubExchange(values: Record<string, string>, headers: Record<string, string> = { Accept: "application/json" }) {
  return call("/github/login/oauth/access_token", form(values, headers));
}

function githubExchangeBasic(values: Record<string, string>, secret: string = EMULATOR_CLIENTS.github.clientSecret) {
  return githubExchange(
    { grant_type: "authorization_code", redirect_uri: callback("github"), ...values },
    { Accept: "application/json", Authorization: basic(EMULATOR_CLIENTS.github.clientId, secret) },
  );
}

const ghHeaders = (token: string) => ({
  Authorization: `Bearer ${token}`,
  "User-Agent": "spokedo-test",
  Accept: "application/vnd.github+json",
});

describe("GitHub", () => {
  it("renders a script-free consent page listing the accounts", async () => {
    const response = await call(
      `/github/login/oauth/authorize?${new URLSearchParams({ client_id: "emu-github-client", redirect_uri: callback("github"), state: "s" })}`,
    );
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).not.toContain("<script");
    const consent = readConsentForm(page);
    expect(consent.title).toBe("Authorize SpokeDo — GitHub (emulated)");
    expect(consent.accounts).toEqual(["1001", "1002"]);
    expect(consent.checkedAccount).toBe("1001");
    expect(consent.hidden).toMatchObject({ client_id: "emu-github-client", redirect_uri: callback("github"), state: "s" });
    expect(page).toMatch(/<form method="post"/);
    expect(page).toContain('value="approve">Approve</button>');
    expect(page).toContain('value="deny">Deny</button>');
  });

  it("shows an error page (no redirect) for an unknown client, and bounces a foreign redirect_uri to the registered callback", async () => {
    const unknown = await call(`/github/login/oauth/authorize?client_id=nope&redirect_uri=${encodeURIComponent(callback("github"))}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Location")).toBeNull();
    expect(unknown.headers.get("Content-Type")).toContain("text/html");

    const foreign = await call(
      `/github/login/oauth/authorize?client_id=emu-github-client&state=x&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`,
    );
    expect(foreign.status).toBe(302);
    const location = new URL(foreign.headers.get("Location")!);
    expect(`${location.origin}${location.pathname}`).toBe(callback("github"));
    expect(location.searchParams.get("error")).toBe("redirect_uri_mismatch");
    expect(location.searchParams.get("state")).toBe("x");
  });

  it("Deny redirects with access_denied and the state", async () => {
    const url = authorizeUrl("/github/login/oauth/authorize", {
      client_id: "emu-github-client",
      redirect_uri: callback("github"),
      state: "st",
    });
    const location = await submitConsent(emu, url, { decision: "deny" });
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("st");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("a deny fault makes the consent page deny on GET, leaving the token endpoint alone", async () => {
    emu.failNext("github", "authorize", { kind: "deny" });
    const response = await call(`/github/login/oauth/authorize?client_id=emu-github-client&state=q`);
    expect(new URL(response.headers.get("Location")!).searchParams.get("error")).toBe("access_denied");
    expect(await (await githubExchangeBasic({ code: await githubCode() })).json()).toHaveProperty("access_token");
  });

  it("exchanges a code (Basic auth, JSON) for GitHub App user tokens bound to the chosen account", async () => {
    const code = await githubCode({ account: 1002 });
    const response = await githubExchangeBasic({ code });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ expires_in: 28800, refresh_token_expires_in: 15897600, scope: "", token_type: "bearer" });
    expect(body.access_token).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(body.refresh_token).toMatch(/^ghr_[A-Za-z0-9]{76}$/);
    expect(emu.tokens("github")).toMatchObject([{ accessToken: body.access_token, accountId: "1002", revoked: false }]);

    const user = await call("/github/api/user", { headers: ghHeaders(body.access_token as string) });
    expect(user.status).toBe(200);
    expect(await user.json()).toMatchObject({ id: 1002, login: "hubot", name: "Hubot" });
    expect(user.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(user.headers.get("X-OAuth-Scopes")).toBeNull();
  });

  it("answers form-encoded without Accept: application/json, and takes the secret in the body too", async () => {
    const response = await githubExchange(
      { client_id: "emu-github-client", client_secret: "emu-github-secret", code: await githubCode() },
      {},
    );
    expect(response.headers.get("Content-Type")).toContain("application/x-www-form-urlencoded");
    const body = new URLSearchParams(await bytesAsText(response));
    expect(body.get("access_token")).toMatch(/^ghu_/);
    expect(body.get("expires_in")).toBe("28800");
  });

  it("reports token-endpoint errors with HTTP 200: wrong secret, wrong redirect_uri, reused and expired codes", async () => {
    const code = await githubCode();
    const wrongSecret = await githubExchangeBasic({ code }, "wrong");
    expect(wrongSecret.status).toBe(200);
    expect(await wrongSecret.json()).toMatchObject({ error: "incorrect_client_credentials" });

    const wrongRedirect = await githubExchangeBasic({ code, redirect_uri: `${APP}/elsewhere` });
    expect(await wrongRedirect.json()).toMatchObject({ error: "redirect_uri_mismatch" });

    expect((await githubExchangeBasic({ code })).status).toBe(200);
    const reused = await githubExchangeBasic({ code });
    expect(reused.status).toBe(200);
    expect(await reused.json()).toEqual({
      error: "bad_verification_code",
      error_description: "The code passed is incorrect or expired.",
      error_uri: expect.stringContaining("docs.github.com") as string,
    });

    const late = await githubCode();
    emu.advanceTime(10 * 60 * 1000 + 1);
    expect(await (await githubExchangeBasic({ code: late })).json()).toMatchObject({ error: "bad_verification_code" });
  });

  it("checks PKCE (S256 only): missing or wrong verifier fail, the right one passes", async () => {
    const { verifier, challenge } = await pkcePair();
    const code = await githubCode({ challenge });
    expect(await (await githubExchangeBasic({ code })).json()).toMatchObject({ error: "invalid_grant" });
    expect(await (await githubExchangeBasic({ code, code_verifier: (await pkcePair()).verifier })).json()).toMatchObject({
      error: "invalid_grant",
    });
    expect(await (await githubExchangeBasic({ code, code_verifier: verifier })).json()).toHaveProperty("access_token");

    const plain = await call(`/github/login/oauth/authorize?client_id=emu-github-client&code_challenge=abc&code_challenge_method=plain`);
    expect(new URL(plain.headers.get("Location")!).searchParams.get("error")).toBe("invalid_request");
  });

  it("rotates refresh tokens: the used refresh token and the old access token both die", async () => {
    const first = await (await githubExchangeBasic({ code: await githubCode() })).json<Record<string, string>>();
    const refresh = (token: string) =>
      githubExchange(
        { grant_type: "refresh_token", refresh_token: token },
        { Accept: "application/json", Authorization: basic("emu-github-client", "emu-github-secret") },
      );

    expect(emu.requestsTo("github", "refresh")).toHaveLength(0);
    const second = await (await refresh(first.refresh_token!)).json<Record<string, string>>();
    expect(emu.requestsTo("github", "refresh")).toHaveLength(1);
    expect(second.access_token).toMatch(/^ghu_/);
    expect(second.refresh_token).not.toBe(first.refresh_token);

    const again = await refresh(first.refresh_token!);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({
      error: "bad_refresh_token",
      error_description: "The refresh token passed is incorrect or expired.",
    });

    const old = await call("/github/api/user", { headers: ghHeaders(first.access_token!) });
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
    expect((await call("/github/api/user", { headers: ghHeaders(second.access_token!) })).status).toBe(200);
  });

  it("answers 401 Bad credentials for expired and revoked tokens, 403 without a User-Agent", async () => {
    const { access_token } = await (await githubExchangeBasic({ code: await githubCode() })).json<Record<string, string>>();
    const { Authorization } = ghHeaders(access_token!);
    const noAgent = await call("/github/api/user", { headers: { Authorization } });
    expect(noAgent.status).toBe(403);
    expect(await noAgent.text()).toContain("Please make sure your request has a User-Agent header");

    emu.expireAccessTokens("github");
    expect((await call("/github/api/user", { headers: ghHeaders(access_token!) })).status).toBe(401);

    const fresh = await (await githubExchangeBasic({ code: await githubCode() })).json<Record<string, string>>();
    await emu.revokeTokensOf("github", 1001);
    const revoked = await call("/github/api/user", { headers: ghHeaders(fresh.access_token!) });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ message: "Bad credentials" });
  });

  it("issues OAuth App tokens (gho_, no expiry, comma scopes, X-OAuth-Scopes) when switched", async () => {
    emu.setOptions({ githubTokenStyle: "oauth-app" });
    const body = await (await githubExchangeBasic({ code: await githubCode({ scope: "repo user" }) })).json<Record<string, unknown>>();
    expect(body).toEqual({
      access_token: expect.stringMatching(/^gho_[A-Za-z0-9]{36}$/) as string,
      token_type: "bearer",
      scope: "repo,user",
    });
    const user = await call("/github/api/user", { headers: ghHeaders(body.access_token as string) });
    expect(user.headers.get("X-OAuth-Scopes")).toBe("repo, user");
  });

  it("revokes one token (204) or a whole grant with the app's Basic credentials; unknown tokens are 422", async () => {
    const a = await (await githubExchangeBasic({ code: await githubCode() })).json<Record<string, string>>();
    const b = await (await githubExchangeBasic({ code: await githubCode() })).json<Record<string, string>>();
    const revoke = (kind: string, token: string, auth = basic("emu-github-client", "emu-github-secret")) =>
      call(
        `/github/api/applications/emu-github-client/${kind}`,
        jsonBody({ access_token: token }, { Authorization: auth, "User-Agent": "t" }, "DELETE"),
      );

    expect((await revoke("token", a.access_token!, basic("emu-github-client", "bad"))).status).toBe(401);
    expect((await revoke("token", a.access_token!)).status).toBe(204);
    expect((await call("/github/api/user", { headers: ghHeaders(a.access_token!) })).status).toBe(401);
    expect((await call("/github/api/user", { headers: ghHeaders(b.access_token!) })).status).toBe(200);
    expect((await revoke("token", a.access_token!)).status).toBe(422);

    expect((await revoke("grant", b.access_token!)).status).toBe(204);
    expect((await call("/github/api/user", { headers: ghHeaders(b.access_token!) })).status).toBe(401);
  });

  describe("create issue", () => {
    async function token(account = 1001) {
      const body = await (await githubExchangeBasic({ code: await githubCode({ account }) })).json<Record<string, string>>();
      return body.access_token!;
    }
    const createIssue = (accessToken: string, repo: string, body: unknown) =>
      call(`/github/api/repos/${repo}/issues`, jsonBody(body, ghHeaders(accessToken)));

    it("creates issues (201) with numbers per repo and records them", async () => {
      const accessToken = await token();
      const response = await createIssue(accessToken, "octocat/spokedo-inbox", {
        title: "Ship it",
        body: "details",
        labels: ["bug", { name: "p1" }],
        assignees: ["octocat"],
      });
      expect(response.status).toBe(201);
      const issue = await response.json<Record<string, unknown>>();
      expect(issue).toMatchObject({
        number: 1,
        title: "Ship it",
        body: "details",
        state: "open",
        html_url: `${EMU}/github/octocat/spokedo-inbox/issues/1`,
        url: `${EMU}/github/api/repos/octocat/spokedo-inbox/issues/1`,
        labels: [{ name: "bug" }, { name: "p1" }],
        assignees: [{ login: "octocat" }],
        user: { login: "octocat", id: 1001 },
      });
      expect(response.headers.get("Location")).toBe(issue.url);
      expect(await (await createIssue(accessToken, "octocat/spokedo-inbox", { title: "Again" })).json<object>()).toMatchObject({
        number: 2,
      });
      expect(emu.created).toMatchObject([
        { provider: "github", kind: "issue", id: String(issue.id), url: issue.html_url, payload: { title: "Ship it" } },
        { provider: "github", kind: "issue", payload: { title: "Again" } },
      ]);
      const view = await call("/github/octocat/spokedo-inbox/issues/1");
      expect(await view.text()).toContain("Ship it");
    });

    it("answers 404 for unknown or invisible repos, 410 when issues are disabled, 422 without a title", async () => {
      const octocat = await token(1001);
      const hubot = await token(1002);
      const missing = await createIssue(octocat, "octocat/nope", { title: "x" });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ message: "Not Found", status: "404" });
      expect((await createIssue(hubot, "octocat/spokedo-inbox", { title: "x" })).status).toBe(404);

      const archived = await createIssue(octocat, "octocat/archived", { title: "x" });
      expect(archived.status).toBe(410);
      expect(await archived.json()).toMatchObject({ message: "Issues are disabled for this repo" });

      const noTitle = await createIssue(octocat, "octocat/hello-world", { body: "x" });
      expect(noTitle.status).toBe(422);
      const emptyTitle = await createIssue(octocat, "octocat/hello-world", { title: "" });
      expect(emptyTitle.status).toBe(422);
      expect(await emptyTitle.json()).toMatchObject({
        message: "Validation Failed",
        errors: [{ resource: "Issue", code: "missing_field", field: "title" }],
      });

      const badAssignee = await createIssue(octocat, "octocat/hello-world", { title: "x", assignees: ["stranger"] });
      expect(await badAssignee.json()).toMatchObject({ errors: [{ field: "assignees", code: "invalid", value: "stranger" }] });

      const badJson = await call("/github/api/repos/octocat/hello-world/issues", {
        method: "POST",
        body: "{oops",
        headers: { ...ghHeaders(octocat), "Content-Type": "application/json" },
      });
      expect(badJson.status).toBe(400);
      expect(await badJson.json()).toMatchObject({ message: "Problems parsing JSON" });
    });

    it("silently drops labels and assignees from users without push access to a public repo", async () => {
      const response = await createIssue(await token(1002), "octocat/hello-world", {
        title: "From hubot",
        labels: ["bug"],
        assignees: ["octocat"],
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ labels: [], assignees: [], author_association: "NONE" });
    });

    it("rate limits: primary 403 with x-ratelimit-remaining 0, secondary 429 with retry-after", async () => {
      const accessToken = await token();
      emu.failNext("github", "deliver", { kind: "rate_limited" });
      const primary = await createIssue(accessToken, "octocat/hello-world", { title: "x" });
      expect(primary.status).toBe(403);
      expect(primary.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(Number(primary.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
      expect(await primary.json()).toMatchObject({ message: "API rate limit exceeded for user ID 1001." });

      emu.failNext("github", "deliver", { kind: "rate_limited", retryAfterSeconds: 61, status: 429 });
      const secondary = await createIssue(accessToken, "octocat/hello-world", { title: "x" });
      expect(secondary.status).toBe(429);
      expect(secondary.headers.get("retry-after")).toBe("61");
      expect((await secondary.json<{ message: string }>()).message).toContain("secondary rate limit");

      expect((await createIssue(accessToken, "octocat/hello-world", { title: "x" })).status).toBe(201);
    });
  });
});

// ---------------------------------------------------------------- Slack

async function slackCode(options: { team?: string; scope?: string; userScope?: string } = {}) {
  const params: Record<string, string> = {
    client_id: EMULATOR_CLIENTS.slack.clientId,
    scope: options.scope ?? "chat:write,chat:write.customize",
    redirect_uri: callback("slack"),
    state: "st-slack",
  };
  if (options.userScope) params.user_scope = options.userScope;
  const location = await submitConsent(emu, authorizeUrl("/slack/oauth/v2/authorize", params), { account: options.team });
  return location.searchParams.get("code")!;
}

function slackAccess(values: Record<string, string>, auth: string | null = basic("emu-slack-client", "emu-slack-secret")) {
  return call("/slack/api/oauth.v2.access", form(values, auth ? { Authorization: auth } : {}));
}

async function slackTokens(options: Parameters<typeof slackCode>[0] = {}) {
  const body = await (
    await slackAccess({ code: await slackCode(options), redirect_uri: callback("slack") })
  ).json<Record<string, unknown>>();
  expect(body.ok).toBe(true);
  return body as { access_token: string; refresh_token: string; authed_user: Record<string, string> };
}

const slackApi = (method: string, token: string, body: unknown) =>
  call(`/slack/api/${method}`, jsonBody(body, { Authorization: `Bearer ${token}` }));

describe("Slack", () => {
  it("renders the consent page with bot and user scopes and the teams to install into", async () => {
    const response = await call(
      `/slack/oauth/v2/authorize?${new URLSearchParams({ client_id: "emu-slack-client", scope: "chat:write", user_scope: "users:read", team: "T0EMU0002" })}`,
    );
    const page = await response.text();
    const consent = readConsentForm(page);
    expect(consent.title).toBe("Authorize SpokeDo — Slack (emulated)");
    expect(consent.accounts).toEqual(["T0EMU0001", "T0EMU0002"]);
    expect(consent.checkedAccount).toBe("T0EMU0002");
    expect(page).toContain("bot: chat:write");
    expect(page).toContain("user: users:read");

    const badRedirect = await call(
      `/slack/oauth/v2/authorize?client_id=emu-slack-client&scope=chat:write&redirect_uri=${encodeURIComponent("https://evil.example/")}`,
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get("Location")).toBeNull();
    expect(await badRedirect.text()).toContain("bad_redirect_uri");
    expect((await call(`/slack/oauth/v2/authorize?client_id=unknown&scope=chat:write`)).status).toBe(400);
  });

  it("Deny redirects with error=access_denied", async () => {
    const url = authorizeUrl("/slack/oauth/v2/authorize", {
      client_id: "emu-slack-client",
      scope: "chat:write",
      redirect_uri: callback("slack"),
      state: "s1",
    });
    const location = await submitConsent(emu, url, { decision: "deny" });
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: "access_denied", state: "s1" });
  });

  it("exchanges a code for rotating bot and user tokens (Basic auth)", async () => {
    const code = await slackCode({ team: "T0EMU0002", userScope: "users:read" });
    const response = await slackAccess({ code, redirect_uri: callback("slack") });
    const body = await response.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      ok: true,
      token_type: "bot",
      scope: "chat:write,chat:write.customize",
      bot_user_id: "U0BOT0002",
      app_id: "A0EMUAPP01",
      team: { id: "T0EMU0002", name: "Emu Labs" },
      enterprise: null,
      is_enterprise_install: false,
      expires_in: 43200,
      authed_user: { id: "U0USER0002", scope: "users:read", token_type: "user", expires_in: 43200 },
    });
    expect(body.access_token).toMatch(/^xoxe\.xoxb-1-[A-Za-z0-9]{64}$/);
    expect(body.refresh_token).toMatch(/^xoxe-1-[A-Za-z0-9]{96}$/);
    expect((body.authed_user as Record<string, string>).access_token).toMatch(/^xoxe\.xoxp-1-/);
    expect(emu.tokens("slack").map((t) => [t.kind, t.accountId])).toEqual([
      ["user", "T0EMU0002"],
      ["bot", "T0EMU0002"],
    ]);
  });

  it("accepts client credentials in the body; rejects a bad secret, a bad redirect_uri and a reused code with ok:false", async () => {
    const code = await slackCode();
    const secret = await slackAccess(
      { code, client_id: "emu-slack-client", client_secret: "wrong", redirect_uri: callback("slack") },
      null,
    );
    expect(secret.status).toBe(200);
    expect(await secret.json()).toEqual({ ok: false, error: "bad_client_secret" });
    expect(await (await slackAccess({ code, redirect_uri: `${APP}/other` })).json()).toEqual({ ok: false, error: "bad_redirect_uri" });
    const ok = await slackAccess(
      { code, client_id: "emu-slack-client", client_secret: "emu-slack-secret", redirect_uri: callback("slack") },
      null,
    );
    expect(await ok.json()).toMatchObject({ ok: true });
    expect(await (await slackAccess({ code, redirect_uri: callback("slack") })).json()).toEqual({ ok: false, error: "invalid_code" });
  });

  it("issues long-lived xoxb tokens without expiry when rotation is off", async () => {
    emu.setOptions({ slackTokenRotation: false });
    const body = (await slackTokens()) as unknown as Record<string, unknown>;
    expect(body.access_token).toMatch(/^xoxb-\d+-\d+-[A-Za-z0-9]{32}$/);
    expect(body).not.toHaveProperty("expires_in");
    expect(body).not.toHaveProperty("refresh_token");
  });

  it("rotates refresh tokens once each; the old access token keeps working until it expires", async () => {
    const first = await slackTokens();
    const refresh = (token: string) => slackAccess({ grant_type: "refresh_token", refresh_token: token });
    const second = await (await refresh(first.refresh_token)).json<Record<string, string>>();
    expect(second).toMatchObject({ ok: true, token_type: "bot", expires_in: 43200, team: { id: "T0EMU0001" } });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await (await refresh(first.refresh_token)).json()).toEqual({ ok: false, error: "invalid_refresh_token" });
    expect(await (await slackApi("auth.test", first.access_token, {})).json()).toMatchObject({ ok: true });

    emu.setOptions({ slackRefreshErrorShape: "invalid_grant_400" });
    const wild = await refresh(first.refresh_token);
    expect(wild.status).toBe(400);
    expect(await wild.json()).toEqual({ error: "invalid_grant" });
  });

  it("auth.test answers with the bot identity; unknown, revoked and expired tokens get Slack's errors", async () => {
    const { access_token } = await slackTokens({ team: "T0EMU0002" });
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({
      ok: true,
      url: "https://emulabs.slack.com/",
      team: "Emu Labs",
      user: "spokedo",
      team_id: "T0EMU0002",
      user_id: "U0BOT0002",
      bot_id: "B0BOT0002",
      is_enterprise_install: false,
    });
    expect(await (await slackApi("auth.test", "xoxb-nope", {})).json()).toEqual({ ok: false, error: "invalid_auth" });
    emu.failNext("slack", "identity", { kind: "expired_token" });
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "token_expired" });
    emu.expireAccessTokens("slack");
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "token_expired" });

    const other = await slackTokens();
    await emu.revokeTokensOf("slack", "T0EMU0001");
    expect(await (await slackApi("auth.test", other.access_token, {})).json()).toEqual({ ok: false, error: "token_revoked" });
  });

  it("auth.revoke revokes the token (test=1 only pretends)", async () => {
    const { access_token } = await slackTokens();
    const pretend = await call("/slack/api/auth.revoke", form({ test: "1" }, { Authorization: `Bearer ${access_token}` }));
    expect(await pretend.json()).toEqual({ ok: true, revoked: false });
    const revoked = await call("/slack/api/auth.revoke", form({ token: access_token }));
    expect(await revoked.json()).toEqual({ ok: true, revoked: true });
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "token_revoked" });
  });

  describe("chat.postMessage", () => {
    it("posts by channel id (JSON) or #name (form) and records the message", async () => {
      const { access_token } = await slackTokens();
      const response = await slackApi("chat.postMessage", access_token, { channel: "C0GENERAL1", text: "Hello", username: "SpokeDo bot" });
      const body = await response.json<Record<string, unknown>>();
      expect(body).toMatchObject({
        ok: true,
        channel: "C0GENERAL1",
        ts: expect.stringMatching(/^\d{10}\.\d{6}$/) as string,
        message: { type: "message", subtype: "bot_message", username: "SpokeDo bot", text: "Hello", bot_id: "B0BOT0001" },
      });
      const viaForm = await call("/slack/api/chat.postMessage", form({ token: access_token, channel: "#alerts", text: "Hi" }));
      expect(await viaForm.json()).toMatchObject({ ok: true, channel: "C0ALERTS01" });
      expect(emu.created.map((item) => [item.kind, item.id.split("/")[0]])).toEqual([
        ["message", "C0GENERAL1"],
        ["message", "C0ALERTS01"],
      ]);
    });

    it("answers channel_not_found, not_in_channel, is_archived, no_text and missing_scope with HTTP 200 ok:false", async () => {
      const { access_token } = await slackTokens({ scope: "chat:write" });
      const post = async (body: Record<string, unknown>) => {
        const response = await slackApi("chat.postMessage", access_token, body);
        expect(response.status).toBe(200);
        return response.json();
      };
      expect(await post({ channel: "C0NOPE0001", text: "x" })).toEqual({ ok: false, error: "channel_not_found" });
      expect(await post({ channel: "G0SECRET01", text: "x" })).toEqual({ ok: false, error: "channel_not_found" });
      expect(await post({ channel: "C0GENERAL2", text: "x" })).toEqual({ ok: false, error: "channel_not_found" });
      expect(await post({ channel: "#random", text: "x" })).toEqual({ ok: false, error: "not_in_channel" });
      expect(await post({ channel: "C0OLDNEWS1", text: "x" })).toEqual({ ok: false, error: "is_archived" });
      expect(await post({ channel: "C0GENERAL1" })).toEqual({ ok: false, error: "no_text" });
      expect(await post({ channel: "C0GENERAL1", text: "x", username: "Bot" })).toEqual({
        ok: false,
        error: "missing_scope",
        needed: "chat:write.customize",
        provided: "chat:write",
      });
      expect(await post({ channel: "C0GENERAL1", blocks: [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }] })).toMatchObject({
        ok: true,
      });
    });

    it("chat:write.public lets the bot post in public channels it has not joined", async () => {
      const { access_token } = await slackTokens({ scope: "chat:write,chat:write.public" });
      expect(await (await slackApi("chat.postMessage", access_token, { channel: "C0RANDOM01", text: "x" })).json()).toMatchObject({
        ok: true,
      });
    });

    it("rate limits with 429, Retry-After and ratelimited", async () => {
      const { access_token } = await slackTokens();
      emu.failNext("slack", "deliver", { kind: "rate_limited", retryAfterSeconds: 7 });
      const limited = await slackApi("chat.postMessage", access_token, { channel: "C0GENERAL1", text: "x" });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Retry-After")).toBe("7");
      expect(await limited.json()).toEqual({ ok: false, error: "ratelimited" });
    });
  });

  it("an oauth_error fault answers the token request in Slack's shape, and a revoked_token fault on delivery", async () => {
    const code = await slackCode();
    emu.failNext("slack", "token", { kind: "oauth_error", code: "invalid_client_id" });
    expect(await (await slackAccess({ code, redirect_uri: callback("slack") })).json()).toEqual({ ok: false, error: "invalid_client_id" });
    const { access_token } = await (await slackAccess({ code, redirect_uri: callback("slack") })).json<{ access_token: string }>();
    emu.failNext("slack", "deliver", { kind: "revoked_token" });
    expect(await (await slackApi("chat.postMessage", access_token, { channel: "C0GENERAL1", text: "x" })).json()).toEqual({
      ok: false,
      error: "token_revoked",
    });
  });
});

// ---------------------------------------------------------------- Notion

const NOTION_VERSION = "2022-06-28";
const INBOX_DB = "d8000000-0000-4000-8000-000000000001";
const INBOX_SOURCE = "d5000000-0000-4000-8000-000000000001";

async function notionCode(workspace?: string) {
  const url = authorizeUrl("/notion/v1/oauth/authorize", {
    client_id: EMULATOR_CLIENTS.notion.clientId,
    redirect_uri: callback("notion"),
    response_type: "code",
    owner: "user",
    state: "st-notion",
  });
  return (await submitConsent(emu, url, { account: workspace })).searchParams.get("code")!;
}

const notionBasic = { Authorization: basic("emu-notion-client", "emu-notion-secret") };

async function notionTokens(workspace?: string) {
  const response = await call(
    "/notion/v1/oauth/token",
    jsonBody({ grant_type: "authorization_code", code: await notionCode(workspace), redirect_uri: callback("notion") }, notionBasic),
  );
  expect(response.status).toBe(200);
  return await response.json<Record<string, string>>();
}

const notionApi = (token: string, extra: Record<string, string> = {}) => ({
  Authorization: `Bearer ${token}`,
  "Notion-Version": NOTION_VERSION,
  ...extra,
});

function titleProperty(content: string) {
  return { Name: { title: [{ text: { content } }] } };
}

describe("Notion", () => {
  it("renders the consent page with workspaces and capabilities; Deny returns access_denied", async () => {
    const url = authorizeUrl("/notion/v1/oauth/authorize", {
      client_id: "emu-notion-client",
      response_type: "code",
      owner: "user",
      state: "n1",
    });
    const page = await (await call(url.slice(EMU.length))).text();
    const consent = readConsentForm(page);
    expect(consent.title).toBe("Authorize SpokeDo — Notion (emulated)");
    expect(consent.accounts).toEqual(["7c1e0000-0000-4000-8000-00000000a001", "7c1e0000-0000-4000-8000-00000000a002"]);
    expect(page).toContain("Insert content");
    const denied = await submitConsent(emu, url, { decision: "deny" });
    expect(Object.fromEntries(denied.searchParams)).toEqual({ error: "access_denied", state: "n1" });
    expect((await call("/notion/v1/oauth/authorize?client_id=nope&response_type=code&owner=user")).status).toBe(400);
  });

  it("exchanges a code with Basic auth and a JSON body (or a form body, as Arctic sends)", async () => {
    const body = await notionTokens("7c1e0000-0000-4000-8000-00000000a002");
    expect(body).toMatchObject({
      token_type: "bearer",
      bot_id: "b0700000-0000-4000-8000-00000000b002",
      workspace_id: "7c1e0000-0000-4000-8000-00000000a002",
      workspace_name: "Emu Labs Wiki",
      workspace_icon: null,
      owner: { type: "user", user: { object: "user", name: "Grace Hopper", person: { email: "grace@notion.emu" } } },
      duplicated_template_id: null,
    });
    expect(body.access_token).toMatch(/^ntn_[A-Za-z0-9]{46}$/);
    expect(body.refresh_token).toMatch(/^nrt_[A-Za-z0-9]{46}$/);
    expect(body).not.toHaveProperty("expires_in");

    const viaForm = await call(
      "/notion/v1/oauth/token",
      form({ grant_type: "authorization_code", code: await notionCode(), redirect_uri: callback("notion") }, notionBasic),
    );
    expect(await viaForm.json()).toMatchObject({ workspace_name: "Emu Notes" });
  });

  it("requires Basic auth; rejects a wrong redirect_uri and a reused code with 400 invalid_grant", async () => {
    const code = await notionCode();
    const exchange = (values: Record<string, string>, headers: Record<string, string> = notionBasic) =>
      call("/notion/v1/oauth/token", jsonBody({ grant_type: "authorization_code", code, ...values }, headers));

    const inBody = await exchange(
      { redirect_uri: callback("notion"), client_id: "emu-notion-client", client_secret: "emu-notion-secret" },
      {},
    );
    expect(inBody.status).toBe(401);
    expect(await inBody.json()).toMatchObject({ object: "error", status: 401, code: "invalid_client" });
    expect((await exchange({ redirect_uri: callback("notion") }, { Authorization: basic("emu-notion-client", "nope") })).status).toBe(401);

    const wrongRedirect = await exchange({ redirect_uri: `${APP}/other` });
    expect(wrongRedirect.status).toBe(400);
    expect(await wrongRedirect.json()).toMatchObject({ code: "invalid_grant" });

    expect((await exchange({ redirect_uri: callback("notion") })).status).toBe(200);
    const reused = await exchange({ redirect_uri: callback("notion") });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({
      object: "error",
      status: 400,
      code: "invalid_grant",
      message: "Invalid code: this code has been revoked.",
    });

    emu.setOptions({ notionErrorShape: "error" });
    expect(await (await exchange({ redirect_uri: callback("notion") })).json()).toEqual({
      error: "invalid_grant",
      error_description: "Invalid code: this code has been revoked.",
    });
  });

  it("rotates refresh tokens; a spent refresh token gets invalid_grant", async () => {
    const first = await notionTokens();
    const refresh = (token: string) =>
      call("/notion/v1/oauth/token", jsonBody({ grant_type: "refresh_token", refresh_token: token }, notionBasic));
    const second = await (await refresh(first.refresh_token!)).json<Record<string, string>>();
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.bot_id).toBe(first.bot_id);
    const again = await refresh(first.refresh_token!);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ code: "invalid_grant" });
    expect((await call("/notion/v1/users/me", { headers: notionApi(first.access_token!) })).status).toBe(200);
  });

  it("users/me returns the bot; missing Notion-Version, revoked and expired tokens are refused", async () => {
    const { access_token, bot_id } = await notionTokens();
    const me = await call("/notion/v1/users/me", { headers: notionApi(access_token!) });
    expect(await me.json()).toMatchObject({
      object: "user",
      id: bot_id,
      type: "bot",
      bot: { workspace_name: "Emu Notes", owner: { type: "user" } },
    });

    const noVersion = await call("/notion/v1/users/me", { headers: { Authorization: `Bearer ${access_token}` } });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ code: "missing_version" });

    emu.failNext("notion", "identity", { kind: "expired_token" });
    const expired = await call("/notion/v1/users/me", { headers: notionApi(access_token!) });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      object: "error",
      status: 401,
      code: "unauthorized",
      message: "API token is invalid.",
      request_id: expect.any(String) as string,
    });
    await emu.revokeTokensOf("notion", "7c1e0000-0000-4000-8000-00000000a001");
    expect((await call("/notion/v1/users/me", { headers: notionApi(access_token!) })).status).toBe(401);
  });

  it("revokes with Basic + JSON {token}; introspect then reports inactive", async () => {
    const { access_token } = await notionTokens();
    const introspect = async () =>
      await (await call("/notion/v1/oauth/introspect", jsonBody({ token: access_token }, notionBasic))).json<Record<string, unknown>>();
    expect(await introspect()).toMatchObject({ active: true, iat: expect.any(Number) as number });
    const revoke = await call("/notion/v1/oauth/revoke", jsonBody({ token: access_token }, notionBasic));
    expect(revoke.status).toBe(200);
    expect(Object.keys(await revoke.json<object>())).toEqual(["request_id"]);
    expect(await introspect()).toMatchObject({ active: false });
    expect((await call("/notion/v1/users/me", { headers: notionApi(access_token!) })).status).toBe(401);
  });

  describe("create page", () => {
    it("creates pages under a shared database (database_id) or data source (2025-09-03)", async () => {
      const { access_token } = await notionTokens();
      const response = await call(
        "/notion/v1/pages",
        jsonBody(
          {
            parent: { database_id: INBOX_DB },
            properties: { ...titleProperty("Weekly insight"), Tags: { multi_select: [{ name: "a" }] } },
          },
          notionApi(access_token!),
        ),
      );
      expect(response.status).toBe(200);
      const page = await response.json<Record<string, string>>();
      expect(page).toMatchObject({
        object: "page",
        parent: { type: "database_id", database_id: INBOX_DB },
        archived: false,
        in_trash: false,
      });
      expect(page.url).toBe(`${EMU}/notion/weekly-insight-${page.id!.replaceAll("-", "")}`);

      const bySource = await call(
        "/notion/v1/pages",
        jsonBody(
          { parent: { data_source_id: "d5000000-0000-4000-8000-000000000004" }, properties: { Task: { title: [] } } },
          notionApi(access_token!, { "Notion-Version": "2025-09-03" }),
        ),
      );
      expect(await bySource.json()).toMatchObject({
        parent: { type: "data_source_id", database_id: "d8000000-0000-4000-8000-000000000003" },
      });
      expect(emu.created.map((item) => item.kind)).toEqual(["page", "page"]);
    });

    it("answers 404 object_not_found for unshared databases and 400 validation_error for schema mismatches", async () => {
      const { access_token } = await notionTokens();
      const create = (body: unknown, version = NOTION_VERSION) =>
        call("/notion/v1/pages", jsonBody(body, notionApi(access_token!, { "Notion-Version": version })));

      const privateDb = await create({ parent: { database_id: "d8000000-0000-4000-8000-000000000002" }, properties: titleProperty("x") });
      expect(privateDb.status).toBe(404);
      expect(await privateDb.json()).toMatchObject({
        code: "object_not_found",
        message:
          "Could not find database with ID: d8000000-0000-4000-8000-000000000002. Make sure the relevant pages and databases are shared with your integration.",
      });
      // Another workspace's database is just as invisible.
      expect(
        (await create({ parent: { database_id: "d8000000-0000-4000-8000-000000000005" }, properties: titleProperty("x") })).status,
      ).toBe(404);

      const unknownProperty = await create({
        parent: { database_id: INBOX_DB },
        properties: { ...titleProperty("x"), Priority: { select: { name: "High" } } },
      });
      expect(unknownProperty.status).toBe(400);
      expect(await unknownProperty.json()).toMatchObject({
        code: "validation_error",
        message: "Could not find property with name or id: Priority",
      });
      expect(await (await create({ parent: { database_id: INBOX_DB }, properties: { Name: { rich_text: [] } } })).json()).toMatchObject({
        message: "Name is expected to be title.",
      });
      expect((await create({ parent: { database_id: "d8000000-0000-4000-8000-000000000003" }, properties: {} })).status).toBe(400);
      expect((await create({ parent: { data_source_id: INBOX_SOURCE }, properties: {} })).status).toBe(400);
      expect((await create({ parent: { data_source_id: INBOX_SOURCE }, properties: titleProperty("ok") }, "2025-09-03")).status).toBe(200);

      const missingVersion = await call(
        "/notion/v1/pages",
        jsonBody({ parent: { database_id: INBOX_DB } }, { Authorization: `Bearer ${access_token}` }),
      );
      expect(missingVersion.status).toBe(400);
      expect(await missingVersion.json()).toMatchObject({ code: "missing_version" });
    });

    it("rate limits with 429 rate_limited and Retry-After", async () => {
      const { access_token } = await notionTokens();
      emu.failNext("notion", "deliver", { kind: "rate_limited", retryAfterSeconds: 3 });
      const response = await call(
        "/notion/v1/pages",
        jsonBody({ parent: { database_id: INBOX_DB }, properties: titleProperty("x") }, notionApi(access_token!)),
      );
      expect(response.status).toBe(429);
      expect(response.headers.get("Retry-After")).toBe("3");
      expect(await response.json()).toMatchObject({ object: "error", status: 429, code: "rate_limited" });
    });
  });
});

// ---------------------------------------------------------------- Linear

const ENG_TEAM = "7e000000-0000-4000-8000-000000000001";
const OPS_TEAM = "7e000000-0000-4000-8000-000000000002";
const ISSUE_CREATE =
  "mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url title } } }";

async function linearCode(options: { account?: string; scope?: string; challenge?: { value: string; method: string } } = {}) {
  const params: Record<string, string> = {
    client_id: EMULATOR_CLIENTS.linear.clientId,
    redirect_uri: callback("linear"),
    response_type: "code",
    scope: options.scope ?? "read,write",
    state: "st-linear",
  };
  if (options.challenge)
    Object.assign(params, { code_challenge: options.challenge.value, code_challenge_method: options.challenge.method });
  return (await submitConsent(emu, authorizeUrl("/linear/oauth/authorize", params), { account: options.account })).searchParams.get(
    "code",
  )!;
}

function linearToken(values: Record<string, string>, headers: Record<string, string> = {}) {
  return call("/linear/api/oauth/token", form(values, headers));
}

async function linearTokens(options: Parameters<typeof linearCode>[0] = {}) {
  const response = await linearToken({
    grant_type: "authorization_code",
    code: await linearCode(options),
    redirect_uri: callback("linear"),
    client_id: "emu-linear-client",
    client_secret: "emu-linear-secret",
  });
  expect(response.status).toBe(200);
  return await response.json<Record<string, string>>();
}

const graphql = (token: string, query: string, variables?: unknown) =>
  call("/linear/api/graphql", jsonBody({ query, variables }, { Authorization: `Bearer ${token}` }));

describe("Linear", () => {
  it("renders the consent page with the workspaces; Deny returns access_denied; unknown scopes are refused", async () => {
    const url = authorizeUrl("/linear/oauth/authorize", {
      client_id: "emu-linear-client",
      redirect_uri: callback("linear"),
      response_type: "code",
      scope: "read,write",
      state: "l1",
    });
    const consent = readConsentForm(await (await call(url.slice(EMU.length))).text());
    expect(consent.title).toBe("Authorize SpokeDo — Linear (emulated)");
    expect(consent.accounts).toHaveLength(2);
    expect(Object.fromEntries((await submitConsent(emu, url, { decision: "deny" })).searchParams)).toEqual({
      error: "access_denied",
      state: "l1",
    });

    const badScope = await call(url.slice(EMU.length).replace("scope=read%2Cwrite", "scope=read%2Cteleport"));
    expect(new URL(badScope.headers.get("Location")!).searchParams.get("error")).toBe("invalid_scope");
    const badRedirect = await call(
      `/linear/oauth/authorize?client_id=emu-linear-client&response_type=code&redirect_uri=${encodeURIComponent(`${APP}/x`)}`,
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get("Location")).toBeNull();
  });

  it("exchanges a code with the secret in the form body (or Basic) for expiring, refreshable tokens", async () => {
    const body = await linearTokens();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 86399, scope: "read,write" });
    expect(body.access_token).toMatch(/^lin_oauth_[0-9a-f]{64}$/);
    expect(body.refresh_token).toMatch(/^lin_refresh_[0-9a-f]{64}$/);

    const spaced = await linearToken(
      { grant_type: "authorization_code", code: await linearCode({ scope: "write" }), redirect_uri: callback("linear") },
      { Authorization: basic("emu-linear-client", "emu-linear-secret") },
    );
    expect(await spaced.json()).toMatchObject({ scope: "read write" });
  });

  it("rejects a wrong secret, a wrong redirect_uri, a reused code and a JSON body", async () => {
    const code = await linearCode();
    const exchange = (values: Record<string, string>) =>
      linearToken({
        grant_type: "authorization_code",
        code,
        redirect_uri: callback("linear"),
        client_id: "emu-linear-client",
        client_secret: "emu-linear-secret",
        ...values,
      });
    const wrongSecret = await exchange({ client_secret: "nope" });
    expect(wrongSecret.status).toBe(400);
    expect(await wrongSecret.json()).toMatchObject({ error: "invalid_client" });
    const wrongRedirect = await exchange({ redirect_uri: `${APP}/other` });
    expect(wrongRedirect.status).toBe(400);
    expect(await wrongRedirect.json()).toMatchObject({ error: "invalid_grant" });
    expect((await exchange({})).status).toBe(200);
    const reused = await exchange({});
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: "invalid_grant" });

    const asJson = await call("/linear/api/oauth/token", jsonBody({ grant_type: "authorization_code", code }));
    expect(asJson.status).toBe(400);
    expect(await asJson.json()).toMatchObject({ error: "invalid_request" });
  });

  it("checks PKCE (S256 and plain); a PKCE client may leave the secret out", async () => {
    const { verifier, challenge } = await pkcePair();
    const code = await linearCode({ challenge: { value: challenge, method: "S256" } });
    const exchange = (extra: Record<string, string>) =>
      linearToken({ grant_type: "authorization_code", code, redirect_uri: callback("linear"), client_id: "emu-linear-client", ...extra });
    expect(await (await exchange({ code_verifier: (await pkcePair()).verifier })).json()).toMatchObject({ error: "invalid_grant" });
    expect(await (await exchange({ client_secret: "emu-linear-secret" })).json()).toMatchObject({ error: "invalid_grant" });
    expect(await (await exchange({ code_verifier: verifier })).json()).toHaveProperty("access_token");

    const plainCode = await linearCode({ challenge: { value: verifier, method: "plain" } });
    const plain = await linearToken({
      grant_type: "authorization_code",
      code: plainCode,
      redirect_uri: callback("linear"),
      client_id: "emu-linear-client",
      code_verifier: verifier,
    });
    expect(plain.status).toBe(200);
  });

  it("rotates refresh tokens (Basic or body credentials); a spent refresh token gets invalid_grant", async () => {
    const first = await linearTokens();
    const second = await (
      await linearToken(
        { grant_type: "refresh_token", refresh_token: first.refresh_token! },
        { Authorization: basic("emu-linear-client", "emu-linear-secret") },
      )
    ).json<Record<string, string>>();
    expect(second).toMatchObject({ token_type: "Bearer", expires_in: 86399, scope: "read,write" });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const again = await linearToken({
      grant_type: "refresh_token",
      refresh_token: first.refresh_token!,
      client_id: "emu-linear-client",
      client_secret: "emu-linear-secret",
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });
    const third = await linearToken({
      grant_type: "refresh_token",
      refresh_token: second.refresh_token!,
      client_id: "emu-linear-client",
      client_secret: "emu-linear-secret",
    });
    expect(third.status).toBe(200);
  });

  it("answers identity queries with exactly the requested fields", async () => {
    const { access_token } = await linearTokens({ account: "1e000000-0000-4000-8000-000000000002" });
    const response = await graphql(access_token!, "query Me { viewer { id name email } organization { id name urlKey } }");
    expect(response.status).toBe(200);
    expect(response.headers.get("X-RateLimit-Requests-Limit")).toBe("1200");
    expect(await response.json()).toEqual({
      data: {
        viewer: { id: "1e000000-0000-4000-8000-000000000002", name: "Grace Emu", email: "grace@linear.emu" },
        organization: { id: "0e000000-0000-4000-8000-000000000002", name: "Emu Labs", urlKey: "emulabs" },
      },
    });
    const nested = await graphql(access_token!, "{ me: viewer { __typename organization { teams { nodes { key } } } } }");
    expect(await nested.json()).toEqual({ data: { me: { __typename: "User", organization: { teams: { nodes: [{ key: "LAB" }] } } } } });

    const typo = await graphql(access_token!, "{ viewer { id nmae } }");
    expect(typo.status).toBe(400);
    // graphql-js's wording, suggestion included, as Linear answers (linear/linear#160).
    expect(await typo.json()).toMatchObject({
      errors: [
        { message: 'Cannot query field "nmae" on type "User". Did you mean "name"?', extensions: { code: "GRAPHQL_VALIDATION_FAILED" } },
      ],
    });
  });

  it("answers AUTHENTICATION_ERROR for expired or revoked tokens (401 by default, 200 when switched)", async () => {
    const { access_token } = await linearTokens();
    emu.expireAccessTokens("linear");
    const expired = await graphql(access_token!, "{ viewer { id } }");
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      errors: [
        {
          message: "Authentication required, not authenticated",
          extensions: {
            type: "authentication error",
            code: "AUTHENTICATION_ERROR",
            statusCode: 401,
            userError: true,
            userPresentableMessage: "You need to authenticate to access this operation.",
          },
        },
      ],
      data: null,
    });
    emu.setOptions({ linearAuthErrorStatus: 200 });
    const fresh = await linearTokens();
    emu.failNext("linear", "identity", { kind: "revoked_token" });
    const revoked = await graphql(fresh.access_token!, "{ viewer { id } }");
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ errors: [{ extensions: { code: "AUTHENTICATION_ERROR" } }] });
  });

  it("revokes by Bearer token (200), then refuses a second time (400)", async () => {
    const { access_token, refresh_token } = await linearTokens();
    const revoke = () => call("/linear/api/oauth/revoke", { method: "POST", headers: { Authorization: `Bearer ${access_token}` } });
    expect((await revoke()).status).toBe(200);
    expect((await revoke()).status).toBe(400);
    expect((await graphql(access_token!, "{ viewer { id } }")).status).toBe(401);
    expect(
      (
        await linearToken({
          grant_type: "refresh_token",
          refresh_token: refresh_token!,
          client_id: "emu-linear-client",
          client_secret: "emu-linear-secret",
        })
      ).status,
    ).toBe(400);

    const other = await linearTokens();
    expect((await call("/linear/api/oauth/revoke", form({ refresh_token: other.refresh_token! }))).status).toBe(200);
    expect((await graphql(other.access_token!, "{ viewer { id } }")).status).toBe(401);
  });

  describe("issueCreate", () => {
    it("creates issues with identifiers counting per team", async () => {
      const { access_token } = await linearTokens();
      const create = async (teamId: string, title: string) =>
        (
          await (
            await graphql(access_token!, ISSUE_CREATE, { input: { teamId, title, description: "d" } })
          ).json<{
            data: { issueCreate: { issue: Record<string, string> } };
          }>()
        ).data.issueCreate;
      const first = await create(ENG_TEAM, "First thing");
      expect(first).toMatchObject({
        success: true,
        issue: { identifier: "ENG-1", title: "First thing", url: `${EMU}/linear/emu/issue/ENG-1/first-thing` },
      });
      expect(Object.keys(first.issue)).toEqual(["id", "identifier", "url", "title"]);
      expect((await create(ENG_TEAM, "Second")).issue.identifier).toBe("ENG-2");
      expect((await create(OPS_TEAM, "Ops")).issue.identifier).toBe("OPS-1");
      expect(emu.created).toHaveLength(3);
      expect(emu.requestsTo("linear", "deliver")).toHaveLength(3);
      expect(emu.created[0]).toMatchObject({ provider: "linear", kind: "issue", payload: { teamId: ENG_TEAM, title: "First thing" } });
    });

    it("answers INPUT_ERROR for an unknown team, a validation error without teamId, FORBIDDEN for a read-only token", async () => {
      const { access_token } = await linearTokens();
      const unknown = await graphql(access_token!, ISSUE_CREATE, { input: { teamId: "7e000000-0000-4000-8000-000000000003", title: "x" } });
      expect(await unknown.json()).toMatchObject({
        errors: [{ message: "Entity not found: Team", path: ["issueCreate"], extensions: { type: "invalid input", code: "INPUT_ERROR" } }],
        data: null,
      });
      const noTeam = await graphql(access_token!, ISSUE_CREATE, { input: { title: "x" } });
      expect(noTeam.status).toBe(400);
      expect((await noTeam.json<{ errors: { message: string }[] }>()).errors[0]!.message).toContain(
        'Field "teamId" of required type "String!" was not provided.',
      );

      const readOnly = await linearTokens({ scope: "read" });
      expect(await (await graphql(readOnly.access_token!, ISSUE_CREATE, { input: { teamId: ENG_TEAM, title: "x" } })).json()).toMatchObject(
        {
          errors: [{ extensions: { code: "FORBIDDEN" } }],
        },
      );
      expect(emu.created).toHaveLength(0);
    });

    it("rate limits with RATELIMITED as HTTP 400 (default) or 200", async () => {
      const { access_token } = await linearTokens();
      emu.failNext("linear", "deliver", { kind: "rate_limited" });
      emu.failNext("linear", "deliver", { kind: "rate_limited", status: 200, retryAfterSeconds: 5 });
      const first = await graphql(access_token!, ISSUE_CREATE, { input: { teamId: ENG_TEAM, title: "x" } });
      expect(first.status).toBe(400);
      expect(await first.json()).toMatchObject({ errors: [{ extensions: { code: "RATELIMITED", type: "ratelimited", statusCode: 429 } }] });
      expect(first.headers.get("X-RateLimit-Requests-Remaining")).toBe("0");
      const second = await graphql(access_token!, ISSUE_CREATE, { input: { teamId: ENG_TEAM, title: "x" } });
      expect(second.status).toBe(200);
      expect(second.headers.get("Retry-After")).toBe("5");
      // Identity queries are not "deliver": they were untouched.
      expect((await graphql(access_token!, "{ viewer { id } }")).status).toBe(200);
    });
  });
});

// ---------------------------------------------------------------- Trello

// An OAuth 1.0a signer written for the test, separate from the emulator's verifier.
const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function hmacSha1(key: string, message: string) {
  const cryptoKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(message)))));
}

async function oauthSignature(method: string, url: string, params: Record<string, string>, consumerSecret: string, tokenSecret: string) {
  const target = new URL(url);
  const all = [...Object.entries(params), ...target.searchParams];
  const normalized = all
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join("&");
  const base = `${method}&${rfc3986(`${target.origin}${target.pathname}`)}&${rfc3986(normalized)}`;
  return hmacSha1(`${rfc3986(consumerSecret)}&${rfc3986(tokenSecret)}`, base);
}

async function signedTrello(
  path: string,
  options: {
    token?: string;
    tokenSecret?: string;
    extra?: Record<string, string>;
    consumerSecret?: string;
    timestamp?: number;
    nonce?: string;
  } = {},
) {
  const url = `${EMU}${path}`;
  const oauth: Record<string, string> = {
    oauth_consumer_key: EMULATOR_CLIENTS.trello.apiKey,
    oauth_nonce: options.nonce ?? crypto.randomUUID().replaceAll("-", ""),
    oauth_signature_method: "HMAC-SHA1",
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: "1.0",
    ...(options.token ? { oauth_token: options.token } : {}),
    ...options.extra,
  };
  oauth.oauth_signature = await oauthSignature(
    "POST",
    url,
    oauth,
    options.consumerSecret ?? EMULATOR_CLIENTS.trello.apiSecret,
    options.tokenSecret ?? "",
  );
  const header = `OAuth realm="", ${Object.entries(oauth)
    .map(([k, v]) => `${rfc3986(k)}="${rfc3986(v)}"`)
    .join(", ")}`;
  return call(path, { method: "POST", headers: { Authorization: header } });
}

async function trelloRequestToken(callbackUrl = `${callback("trello")}?flow=abc`) {
  const response = await signedTrello("/trello/1/OAuthGetRequestToken", { extra: { oauth_callback: callbackUrl } });
  expect(response.status).toBe(200);
  return new URLSearchParams(await bytesAsText(response));
}

async function trelloAccessToken(member?: string) {
  const request = await trelloRequestToken();
  const url = `${EMU}/trello/1/OAuthAuthorizeToken?${new URLSearchParams({ oauth_token: request.get("oauth_token")!, name: "SpokeDo", scope: "read,write", expiration: "never" })}`;
  const back = await submitConsent(emu, url, { account: member });
  const response = await signedTrello("/trello/1/OAuthGetAccessToken", {
    token: request.get("oauth_token")!,
    tokenSecret: request.get("oauth_token_secret")!,
    extra: { oauth_verifier: back.searchParams.get("oauth_verifier")! },
  });
  expect(response.status).toBe(200);
  return new URLSearchParams(await bytesAsText(response)).get("oauth_token")!;
}

const trelloQuery = (token: string) => `key=${EMULATOR_CLIENTS.trello.apiKey}&token=${token}`;
const LIST_TODO = "5e1c00000000000000000001";

describe("Trello", () => {
  it("the test's signer reproduces a published HMAC-SHA1 vector, and the emulator's base string matches RFC 5849 §3.4.1.1", async () => {
    const signature = await oauthSignature(
      "POST",
      "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
      {
        status: "Hello Ladies + Gentlemen, a signed OAuth request!",
        oauth_consumer_key: "xvz1evFS4wEEPTGEFPHBog",
        oauth_nonce: "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        oauth_signature_method: "HMAC-SHA1",
        oauth_timestamp: "1318622958",
        oauth_token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        oauth_version: "1.0",
      },
      "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
      "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    );
    expect(signature).toBe("hCtSmYh+iHYCEqBWrE7C7hYmtUk=");

    const url = new URL("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b");
    const params: [string, string][] = [
      ["oauth_consumer_key", "9djdj82h48djs9d2"],
      ["oauth_token", "kkk9d7dh3k39sjv7"],
      ["oauth_signature_method", "HMAC-SHA1"],
      ["oauth_timestamp", "137131201"],
      ["oauth_nonce", "7d8f3e4a"],
      ...url.searchParams,
      ...new URLSearchParams("c2&a3=2+q"),
    ];
    expect(signatureBaseString("POST", url, params)).toBe(
      "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
    );
  });

  it("runs the three-legged OAuth 1.0a flow; the access token works with the API key", async () => {
    const request = await trelloRequestToken();
    expect(request.get("oauth_callback_confirmed")).toBe("true");
    expect(request.get("oauth_token")).toMatch(/^[0-9a-f]{32}$/);

    const authorize = `${EMU}/trello/1/OAuthAuthorizeToken?${new URLSearchParams({ oauth_token: request.get("oauth_token")!, name: "SpokeDo", scope: "read,write", expiration: "never" })}`;
    const consent = readConsentForm(await (await call(authorize.slice(EMU.length))).text());
    expect(consent.title).toBe("Authorize SpokeDo — Trello (emulated)");
    expect(consent.accounts).toEqual(["5e1a00000000000000000001", "5e1a00000000000000000002"]);

    const back = await submitConsent(emu, authorize, { account: "5e1a00000000000000000002" });
    expect(`${back.origin}${back.pathname}`).toBe(callback("trello"));
    expect(back.searchParams.get("flow")).toBe("abc");
    expect(back.searchParams.get("oauth_token")).toBe(request.get("oauth_token"));
    const verifier = back.searchParams.get("oauth_verifier")!;

    const leg3 = {
      token: request.get("oauth_token")!,
      tokenSecret: request.get("oauth_token_secret")!,
      extra: { oauth_verifier: verifier },
    };
    const wrongSecret = await signedTrello("/trello/1/OAuthGetAccessToken", { ...leg3, tokenSecret: "not-it" });
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.text()).toBe("invalid signature");
    const access = await signedTrello("/trello/1/OAuthGetAccessToken", leg3);
    expect(access.status).toBe(200);
    const granted = new URLSearchParams(await bytesAsText(access));
    const token = granted.get("oauth_token")!;
    expect(token).toMatch(/^ATTA[0-9a-fA-F]{72}$/);
    expect(granted.get("oauth_token_secret")).toBeTruthy();
    expect((await signedTrello("/trello/1/OAuthGetAccessToken", leg3)).status).toBe(401);

    const me = await call(`/trello/api/1/members/me?${trelloQuery(token)}`);
    expect(await me.json()).toMatchObject({ id: "5e1a00000000000000000002", username: "trellomate", fullName: "Trello Mate" });
    const viaHeader = await call("/trello/api/1/members/me", {
      headers: { Authorization: `OAuth oauth_consumer_key="emu-trello-key", oauth_token="${token}"` },
    });
    expect(await viaHeader.json()).toMatchObject({ username: "trellomate" });

    const info = await call(`/trello/api/1/tokens/${token}?${trelloQuery(token)}`);
    expect(await info.json()).toMatchObject({
      identifier: "SpokeDo",
      idMember: "5e1a00000000000000000002",
      dateExpires: null,
      permissions: [{ modelType: "Board", read: true, write: true }, { modelType: "Organization" }, { modelType: "Member" }],
    });
    expect(emu.tokens("trello")).toMatchObject([{ accessToken: token, accountId: "5e1a00000000000000000002", revoked: false }]);
  });

  it("refuses bad signatures, stale timestamps, reused nonces, foreign callbacks and unknown keys", async () => {
    const cb = { oauth_callback: callback("trello") };
    const badSecret = await signedTrello("/trello/1/OAuthGetRequestToken", { extra: cb, consumerSecret: "guess" });
    expect(badSecret.status).toBe(401);
    expect(badSecret.headers.get("Content-Type")).toContain("text/plain");
    expect(await badSecret.text()).toBe("invalid signature");

    expect(
      await (await signedTrello("/trello/1/OAuthGetRequestToken", { extra: cb, timestamp: Math.floor(Date.now() / 1000) - 600 })).text(),
    ).toBe("invalid timestamp");
    const fixed = { extra: cb, nonce: "same-nonce", timestamp: Math.floor(Date.now() / 1000) };
    expect((await signedTrello("/trello/1/OAuthGetRequestToken", fixed)).status).toBe(200);
    expect(await (await signedTrello("/trello/1/OAuthGetRequestToken", fixed)).text()).toBe("invalid nonce");

    const foreign = await signedTrello("/trello/1/OAuthGetRequestToken", { extra: { oauth_callback: "https://evil.example/cb" } });
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toBe("invalid oauth_callback");
  });

  it("Deny sends the user back to the callback without an oauth_verifier, and the request token cannot be exchanged", async () => {
    const request = await trelloRequestToken();
    const url = `${EMU}/trello/1/OAuthAuthorizeToken?oauth_token=${request.get("oauth_token")}&name=SpokeDo&scope=read,write`;
    const back = await submitConsent(emu, url, { decision: "deny" });
    expect(back.searchParams.has("oauth_verifier")).toBe(false);
    const exchange = await signedTrello("/trello/1/OAuthGetAccessToken", {
      token: request.get("oauth_token")!,
      tokenSecret: request.get("oauth_token_secret")!,
      extra: { oauth_verifier: "guess" },
    });
    expect(exchange.status).toBe(401);
  });

  it("supports the /1/authorize flow with the token in the return_url fragment, and token expiry", async () => {
    const url = `${EMU}/trello/1/authorize?${new URLSearchParams({ key: "emu-trello-key", name: "SpokeDo", scope: "read,write", expiration: "1hour", response_type: "token", return_url: `${callback("trello")}?s=1` })}`;
    const back = await submitConsent(emu, url);
    const token = new URLSearchParams(back.hash.slice(1)).get("token")!;
    expect(token).toMatch(/^ATTA/);
    expect((await call(`/trello/api/1/members/me?${trelloQuery(token)}`)).status).toBe(200);
    emu.advanceTime(3601_000);
    const expired = await call(`/trello/api/1/members/me?${trelloQuery(token)}`);
    expect(expired.status).toBe(401);
    expect(await expired.text()).toBe("expired token");

    const denied = await submitConsent(emu, url, { decision: "deny" });
    expect(denied.hash).toBe("");
    const foreign = await call(`/trello/1/authorize?key=emu-trello-key&return_url=${encodeURIComponent("https://evil.example/")}`);
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("Location")).toBeNull();
  });

  it("answers 401 text/plain for unknown and revoked tokens and a wrong key; DELETE /tokens revokes", async () => {
    const token = await trelloAccessToken();
    const wrongKey = await call(`/trello/api/1/members/me?key=nope&token=${token}`);
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.text()).toBe("invalid key");
    expect(await (await call(`/trello/api/1/members/me?${trelloQuery("ATTAnope")}`)).text()).toBe("invalid token");

    const deleted = await call(`/trello/api/1/tokens/${token}?${trelloQuery(token)}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ _value: null });
    const after = await call(`/trello/api/1/members/me?${trelloQuery(token)}`);
    expect(after.status).toBe(401);
    expect(after.headers.get("Content-Type")).toContain("text/plain");
    expect(await after.text()).toBe("invalid token");
  });

  describe("create card", () => {
    it("creates cards (query, JSON or form parameters) and records them", async () => {
      const token = await trelloAccessToken();
      const response = await call(
        `/trello/api/1/cards?${trelloQuery(token)}&idList=${LIST_TODO}&name=${encodeURIComponent("Follow up")}&desc=details`,
        { method: "POST" },
      );
      expect(response.status).toBe(200);
      const card = await response.json<Record<string, string>>();
      expect(card).toMatchObject({
        name: "Follow up",
        desc: "details",
        idList: LIST_TODO,
        idBoard: "5e1b00000000000000000001",
        idShort: 1,
        closed: false,
      });
      expect(card.shortUrl).toBe(`${EMU}/trello/c/${card.shortLink}`);
      expect(card.url).toBe(`${EMU}/trello/c/${card.shortLink}/1-follow-up`);
      const viaJson = await call(`/trello/api/1/cards?${trelloQuery(token)}`, jsonBody({ idList: LIST_TODO, name: "Second" }));
      expect(await viaJson.json()).toMatchObject({ idShort: 2, name: "Second" });
      expect(emu.created.map((item) => item.payload)).toEqual([
        { idList: LIST_TODO, name: "Follow up", desc: "details" },
        { idList: LIST_TODO, name: "Second" },
      ]);
    });

    it("answers 400 text for a bad idList, 401 for a read-only token, 429 JSON when rate limited", async () => {
      const token = await trelloAccessToken();
      const badList = await call(`/trello/api/1/cards?${trelloQuery(token)}&idList=5e1c0000000000000000ffff&name=x`, { method: "POST" });
      expect(badList.status).toBe(400);
      expect(await badList.text()).toBe("invalid value for idList");
      expect((await call(`/trello/api/1/cards?${trelloQuery(token)}&name=x`, { method: "POST" })).status).toBe(400);
      expect((await call(`/trello/api/1/cards?${trelloQuery(token)}&idList=5e1c00000000000000000003`, { method: "POST" })).status).toBe(
        401,
      );

      const readOnly = `${EMU}/trello/1/authorize?${new URLSearchParams({ key: "emu-trello-key", scope: "read", return_url: callback("trello") })}`;
      const readToken = new URLSearchParams((await submitConsent(emu, readOnly)).hash.slice(1)).get("token")!;
      const refused = await call(`/trello/api/1/cards?${trelloQuery(readToken)}&idList=${LIST_TODO}`, { method: "POST" });
      expect(refused.status).toBe(401);
      expect(await refused.text()).toBe("unauthorized permission requested");

      emu.failNext("trello", "deliver", { kind: "rate_limited" });
      const limited = await call(`/trello/api/1/cards?${trelloQuery(token)}&idList=${LIST_TODO}`, { method: "POST" });
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({ error: "API_TOKEN_LIMIT_EXCEEDED", message: "Rate limit exceeded" });
    });
  });
});

// ---------------------------------------------------------------- faults, recording, admin API

describe("faults and recording", () => {
  it("applies a fault `times` times, then answers normally", async () => {
    emu.failNext("github", "identity", { kind: "http", status: 503 }, 2);
    const get = () => call("/github/api/user", { headers: { "User-Agent": "t" } });
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(401);
    expect(emu.requestsTo("github", "identity").map((r) => [r.status, r.faults])).toEqual([
      [503, ["http"]],
      [503, ["http"]],
      [401, []],
    ]);
  });

  it("keeps a fault queued until a request it fits arrives (invalid_code waits for the token endpoint)", async () => {
    emu.failNext("github", "token", { kind: "invalid_code" });
    const code = await githubCode();
    expect(emu.pendingFaults()).toHaveLength(1);
    expect(await (await githubExchangeBasic({ code })).json()).toMatchObject({ error: "bad_verification_code" });
    expect(emu.pendingFaults()).toHaveLength(0);
    expect(await (await githubExchangeBasic({ code })).json()).toHaveProperty("access_token");
  });

  it("malformed_json answers 200 with a truncated body; raw http faults carry the given body", async () => {
    emu.failNext("notion", "token", { kind: "malformed_json" });
    const truncated = await call("/notion/v1/oauth/token", jsonBody({ grant_type: "authorization_code", code: "x" }, notionBasic));
    expect(truncated.status).toBe(200);
    await expect(truncated.json()).rejects.toThrow();

    emu.failNext("trello", "identity", { kind: "http", status: 502, body: "<html>bad gateway</html>", contentType: "text/html" });
    const gateway = await call("/trello/api/1/members/me?key=emu-trello-key&token=x");
    expect(gateway.status).toBe(502);
    expect(gateway.headers.get("Content-Type")).toBe("text/html");
    expect(await gateway.text()).toBe("<html>bad gateway</html>");
  });

  it("oauth_error faults are provider-shaped: GitHub 200 body, Notion 400, Linear 400, and a redirect at authorize", async () => {
    emu.failNext("github", "token", { kind: "oauth_error", code: "incorrect_client_credentials", description: "nope" });
    const gh = await githubExchangeBasic({ code: "x" });
    expect(gh.status).toBe(200);
    expect(await gh.json()).toMatchObject({ error: "incorrect_client_credentials", error_description: "nope" });

    emu.failNext("notion", "refresh", { kind: "oauth_error", code: "invalid_grant", description: "gone" });
    const notionRefresh = await call("/notion/v1/oauth/token", jsonBody({ grant_type: "refresh_token", refresh_token: "x" }, notionBasic));
    expect(notionRefresh.status).toBe(400);
    expect(await notionRefresh.json()).toMatchObject({ object: "error", code: "invalid_grant", message: "gone" });

    emu.failNext("linear", "token", { kind: "oauth_error", code: "invalid_client" });
    expect(await (await linearToken({ grant_type: "authorization_code", code: "x" })).json()).toEqual({
      error: "invalid_client",
      error_description: "invalid_client",
    });

    emu.failNext("linear", "authorize", { kind: "oauth_error", code: "server_error" });
    const redirected = await call(`/linear/oauth/authorize?client_id=emu-linear-client&state=z`);
    expect(Object.fromEntries(new URL(redirected.headers.get("Location")!).searchParams)).toEqual({ error: "server_error", state: "z" });
  });

  it("records requests with headers (Authorization kept) and body; reset forgets everything", async () => {
    const { access_token } = await slackTokens();
    await slackApi("chat.postMessage", access_token, { channel: "C0GENERAL1", text: "hi" });
    const [post] = emu.requestsTo("slack", "deliver");
    expect(post).toMatchObject({
      provider: "slack",
      endpoint: "deliver",
      method: "POST",
      url: `${EMU}/slack/api/chat.postMessage`,
      status: 200,
    });
    expect(post!.headers.authorization).toBe(`Bearer ${access_token}`);
    expect(JSON.parse(post!.body)).toEqual({ channel: "C0GENERAL1", text: "hi" });
    emu.failNext("slack", "deliver", { kind: "http", status: 500 });

    emu.reset();
    expect(emu.requests).toHaveLength(0);
    expect(emu.created).toHaveLength(0);
    expect(emu.tokens("slack")).toHaveLength(0);
    expect(emu.pendingFaults()).toHaveLength(0);
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "invalid_auth" });
  });
});

describe("admin HTTP API and index page (worker mode)", () => {
  const admin = (path: string, body?: unknown) =>
    call(
      `/__emulator/${path}`,
      body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } },
    );

  it("queues faults, lists tokens, requests and created items, revokes, expires and resets over HTTP", async () => {
    expect(
      (await admin("faults", { provider: "slack", endpoint: "identity", fault: { kind: "http", status: 500 }, times: 1 })).status,
    ).toBe(200);
    expect((await call("/slack/api/auth.test", { method: "POST" })).status).toBe(500);
    expect((await admin("faults", { provider: "slack", endpoint: "nowhere", fault: { kind: "deny" } })).status).toBe(400);

    const { access_token } = await slackTokens();
    const tokens = await (await admin("tokens?provider=slack")).json<{ accessToken: string; accountId: string }[]>();
    expect(tokens).toMatchObject([{ accessToken: access_token, accountId: "T0EMU0001" }]);
    await slackApi("chat.postMessage", access_token, { channel: "C0GENERAL1", text: "hi" });
    expect(await (await admin("created")).json()).toMatchObject([{ provider: "slack", kind: "message" }]);
    expect((await (await admin("requests?provider=slack&endpoint=deliver")).json<unknown[]>()).length).toBe(1);

    await admin("expire", { provider: "slack" });
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "token_expired" });
    await admin("revoke", { provider: "slack", accountId: "T0EMU0001" });
    expect(await (await slackApi("auth.test", access_token, {})).json()).toEqual({ ok: false, error: "token_revoked" });

    expect(await (await admin("options", { notionErrorShape: "error" })).json()).toMatchObject({ notionErrorShape: "error" });
    await admin("reset", {});
    expect(await (await admin("requests")).json()).toEqual([]);
  });

  it("serves a plain HTML index listing the providers and the admin endpoints", async () => {
    const response = await call("/");
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const page = await response.text();
    for (const provider of ["github", "slack", "notion", "linear", "trello"]) expect(page).toContain(`${EMU}/${provider}`);
    expect(page).toContain("/__emulator/faults");
    expect(page).toContain(callback("linear"));
  });
});
