// Linear's published GraphQL schema (shared/reference/linear/schema.graphql, from the SDK's
// schema.graphql), built once per isolate. Every query the emulator answers is validated
// against it with graphql-js, as Linear's own server does. The 1.2 MB text is loaded on first
// use, so only tests that talk to Linear's GraphQL endpoint pay for it.
import { buildASTSchema, parse, type GraphQLSchema } from "graphql";

let schema: Promise<GraphQLSchema> | undefined;

export function linearSchema(): Promise<GraphQLSchema> {
  schema ??= import("../../../shared/reference/linear/schema.graphql?raw").then(({ default: sdl }) =>
    // The SDL is Linear's own and valid; skipping its validation halves the build time.
    buildASTSchema(parse(sdl, { noLocation: true }), { assumeValidSDL: true }),
  );
  return schema;
}
