import { defineConfig } from "@playwright/test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PORT = Number(process.env.E2E_PORT ?? 8790);
const EMULATOR_PORT = PORT + 1;
const STATE = ".wrangler/e2e";

// Playwright cannot download its own browser on this network. Use the one named by CHROMIUM_PATH,
// else the system's, else the Chromium that the @sparticuz/chromium package ships. Written back
// to the environment so the test workers (which load this file again) inherit the answer.
process.env.CHROMIUM_PATH ??= existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : await unpackBundledChromium();

/**
 * Unpacks the package's Chromium once per machine and package version. The package itself
 * would write /tmp/chromium in place and reuse whatever it finds there: a binary cut short by an
 * interrupted or concurrent run, or one from an older version. So it unpacks into a fresh folder
 * that is renamed into place only when complete.
 */
async function unpackBundledChromium() {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error("@sparticuz/chromium ships Chromium for Linux x64 only: set CHROMIUM_PATH to a local Chrome or Chromium");
  }
  const packageJson = new URL("node_modules/@sparticuz/chromium/package.json", import.meta.url);
  const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string };
  const folder = join(tmpdir(), `sparticuz-chromium-${version}`);
  if (existsSync(folder)) return join(folder, "chromium");

  console.log(`Unpacking the Chromium of @sparticuz/chromium ${version} into ${folder} (once per machine)`);
  const { default: chromium } = await import("@sparticuz/chromium");
  const staging = await mkdtemp(`${folder}.partial-`);
  // The package unpacks into os.tmpdir(), which follows TMPDIR.
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await chromium.executablePath();
    await rename(staging, folder);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another run may have finished first: its copy is as good as ours.
    if (!existsSync(folder)) throw error;
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
  return join(folder, "chromium");
}

export default defineConfig({
  testDir: "test/e2e",
  // Budgets for a busy 2-core machine: the longest story takes ~27 s idle and ~40 s with both
  // cores loaded.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: true,
  retries: 0,
  reporter: process.env.CI
    ? [["list"], ["json", { outputFile: "reports/playwright.json" }]]
    : [["list"], ["html", { open: "never", outputFolder: "reports/playwright" }]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH,
      // The same flags for every Chromium. @sparticuz/chromium's own `args` are for AWS Lambda
      // (--single-process, --no-zygote, --disable-web-security…): none is needed here, and
      // turning web security off would hide what these tests check.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "javascript-disabled", use: { javaScriptEnabled: false } },
    // health.spec.ts revokes a provider account the emulator shares with every test: told once, with JavaScript off.
    { name: "javascript-enabled", use: { javaScriptEnabled: true }, testIgnore: /health\.spec\.ts$/ },
  ],
  webServer: {
    // The built Worker under wrangler beside the provider emulator, on a fresh, migrated local
    // D1 and freshly generated local secrets for every run.
    command: [
      `rm -rf ${STATE}`,
      `CI=true wrangler d1 migrations apply DB --local --persist-to ${STATE}/d1`,
      `node test/emulator/run-local.mjs --app-port ${PORT} --emulator-port ${EMULATOR_PORT} --vars ${STATE}/dev.vars --persist-to ${STATE}/d1`,
    ].join(" && "),
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: { WRANGLER_SEND_METRICS: "false" },
  },
});
