import { cloudflareDevProxyVitePlugin, vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";
import tsconfigPaths from "vite-tsconfig-paths";
import { createRequestContext } from "./app/lib/context.server";

export default defineConfig({
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
  },
});
