// Linear's published GraphQL schema (shared/reference/linear/schema.graphql, from the SDK's
// schema.graphql), built once per isolate. Every query the emulator answers is validated
// against it with graphql-js, as Linear's own server does.
import { buildASTSchema, parse, type GraphQLSchema } from "graphql";
import LINEAR_SDL from "../../../shared/reference/linear/schema.graphql?raw";

let schema: GraphQLSchema | undefined;

export function linearSchema(): GraphQLSchema {
  // The SDL is Linear's own and valid; skipping its validation halves the build time.
  schema ??= buildASTSchema(parse(LINEAR_SDL, { noLocation: true }), { assumeValidSDL: true });
  return schema;
}

export { LINEAR_SDL };
