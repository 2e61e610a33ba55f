import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import tsconfigPaths from "vite-tsconfig-paths";
import { defineConfig, type ViteUserConfig } from "vitest/config";

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// In CI a JSON report feeds the one-line summary printed by .ci/run.
const reporters: NonNullable<ViteUserConfig["test"]>["reporters"] = process.env.CI
  ? ["default", ["json", { outputFile: "reports/vitest.json" }]]
  : ["default"];

export default defineConfig(async () => ({
  plugins: [
    tsconfigPaths(),
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { TEST_MIGRATIONS: await readD1Migrations(root("./migrations")) },
      },
    }),
  ],
  resolve: {
    // The Worker entry serves the production Remix build (`npm run build` runs first).
    alias: { "virtual:remix/server-build": root("./build/server/index.js") },
  },
  test: {
    reporters,
    include: ["test/integration/**/*.test.ts", "app/**/*.test.ts"],
    setupFiles: ["./test/integration/setup.ts"],
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
          ],
        },
      },
    },
  },
}));
