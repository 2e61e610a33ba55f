// Linear's published GraphQL schema (shared/reference/linear/schema.graphql, from the SDK's
// schema.graphql), built once per isolate. Every query the emulator answers is validated
// against it with graphql-js, as Linear's own server does.
import { buildASTSchema, parse, type GraphQLSchema } from "graphql";

let sdlSource: Promise<string> | undefined;
let schema: Promise<GraphQLSchema> | undefined;

/** The Worker entry hands the text over (wrangler imports it as a Text module). */
export function provideLinearSdl(sdl: string) {
  sdlSource = Promise.resolve(sdl);
}

// Under Vite (vitest) the 1.2 MB text comes through a lazy ?raw import, which takes about a
// second to arrive: start it as soon as the emulator is imported, so that the first request to
// Linear's GraphQL endpoint does not pay for it inside a test's time limit. Wrangler's bundler
// has no import.meta.glob; the Worker entry calls provideLinearSdl instead.
if (typeof import.meta.glob === "function") {
  const loaders = import.meta.glob<string>("../../../shared/reference/linear/schema.graphql", { query: "?raw", import: "default" });
  const load = Object.values(loaders)[0];
  if (load) {
    sdlSource = load();
    // Failures surface on first use; the prefetch alone must not be an unhandled rejection.
    sdlSource.catch(() => undefined);
  }
}

/** Descriptions are documentation only: dropping them before parsing halves the work. */
const withoutDescriptions = (sdl: string) => sdl.replace(/"""[\s\S]*?"""/g, "").replace(/^\s*"(?:[^"\\\n]|\\.)*"\s*$/gm, "");

export function linearSchema(): Promise<GraphQLSchema> {
  if (!sdlSource) return Promise.reject(new Error("Linear's schema.graphql was not provided (shared/reference/linear/schema.graphql beside the repository)"));
  schema ??= sdlSource.then((sdl) =>
    // The SDL is Linear's own and valid; skipping its validation saves more time.
    buildASTSchema(parse(withoutDescriptions(sdl), { noLocation: true }), { assumeValidSDL: true }),
  );
  return schema;
}
