import { describe, expect, it } from "vitest";
import { scrubSecrets, splitScopes } from "./http.server";

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
