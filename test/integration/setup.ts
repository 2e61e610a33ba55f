import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, vi } from "vitest";

let consoleErrors: unknown[][] = [];
let allowedConsoleErrors = 0;

/** Declares that the current test expects `count` console.error calls (e.g. a provider outage). */
export function expectConsoleErrors(count: number) {
  allowedConsoleErrors += count;
}

/** The console.error lines of the current test so far. */
export function consoleErrorLines(): string[] {
  return consoleErrors.map((args) => args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(" "));
}

beforeEach(async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  consoleErrors = [];
  allowedConsoleErrors = 0;
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    consoleErrors.push(args);
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
  // An unexpected console.error is a failure, even when every assertion passed.
  const described = consoleErrors.map((args) =>
    args.map((arg) => (arg instanceof Error ? (arg.stack ?? String(arg)) : String(arg))).join(" "),
  );
  expect(consoleErrors.length, `unexpected console.error:\n${described.join("\n")}`).toBe(allowedConsoleErrors);
});
