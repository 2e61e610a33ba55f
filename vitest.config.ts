import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import tsconfigPaths from "vite-tsconfig-paths";
import { defineConfig, type ViteUserConfig } from "vitest/config";

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Test-only configuration: providers point at the in-process emulator (test/emulator), and the
// key ring is random for every run, so no key material lives in the repository.
const EMULATOR = "https://provider-emulator.test";
export const TEST_BINDINGS = {
  APP_URL: "https://spokedo.test",
  TOKEN_ENCRYPTION_KEYS: `test1:${randomBytes(32).toString("base64url")},test2:${randomBytes(32).toString("base64url")}`,
  TOKEN_ENCRYPTION_PRIMARY_KEY_ID: "test2",
  // Tests drive deliveries step by step; background work must not outlive a test.
  DELIVERY_DISPATCH: "manual",
  GITHUB_CLIENT_ID: "emu-github-client",
  GITHUB_CLIENT_SECRET: "emu-github-secret",
  GITHUB_WEB_URL: `${EMULATOR}/github`,
  GITHUB_API_URL: `${EMULATOR}/github/api`,
  GITHUB_WEBHOOK_SECRET: "emu-github-webhook-secret",
  SLACK_CLIENT_ID: "emu-slack-client",
  SLACK_CLIENT_SECRET: "emu-slack-secret",
  SLACK_WEB_URL: `${EMULATOR}/slack`,
  SLACK_API_URL: `${EMULATOR}/slack/api`,
  SLACK_SIGNING_SECRET: "emu-slack-signing-secret",
  NOTION_CLIENT_ID: "emu-notion-client",
  NOTION_CLIENT_SECRET: "emu-notion-secret",
  NOTION_WEB_URL: `${EMULATOR}/notion`,
  NOTION_API_URL: `${EMULATOR}/notion`,
  LINEAR_CLIENT_ID: "emu-linear-client",
  LINEAR_CLIENT_SECRET: "emu-linear-secret",
  LINEAR_WEB_URL: `${EMULATOR}/linear`,
  LINEAR_API_URL: `${EMULATOR}/linear/api`,
  LINEAR_WEBHOOK_SECRET: "emu-linear-webhook-secret",
  TRELLO_API_KEY: "emu-trello-key",
  TRELLO_API_SECRET: "emu-trello-secret",
  TRELLO_WEB_URL: `${EMULATOR}/trello`,
  TRELLO_API_URL: `${EMULATOR}/trello/api`,
  // The test-only sixth provider (test/integration/sixth-provider): settings are read from the names its module declares.
  ACME_CLIENT_ID: "emu-acme-client",
  ACME_CLIENT_SECRET: "emu-acme-secret",
  ACME_WEB_URL: `${EMULATOR}/acme`,
  ACME_API_URL: `${EMULATOR}/acme`,
};

// workers-types declares `process` as any; this config runs in Node.
const { env } = process as NodeJS.Process;

// In CI a JSON report feeds the one-line summary printed by .ci/run.
const reporters: NonNullable<ViteUserConfig["test"]>["reporters"] = env.CI
  ? ["default", ["json", { outputFile: "reports/vitest.json" }]]
  : ["default"];

export default defineConfig(async () => ({
  plugins: [
    tsconfigPaths(),
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: await readD1Migrations(root("./migrations")) },
        // An empty database for tests that apply the migrations step by step.
        d1Databases: ["MIGRATION_DB"],
      },
    }),
  ],
  resolve: {
    // The Worker entry serves the production Remix build (`npm run build` runs first).
    // The server build imports domain modules as `~/lib/…` (see vite.config.ts): the tests and the
    // Worker then share one instance of each.
    alias: [
      { find: "virtual:remix/server-build", replacement: root("./build/server/index.js") },
      { find: /^~\/(.*)$/, replacement: `${root("./app/")}$1` },
    ],
  },
  test: {
    reporters,
    // Budgets that hold on a busy 2-core machine: the slowest test (50 concurrent deliveries)
    // takes ~1.7 s idle and ~7 s at a load average of 6. The fuzz tests set their own.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // `npm run bench` has its own configuration (test/bench/vitest.config.ts).
    include: ["test/integration/**/*.test.ts", "app/**/*.test.ts"],
    setupFiles: ["./test/integration/setup.ts"],
    // One module graph for every test file of a worker (decision 029): loading the app, Remix and
    // React once instead of per file takes the suite from ~480 s to ~175 s on 2 cores. Storage is
    // still reset after every test (setup.ts), and no test relies on fresh module state.
    isolate: false,
    deps: {
      optimizer: {
        ssr: {
          enabled: true,
          // Remix and React ship CommonJS; pre-bundle them so workerd can import them.
          include: [
            "@remix-run/cloudflare",
            "@remix-run/react",
            "@remix-run/server-runtime",
            "@remix-run/router",
            "react",
            "react/jsx-runtime",
            "react-dom",
            "react-dom/server",
            "cookie",
            "set-cookie-parser",
            // CommonJS: the Standard Webhooks library that signs outgoing webhooks.
            "standardwebhooks",
          ],
        },
      },
    },
  },
}));
