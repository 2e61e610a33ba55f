import { defineConfig } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 8790);
const EMULATOR_PORT = PORT + 1;
const STATE = ".wrangler/e2e";

export default defineConfig({
  testDir: "test/e2e",
  timeout: 30_000,
  expect: { timeout: 10_000 },
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
      // Debian's Chromium: Playwright cannot download its own browser on this network.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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
    { name: "javascript-enabled", use: { javaScriptEnabled: true } },
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
