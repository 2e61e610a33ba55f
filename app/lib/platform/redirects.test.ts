import { describe, expect, it } from "vitest";
import { safeRedirectPath } from "./redirects";

describe("safeRedirectPath", () => {
  it.each([
    ["/integration-connections/abc?x=1#top", "/integration-connections/abc?x=1#top"],
    ["/settings/workspace", "/settings/workspace"],
  ])("keeps internal path %s", (input, expected) => {
    expect(safeRedirectPath(input)).toBe(expected);
  });

  it.each([
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example/../",
    "/\t/evil.example",
    "/\n/evil.example",
    "",
    "evil",
    "/" + "a".repeat(3000),
    undefined,
    42,
  ])("rejects %s", (input) => {
    const result = safeRedirectPath(input, "/fallback");
    expect(result === "/fallback" || (result.startsWith("/") && !result.startsWith("//"))).toBe(true);
    expect(new URL(result, "https://spokedo.test").origin).toBe("https://spokedo.test");
  });

  it("falls back for protocol-relative and backslash tricks exactly", () => {
    for (const input of ["//evil.example", "/\\evil.example", "https://evil.example/", "/\t/evil"]) {
      expect(safeRedirectPath(input, "/fallback")).toBe("/fallback");
    }
  });
});
