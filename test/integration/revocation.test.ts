import { describe, expect, it } from "vitest";
import { submitConsent, type Provider } from "../emulator";
import { connectedUser, connectionRow, flashAfter, returnToApp, storedTokens, useEmulator } from "./connections-support";
import type { Browser } from "./helpers";

// Revoke what SpokeDo no longer holds (issue 11, item 3): on delete, refresh tokens too; when
// re-authorizing replaces tokens, the old ones; when "Keep" drops another account's tokens, those.
// Every revocation is seen at the emulator.

const emulator = useEmulator();

function connected(provider: Provider, account?: string | number) {
  return connectedUser(emulator(), provider, { account });
}

/** The emulator's record of a token SpokeDo held. */
const issued = (provider: Provider, accessToken: string) =>
  emulator()
    .tokens(provider)
    .find((token) => token.accessToken === accessToken)!;

async function reauthorize(browser: Browser, path: string, account?: string | number) {
  const start = await browser.post(path, { intent: "reauthorize" });
  const callback = await submitConsent(emulator(), start.headers.get("Location")!, account === undefined ? {} : { account });
  return returnToApp(browser, callback);
}

describe("deleting a connection revokes what its tokens grant", () => {
  it("GitHub: the user's whole grant (refresh token included) when no other connection holds the account", async () => {
    const { browser, path, id } = await connected("github");
    const tokens = await storedTokens(await connectionRow(id));
    expect(tokens.refreshToken).toBeTruthy();
    const flash = await flashAfter(browser, await browser.post(`${path}/delete`, {}));
    expect(flash).toContain("The token, refresh token included, was revoked at GitHub.");
    expect(
      emulator()
        .requestsTo("github", "revoke")
        .map((request) => new URL(request.url).pathname.split("/").pop()),
    ).toEqual(["grant"]);
    expect(issued("github", tokens.accessToken).revoked).toBe(true);
  });

  it("GitHub: only the token when another connection (another workspace) holds the same account, which keeps working", async () => {
    const other = await connected("github");
    const { browser, path, id } = await connected("github");
    const tokens = await storedTokens(await connectionRow(id));
    await browser.post(`${path}/delete`, {});
    expect(
      emulator()
        .requestsTo("github", "revoke")
        .map((request) => new URL(request.url).pathname.split("/").pop()),
    ).toEqual(["token"]);
    expect(issued("github", tokens.accessToken).revoked).toBe(true);
    const kept = await storedTokens(await connectionRow(other.id));
    expect(issued("github", kept.accessToken).revoked).toBe(false);
    const tested = await flashAfter(other.browser, await other.browser.post(other.path, { intent: "test" }));
    expect(tested).toContain("GitHub confirmed the connection works");
  });

  it.each([
    ["linear", (body: string) => new URLSearchParams(body).get("refresh_token")],
    ["notion", (body: string) => (JSON.parse(body) as { token: string }).token],
  ] as const)("%s: revoked by the refresh token, which outlives an expired access token", async (provider, sent) => {
    const { browser, path, id } = await connected(provider);
    const tokens = await storedTokens(await connectionRow(id));
    expect(tokens.refreshToken).toBeTruthy();
    await browser.post(`${path}/delete`, {});
    const [request] = emulator().requestsTo(provider, "revoke");
    expect(sent(request!.body)).toBe(tokens.refreshToken);
    expect(issued(provider, tokens.accessToken).revoked).toBe(true);
  });
});

describe("re-authorizing revokes the tokens it replaces", () => {
  it("same account: the replaced token is revoked, the new one works", async () => {
    const { browser, path, id } = await connected("github");
    const before = await storedTokens(await connectionRow(id));
    const response = await reauthorize(browser, path);
    expect(await flashAfter(browser, response)).toContain("The replaced token, refresh token included, was revoked at GitHub.");
    const after = await storedTokens(await connectionRow(id));
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(issued("github", before.accessToken).revoked).toBe(true);
    expect(issued("github", after.accessToken).revoked).toBe(false);
    // The account is still held by the new tokens: the token alone, never the grant they share.
    expect(
      emulator()
        .requestsTo("github", "revoke")
        .map((request) => new URL(request.url).pathname.split("/").pop()),
    ).toEqual(["token"]);
  });

  it("another account, kept out with Keep: the other account's new tokens are revoked, the current ones stay", async () => {
    const { browser, path, id } = await connected("github");
    const current = await storedTokens(await connectionRow(id));
    await reauthorize(browser, path, 1002);
    const pendingToken = () =>
      emulator()
        .tokens("github")
        .find((token) => token.accountId === "1002")!;
    const kept = await flashAfter(browser, await browser.post(path, { intent: "cancel-account" }));
    expect(kept).toContain("Kept the current account");
    expect(kept).toContain("The token of hubot, refresh token included, was revoked at GitHub.");
    expect(pendingToken().revoked).toBe(true);
    expect(issued("github", current.accessToken).revoked).toBe(false);
    expect(
      emulator()
        .tokens("github")
        .filter((token) => token.accountId === "1002"),
    ).toHaveLength(1);
  });

  it("another account, confirmed: the first account's tokens are revoked", async () => {
    const { browser, path, id } = await connected("github");
    const first = await storedTokens(await connectionRow(id));
    await reauthorize(browser, path, 1002);
    const confirmed = await flashAfter(browser, await browser.post(path, { intent: "confirm-account" }));
    expect(confirmed).toContain("The token of octocat, refresh token included, was revoked at GitHub.");
    expect(issued("github", first.accessToken).revoked).toBe(true);
    const now = await storedTokens(await connectionRow(id));
    expect(issued("github", now.accessToken).revoked).toBe(false);
  });
});
