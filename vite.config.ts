import { cloudflareDevProxyVitePlugin, vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";
import tsconfigPaths from "vite-tsconfig-paths";
import { createRequestContext } from "./app/lib/platform/context.server";

const LIB = fileURLToPath(new URL("./app/lib/", import.meta.url));
const libPath = (id: string) => `~/lib/${id.slice(LIB.length).replace(/\.tsx?$/, "")}`;

export default defineConfig(({ isSsrBuild }) => ({
  plugins: [
    // `npm run dev` only: hot reload with real local bindings. `npm start` runs the built Worker
    // itself (request guard and security headers included) under wrangler.
    cloudflareDevProxyVitePlugin<Env, IncomingRequestCfProperties>({
      getLoadContext: ({ request, context }) =>
        createRequestContext({
          request,
          env: context.cloudflare.env,
          cspNonce: "",
          waitUntil: (promise) => context.cloudflare.ctx.waitUntil(promise),
        }),
    }),
    remix({
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_lazyRouteDiscovery: true,
      },
      ignoredRouteFiles: ["**/*.test.*", "**/schema.ts"],
    }),
    tsconfigPaths(),
  ],
  ssr: {
    resolve: {
      conditions: ["workerd", "worker", "browser"],
      externalConditions: ["workerd", "worker"],
    },
  },
  resolve: {
    mainFields: ["browser", "module", "main"],
  },
  build: {
    minify: true,
    // The server build leaves app/lib out: routes import domain modules as `~/lib/…`, which
    // wrangler bundles once with the Worker entry (and the tests import as well), so each domain
    // module exists once per isolate.
    rollupOptions: isSsrBuild
      ? {
          external: (id: string) => id.startsWith(LIB),
          makeAbsoluteExternalsRelative: false,
          output: { paths: (id: string) => (id.startsWith(LIB) ? libPath(id) : id) },
        }
      : {},
  },
}));
