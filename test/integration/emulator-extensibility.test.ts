import { describe, expect, it } from "vitest";
import {
  createEmulator,
  createGenericOAuth2Part,
  PROVIDERS,
  readConsentForm,
  submitConsent,
  type Emulator,
  type Provider,
  type ProviderId,
} from "../emulator";

// A sixth provider is "one app module + one registry line + its emulator part": the emulator's
// provider set is open at runtime, and a standards-only OAuth 2.0 part is there to mount.

const EMU = "https://emu.test";
const APP = "https://spokedo.test";
const acme = () => createGenericOAuth2Part({ id: "acme", label: "Acme Tasks", clientId: "acme-client", clientSecret: "acme-secret" });
const basic = `Basic ${btoa("acme-client:acme-secret")}`;

// Built-ins stay exhaustive for Record<Provider, …>; any string id is a ProviderId.
const labels = { github: "GitHub", slack: "Slack", notion: "Notion", linear: "Linear", trello: "Trello" } satisfies Record<
  Provider,
  string
>;
const extra: ProviderId = "acme";

async function pkce() {
  const encode = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
  const verifier = encode(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

const call = (emu: Emulator, path: string, init: RequestInit = {}) =>
  emu.handle(new Request(`${EMU}${path}`, { redirect: "manual", ...init }));
const form = (values: Record<string, string>, headers: Record<string, string> = { Authorization: basic }): RequestInit => ({
  method: "POST",
  body: new URLSearchParams(values),
  headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
});

async function connect(emu: Emulator, scope = "profile items:write") {
  const { verifier, challenge } = await pkce();
  const params = {
    client_id: "acme-client",
    redirect_uri: `${APP}/integration-connections/callback/acme`,
    response_type: "code",
    scope,
    state: "s1",
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  const page = await call(emu, `/acme/oauth/authorize?${new URLSearchParams(params)}`);
  expect(readConsentForm(await page.text()).title).toBe("Authorize SpokeDo — Acme Tasks (emulated)");
  const back = await submitConsent(emu, `${EMU}/acme/oauth/authorize?${new URLSearchParams(params)}`, { account: "acct-2" });
  expect(back.searchParams.get("state")).toBe("s1");
  const token = await call(
    emu,
    "/acme/oauth/token",
    form({
      grant_type: "authorization_code",
      code: back.searchParams.get("code")!,
      redirect_uri: params.redirect_uri,
      code_verifier: verifier,
    }),
  );
  expect(token.status).toBe(200);
  return await token.json<{ access_token: string; refresh_token: string; token_type: string; expires_in: number; scope: string }>();
}

describe("runtime provider parts", () => {
  it("mounts extra parts beside the five built-ins, by option or by registerProvider, and refuses taken ids", () => {
    const emu = createEmulator({ origin: EMU, appOrigin: APP, extraProviders: [acme()] });
    expect(emu.providers()).toEqual([...PROVIDERS, "acme"]);
    expect(Object.keys(labels)).toEqual([...PROVIDERS]);
    expect(extra).toBe("acme");
    expect(() => emu.registerProvider(acme())).toThrow("already mounted");
    expect(() => emu.registerProvider(createGenericOAuth2Part({ id: "github", clientId: "x", clientSecret: "y" }))).toThrow(
      "already mounted",
    );
    expect(() => emu.registerProvider(createGenericOAuth2Part({ id: "Bad Id", clientId: "x", clientSecret: "y" }))).toThrow(
      "lowercase URL segment",
    );
    const later = createEmulator({ origin: EMU, appOrigin: APP });
    later.registerProvider(createGenericOAuth2Part({ id: "tasks-two", clientId: "x", clientSecret: "y" }));
    expect(later.providers()).toContain("tasks-two");
  });

  it("the generic part: code + PKCE S256, /me, /items, rotating refresh tokens with reuse detection, RFC 7009 revoke", async () => {
    const emu = createEmulator({ origin: EMU, appOrigin: APP, extraProviders: [acme()] });
    const tokens = await connect(emu);
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "profile items:write" });
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
    expect(await (await call(emu, "/acme/me", { headers: bearer(tokens.access_token) })).json()).toEqual({
      id: "acct-2",
      name: "Grace Example",
      email: "grace@example.emu",
    });
    const item = await call(emu, "/acme/items", {
      method: "POST",
      body: JSON.stringify({ title: "Disk full", body: "**db-1**" }),
      headers: { ...bearer(tokens.access_token), "Content-Type": "application/json" },
    });
    expect(item.status).toBe(201);
    expect(await item.json()).toMatchObject({ id: "item_1", title: "Disk full", body: "**db-1**", url: `${EMU}/acme/items/item_1` });
    expect(emu.created).toMatchObject([{ provider: "acme", kind: "item", payload: { title: "Disk full" } }]);

    const refreshed = await (
      await call(emu, "/acme/oauth/token", form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }))
    ).json<typeof tokens>();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // Reusing the spent refresh token is refused and ends the whole grant.
    const reuse = await call(emu, "/acme/oauth/token", form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }));
    expect([reuse.status, await reuse.json()]).toEqual([400, expect.objectContaining({ error: "invalid_grant" })]);
    const dead = await call(emu, "/acme/me", { headers: bearer(refreshed.access_token) });
    expect(dead.status).toBe(401);
    expect(dead.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');

    const again = await connect(emu);
    expect((await call(emu, "/acme/oauth/revoke", form({ token: "never-issued" }))).status).toBe(200);
    expect((await call(emu, "/acme/oauth/revoke", form({ token: again.refresh_token, token_type_hint: "refresh_token" }))).status).toBe(
      200,
    );
    expect((await call(emu, "/acme/me", { headers: bearer(again.access_token) })).status).toBe(401);
    const wrongClient = await call(emu, "/acme/oauth/revoke", form({ token: "x" }, { Authorization: `Basic ${btoa("acme-client:nope")}` }));
    expect(wrongClient.status).toBe(401);
  });

  it("refuses authorization without PKCE S256, enforces scopes, and takes faults and chaos like a built-in", async () => {
    const emu = createEmulator({ origin: EMU, appOrigin: APP, extraProviders: [acme()] });
    const noPkce = await call(
      emu,
      `/acme/oauth/authorize?${new URLSearchParams({ client_id: "acme-client", response_type: "code", state: "z" })}`,
    );
    expect(new URL(noPkce.headers.get("Location")!).searchParams.get("error")).toBe("invalid_request");
    const readOnly = await connect(emu, "profile");
    const denied = await call(emu, "/acme/items", {
      method: "POST",
      body: JSON.stringify({ title: "x" }),
      headers: { Authorization: `Bearer ${readOnly.access_token}`, "Content-Type": "application/json" },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');

    const tokens = await connect(emu);
    const create = () =>
      call(emu, "/acme/items", {
        method: "POST",
        body: JSON.stringify({ title: "x" }),
        headers: { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/json" },
      });
    emu.failNext("acme", "deliver", { kind: "rate_limited", retryAfterSeconds: 3 });
    const limited = await create();
    expect([limited.status, limited.headers.get("Retry-After")]).toEqual([429, "3"]);
    emu.setChaos({ seed: 9, rate5xx: 1, providers: ["acme"] });
    expect([502, 503, 504]).toContain((await create()).status);
    expect(emu.requestsTo("acme", "deliver").map((request) => request.status)).toEqual([403, 429, expect.any(Number)]);
    const index = await call(emu, "/");
    expect(await index.text()).toContain("/acme");
  });
});
