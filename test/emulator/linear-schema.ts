// Linear's published GraphQL schema (shared/reference/linear/schema.graphql, from the SDK's
// schema.graphql), built once per isolate. Every query the emulator answers is validated
// against it with graphql-js, as Linear's own server does. The 1.2 MB text is loaded on first
// use, so only tests that talk to Linear's GraphQL endpoint pay for it.
import { buildASTSchema, parse, type GraphQLSchema } from "graphql";

let sdlSource: (() => Promise<string>) | undefined;
let schema: Promise<GraphQLSchema> | undefined;

/** The Worker entry hands the text over (wrangler imports it as a Text module). */
export function provideLinearSdl(sdl: string) {
  sdlSource = async () => sdl;
}

function viteSdl(): (() => Promise<string>) | undefined {
  // Under Vite (vitest), a lazy ?raw import; wrangler's bundler has no import.meta.glob.
  if (typeof import.meta.glob !== "function") return undefined;
  const loaders = import.meta.glob<string>("../../../shared/reference/linear/schema.graphql", { query: "?raw", import: "default" });
  return Object.values(loaders)[0];
}

export function linearSchema(): Promise<GraphQLSchema> {
  const load = sdlSource ?? viteSdl();
  if (!load) throw new Error("Linear's schema.graphql was not provided (shared/reference/linear/schema.graphql beside the repository)");
  schema ??= load().then((sdl) =>
    // The SDL is Linear's own and valid; skipping its validation halves the build time.
    buildASTSchema(parse(sdl, { noLocation: true }), { assumeValidSDL: true }),
  );
  return schema;
}
