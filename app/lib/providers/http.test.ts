import { describe, expect, it } from "vitest";
import { ProviderError } from "./errors";
import { providerFetch, scrubSecrets, splitScopes } from "./http.server";
import type { ProviderContext } from "./types";

function context(fetch: ProviderContext["fetch"], timeoutMs?: number): ProviderContext {
  return {
    endpoints: { web: "https://provider.test", api: "https://provider.test/api" },
    credentials: { clientId: "id", clientSecret: "secret" },
    fetch,
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}

/** Rejects with the signal's reason once it aborts: a provider that keeps the caller waiting. */
const whenAborted = (signal: AbortSignal | null | undefined, then: (reason: Error) => void) =>
  signal?.addEventListener("abort", () => then(signal.reason as Error));

describe("providerFetch", () => {
  it("leaves no timer behind: more calls than workerd's 10,000 active timeouts per isolate", async () => {
    const answering = context(() => Promise.resolve(new Response('{"ok":true}', { status: 200 })));
    for (let i = 0; i < 10_050; i++) {
      const response = await providerFetch(answering, "https://provider.test/api/ping");
      expect(response.status).toBe(200);
    }
  });

  it("turns a provider that never answers, or stalls in its body, into a timeout", async () => {
    const never = context((_url, init) => new Promise((_, reject: (reason: Error) => void) => whenAborted(init?.signal, reject)), 50);
    const stalling = context(
      (_url, init) =>
        Promise.resolve(
          new Response(
            new ReadableStream({
              start(controller) {
                controller.enqueue(new TextEncoder().encode("{"));
                whenAborted(init?.signal, (reason) => controller.error(reason));
              },
            }),
          ),
        ),
      50,
    );
    for (const stalled of [never, stalling]) {
      const error = await providerFetch(stalled, "https://provider.test/api/slow").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: "timeout" });
    }
  });
});

describe("scrubSecrets", () => {
  it("removes token-shaped strings and known secrets", () => {
    const text = "bad token ghu_abcdefghijklmnop1234 and xoxe.xoxb-1-abcdefgh and Bearer abc.def.ghi123 and lin_oauth_0123456789abcdef";
    const scrubbed = scrubSecrets(text, ["my-client-secret"]);
    expect(scrubbed).not.toMatch(/ghu_|xoxe|abc\.def|lin_oauth_/);
    expect(scrubSecrets("oops my-client-secret leaked", ["my-client-secret"])).toBe("oops [redacted] leaked");
  });

  it("keeps provider wording and bounds its length", () => {
    expect(scrubSecrets("Bad credentials")).toBe("Bad credentials");
    expect(scrubSecrets("x".repeat(900))).toHaveLength(498);
  });
});

describe("splitScopes", () => {
  it("reads comma lists (GitHub, Slack), space lists and arrays (old Linear apps)", () => {
    expect(splitScopes("repo,gist")).toEqual(["repo", "gist"]);
    expect(splitScopes("read write")).toEqual(["read", "write"]);
    expect(splitScopes(["read", "issues:create"])).toEqual(["read", "issues:create"]);
    expect(splitScopes(undefined)).toEqual([]);
  });
});
