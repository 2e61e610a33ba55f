// The workerd half of `npm run bench` (test/bench/run.mjs runs it): the project's vitest setup
// (real D1 with the real migrations, the in-process provider emulator, the production server
// build) with the benchmark files instead of the test suites. Host environment variables do not
// reach workerd, so the knobs travel as bindings.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import tsconfigPaths from "vite-tsconfig-paths";
import { defineConfig } from "vitest/config";
import projectConfig, { TEST_BINDINGS } from "../../vitest.config";

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// workers-types declares `process` as any; this config runs in Node.
const { env } = process as NodeJS.Process;

export const BENCH_BINDINGS = {
  BENCH_SIZES: env.BENCH_SIZES ?? "100,1000,10000",
  BENCH_ROUNDS: env.BENCH_ROUNDS ?? "5",
  BENCH_DELIVERIES: env.BENCH_DELIVERIES ?? "4000",
};

export default defineConfig(async (env) => {
  const project = await projectConfig(env);
  return {
    ...project,
    root: root("../../"),
    plugins: [
      tsconfigPaths(),
      cloudflareTest({
        wrangler: { configPath: root("../../wrangler.toml") },
        miniflare: {
          bindings: { ...TEST_BINDINGS, ...BENCH_BINDINGS, TEST_MIGRATIONS: await readD1Migrations(root("../../migrations")) },
        },
      }),
    ],
    test: {
      ...project.test,
      reporters: ["default"],
      include: ["test/bench/**/*.bench.ts"],
      // One file at a time: the delivery rates must not share the machine with the page capture.
      fileParallelism: false,
    },
  };
});
