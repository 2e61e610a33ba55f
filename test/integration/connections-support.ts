import { env } from "cloudflare:workers";
import { afterEach, beforeEach } from "vitest";
import { openTokens } from "~/lib/connections/vault.server";
import { loadKeyRing } from "~/lib/platform/encryption.server";
import type { ConnectionRow } from "~/lib/platform/schema";
import { createEmulator, installEmulatorFetch, submitConsent, type Emulator, type Provider, type ProviderId } from "../emulator";
import { expect } from "vitest";
import { type Browser, database, pageHtml, signedUpUser } from "./helpers";

/** A fresh in-process provider emulator for every test, serving the app's outbound fetches. */
export function useEmulator(): () => Emulator {
  let emulator: Emulator | undefined;
  let uninstall: (() => void) | undefined;
  beforeEach(() => {
    emulator = createEmulator({ origin: "https://provider-emulator.test", appOrigin: env.APP_URL });
    uninstall = installEmulatorFetch(emulator);
  });
  afterEach(() => {
    uninstall?.();
    emulator = undefined;
  });
  return () => {
    if (!emulator) throw new Error("the emulator only exists inside a test");
    return emulator;
  };
}

export const PROVIDERS: Provider[] = ["github", "slack", "notion", "linear", "trello"];

/** Starts an authorization from SpokeDo: returns the provider URL the browser is sent to. */
export async function startConnect(browser: Browser, provider: ProviderId, name: string) {
  const response = await browser.post("/integration-connections/new", { provider, name });
  if (response.status !== 303) throw new Error(`starting ${provider} answered ${response.status}: ${await response.text()}`);
  return response.headers.get("Location")!;
}

/** Follows a provider redirect back into SpokeDo with the browser's cookies. */
export function returnToApp(browser: Browser, callback: URL) {
  return browser.get(`${callback.pathname}${callback.search}`);
}

/** The whole connect flow as a browser with JavaScript off goes through it. */
export async function connect(
  browser: Browser,
  emulator: Emulator,
  provider: Provider,
  name = `${provider}-main`,
  choice: { account?: string | number; decision?: "approve" | "deny" } = {},
) {
  const authorizeUrl = await startConnect(browser, provider, name);
  const callback = await submitConsent(emulator, authorizeUrl, choice);
  const response = await returnToApp(browser, callback);
  const location = response.headers.get("Location") ?? "";
  const id = /^\/integration-connections\/([0-9a-f-]{36})$/.exec(location)?.[1];
  return { response, location, id, callback };
}

export async function connectionRow(id: string) {
  return database().selectFrom("connections").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function storedTokens(row: ConnectionRow) {
  const ring = await loadKeyRing(env.TOKEN_ENCRYPTION_KEYS, env.TOKEN_ENCRYPTION_PRIMARY_KEY_ID);
  const tokens = await openTokens(ring, row);
  if (!tokens) throw new Error("the stored tokens do not decrypt");
  return tokens;
}

function d1Timing(response: Response) {
  const match = /d1;desc="(\d+) queries, (\d+) round trips"/.exec(response.headers.get("Server-Timing") ?? "");
  if (!match) throw new Error("no D1 query count on the response");
  return { statements: Number(match[1]), roundTrips: Number(match[2]) };
}

/** D1 statements the request prepared. */
export function queryCount(response: Response) {
  return d1Timing(response).statements;
}

/** Sequential waves of D1 round trips (statements that ran together count once). */
export function roundTrips(response: Response) {
  return d1Timing(response).roundTrips;
}

/** The connection's scheduled health check has come round (as if its due time had passed). */
export async function makeHealthCheckDue(connectionId: string) {
  await database()
    .updateTable("connections")
    .set({ health_due_at: Date.now() - 1000 })
    .where("id", "=", connectionId)
    .execute();
}

/** A new user with one connection (`{provider}-main` unless named), and the connection page's path. */
export async function connectedUser(emulator: Emulator, provider: Provider, options: { name?: string; account?: string | number } = {}) {
  const user = await signedUpUser();
  const choice = options.account === undefined ? {} : { account: options.account };
  const { id } = await connect(user.browser, emulator, provider, options.name ?? `${provider}-main`, choice);
  return { ...user, id: id!, path: `/integration-connections/${id}` };
}

/** The flash message on the page a 303 leads to. */
export async function flashAfter(browser: Browser, response: Response) {
  expect(response.status).toBe(303);
  const page = await pageHtml(await browser.get(response.headers.get("Location")!));
  const start = page.indexOf('class="flash');
  return start === -1 ? "" : page.slice(start, page.indexOf("</div>", start));
}
