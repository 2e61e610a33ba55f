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

// Under Vite (vitest) the 1.2 MB text is imported with the emulator (it takes a second or two
// to arrive through the worker pool): loading it later, inside the first test that talks to
// Linear or while another test runs, pushed such tests past their time limit. Wrangler's bundler
// has no import.meta.glob; the Worker entry calls provideLinearSdl instead.
if (typeof import.meta.glob === "function") {
  const texts = import.meta.glob<string>("../../../shared/reference/linear/schema.graphql", {
    query: "?raw",
    import: "default",
    eager: true,
  });
  const text = Object.values(texts)[0];
  if (text !== undefined) sdlSource = Promise.resolve(text);
}

/** Descriptions are documentation only: dropping them before parsing halves the work. */
const withoutDescriptions = (sdl: string) => sdl.replace(/"""[\s\S]*?"""/g, "").replace(/^\s*"(?:[^"\\\n]|\\.)*"\s*$/gm, "");

export function linearSchema(): Promise<GraphQLSchema> {
  if (!sdlSource)
    return Promise.reject(
      new Error("Linear's schema.graphql was not provided (shared/reference/linear/schema.graphql beside the repository)"),
    );
  schema ??= sdlSource.then((sdl) =>
    // The SDL is Linear's own and valid; skipping its validation saves more time.
    buildASTSchema(parse(withoutDescriptions(sdl), { noLocation: true }), { assumeValidSDL: true }),
  );
  return schema;
}
