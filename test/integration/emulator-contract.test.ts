import { Validator, type Schema } from "@cfworker/json-schema";
import { Kind, parse, validate } from "graphql";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { createEmulator, grantFor, type Emulator } from "../emulator";
import { queryComplexity } from "../emulator/linear-api";
import { linearSchema } from "../emulator/linear-schema";

// Contract tests: the emulator's answers (and the requests sent to it) checked against the
// providers' official machine-readable descriptions — GitHub's OpenAPI description from
// @octokit/openapi, and Linear's GraphQL schema. Notion's and Slack's shapes are checked at
// compile time instead: the emulator builds them typed with @notionhq/client and @slack/web-api.

/** A response, or a reference to one in components.responses. */
type OpenApiResponse = { $ref?: string; content?: Record<string, { schema: unknown }> };

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, OpenApiResponse>;
        requestBody?: { content: Record<string, { schema: unknown }> };
      }
    >
  >;
  "x-webhooks": Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
  components: { schemas: Record<string, unknown>; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
};

let spec: OpenApi;
beforeAll(async () => {
  spec = (await import("@octokit/openapi/generated/api.github.com.json")).default as unknown as OpenApi;
}, 60_000);

/**
 * OpenAPI 3.0 → JSON Schema: `nullable` becomes a null type, and component references are
 * gathered into $defs (only those reachable, transitively).
 */
function jsonSchema(root: unknown): Schema {
  const defs: Record<string, unknown> = {};
  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (!node || typeof node !== "object") return node;
    const object = node as Record<string, unknown>;
    if (typeof object.$ref === "string") {
      const name = object.$ref.replace("#/components/schemas/", "");
      if (!(name in defs)) {
        defs[name] = {};
        defs[name] = convert(spec.components.schemas[name]);
      }
      return { $ref: `#/$defs/${name}` };
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object)) {
      if (key === "nullable" || key === "discriminator" || key === "example" || key === "examples") continue;
      out[key] =
        key === "properties" || key === "patternProperties"
          ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, convert(v)]))
          : convert(value);
    }
    if (object.nullable === true) {
      if (typeof out.type === "string") out.type = [out.type, "null"];
      else return { anyOf: [out, { type: "null" }] };
      if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    }
    return out;
  };
  const converted = convert(root) as Record<string, unknown>;
  return { ...converted, $defs: defs };
}

function responseSchema(path: string, method: string, status: number) {
  let response = spec.paths[path]?.[method]?.responses[String(status)];
  if (response?.$ref) response = spec.components.responses[response.$ref.replace("#/components/responses/", "")];
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`no ${status} schema for ${method.toUpperCase()} ${path}`);
  return jsonSchema(schema);
}

function expectValid(schema: Schema, value: unknown) {
  const result = new Validator(schema, "2020-12", false).validate(value);
  const errors = result.errors.filter(
    (error) => error.keyword !== "properties" && error.keyword !== "items" && error.keyword !== "$ref" && error.keyword !== "allOf",
  );
  // One line per distinct problem (array indexes folded), so a shape bug reads once.
  expect([...new Set(errors.map((error) => `${error.instanceLocation.replace(/\/\d+/g, "/*")}: ${error.error}`))]).toEqual([]);
  expect(result.valid).toBe(true);
}

const EMU = "https://emu.test";
const gh = (token: string) => ({
  Authorization: `Bearer ${token}`,
  "User-Agent": "spokedo-contract",
  Accept: "application/vnd.github+json",
  "Content-Type": "application/json",
});

describe("GitHub against its OpenAPI description", () => {
  let emu: Emulator;
  let octocat: string;
  let hubot: string;
  const get = (path: string, token: string) => emu.handle(new Request(`${EMU}/github/api${path}`, { headers: gh(token) }));
  const post = (path: string, token: string, body: unknown) =>
    emu.handle(new Request(`${EMU}/github/api${path}`, { method: "POST", headers: gh(token), body: JSON.stringify(body) }));

  beforeAll(async () => {
    emu = createEmulator({ origin: EMU, appOrigin: "https://spokedo.test" });
    octocat = (await grantFor(emu, "github", { account: 1001 })).accessToken;
    hubot = (await grantFor(emu, "github", { account: 1002 })).accessToken;
  });

  it("GET /user is a private-user", async () => {
    expectValid(jsonSchema({ $ref: "#/components/schemas/private-user" }), await (await get("/user", octocat)).json());
  });

  it("GET /user/repos, /repos/{owner}/{repo}, /labels, /assignees answer their 200 schemas; 404s are basic-error", async () => {
    expectValid(responseSchema("/user/repos", "get", 200), await (await get("/user/repos?per_page=100&page=2", hubot)).json());
    expectValid(responseSchema("/repos/{owner}/{repo}", "get", 200), await (await get("/repos/octocat/co-write", hubot)).json());
    expectValid(responseSchema("/repos/{owner}/{repo}", "get", 404), await (await get("/repos/octocat/spokedo-inbox", hubot)).json());
    expectValid(
      responseSchema("/repos/{owner}/{repo}/labels", "get", 200),
      await (await get("/repos/octocat/hello-world/labels?per_page=100", octocat)).json(),
    );
    expectValid(
      responseSchema("/repos/{owner}/{repo}/assignees", "get", 200),
      await (await get("/repos/emu-org/monorepo/assignees", hubot)).json(),
    );
    expectValid(
      responseSchema("/repos/{owner}/{repo}/assignees/{assignee}", "get", 404),
      await (await get("/repos/octocat/hello-world/assignees/hubot", octocat)).json(),
    );
    expect((await get("/user/repos?type=owner&visibility=all", hubot)).status).toBe(422);
    expectValid(responseSchema("/user/repos", "get", 422), await (await get("/user/repos?type=owner&visibility=all", hubot)).json());
  });

  it("POST /repos/{o}/{r}/issues: SpokeDo's request body fits the request schema; 201, 403, 404, 410 and 422 fit theirs", async () => {
    const requestBody = spec.paths["/repos/{owner}/{repo}/issues"]!.post!.requestBody!.content["application/json"]!.schema;
    const spokedoIssue = {
      title: "Disk almost full",
      body: "db-1 is at 93% disk usage.\n\n<!-- spokedo-delivery:4f0c1f0e-2f7b-4b7e-9d55-2d3f0a1b2c3d -->",
      labels: ["insight"],
      assignees: ["octocat"],
    };
    expectValid(jsonSchema(requestBody), spokedoIssue);
    const path = "/repos/{owner}/{repo}/issues";
    expectValid(responseSchema(path, "post", 201), await (await post("/repos/octocat/hello-world/issues", octocat, spokedoIssue)).json());
    expectValid(responseSchema(path, "post", 403), await (await post("/repos/octocat/legacy/issues", octocat, { title: "x" })).json());
    expectValid(responseSchema(path, "post", 404), await (await post("/repos/octocat/spokedo-inbox/issues", hubot, { title: "x" })).json());
    expectValid(responseSchema(path, "post", 410), await (await post("/repos/octocat/archived/issues", octocat, { title: "x" })).json());
    expectValid(
      responseSchema(path, "post", 422),
      await (await post("/repos/octocat/hello-world/issues", octocat, { title: "x", body: "x".repeat(70_000) })).json(),
    );
  });

  it("GET /repos/{o}/{r}/issues (pull requests included) and GET /search/issues answer their schemas", async () => {
    expectValid(
      responseSchema("/repos/{owner}/{repo}/issues", "get", 200),
      await (await get("/repos/octocat/hello-world/issues?state=all", octocat)).json(),
    );
    emu.advanceTime(60_000);
    const search = await (
      await get(`/search/issues?q=${encodeURIComponent("repo:octocat/hello-world is:issue spokedo-delivery")}`, octocat)
    ).json();
    expect(search).toMatchObject({ total_count: 1 });
    expectValid(responseSchema("/search/issues", "get", 200), search);
    expectValid(responseSchema("/search/issues", "get", 422), await (await get("/search/issues?q=", octocat)).json());
  });

  it("the github_app_authorization webhook body fits x-webhooks' request schema", async () => {
    const received: string[] = [];
    emu.setWebhookTarget("github", {
      url: "https://spokedo.test/webhooks/github",
      secret: "s",
      fetch: async (request) => (received.push(await request.text()), new Response(null, { status: 204 })),
    });
    await emu.revokeTokensOf("github", 1002);
    const schema = spec["x-webhooks"]["github-app-authorization-revoked"]!.post.requestBody.content["application/json"]!.schema;
    expect(received).toHaveLength(1);
    expectValid(jsonSchema(schema), JSON.parse(received[0]!));
  });
});

// ---------------------------------------------------------------- Linear

const sources = {
  ...import.meta.glob<string>("/app/**/*.{ts,tsx}", { query: "?raw", import: "default", eager: true }),
};
const testSources = {
  ...import.meta.glob<string>("/test/integration/emulator*.test.ts", { query: "?raw", import: "default", eager: true }),
  ...import.meta.glob<string>("/test/emulator/testing.ts", { query: "?raw", import: "default", eager: true }),
};

/** String literals that parse as GraphQL operations (`query …`/`mutation …`, and `{ … }` shorthand when asked). */
function graphqlStrings(files: Record<string, string>, shorthand = false) {
  const found = new Map<string, string>();
  const pattern = shorthand
    ? /(["'`])((?:query|mutation)\b[^"'`]*?\{[^"'`]*\}|\{\s*\w+[^"'`]*\})\1/g
    : /(["'`])((?:query|mutation)\b[^"'`]*?\{[^"'`]*\})\1/g;
  for (const [file, text] of Object.entries(files)) {
    for (const match of text.matchAll(pattern)) {
      const literal = match[2]!.replaceAll('\\"', '"');
      try {
        const document = parse(literal);
        if (document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION)) found.set(literal, file);
      } catch {
        // Not GraphQL (or deliberately broken): the tests of those answers cover them.
      }
    }
  }
  return found;
}

/** Queries the emulator tests send to see Linear's validation errors. */
const INVALID_ON_PURPOSE = new Set([
  "{ viewer { id nmae } }",
  'query { teams(first: \\"ten\\") { nodes { id } } }',
  'query { teams(first: "ten") { nodes { id } } }',
]);

describe("Linear queries against schema.graphql", () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await linearSchema();
  });

  it("every query and mutation SpokeDo sends validates", () => {
    const queries = graphqlStrings(sources);
    expect(queries.size).toBeGreaterThanOrEqual(2);
    expect([...queries.keys()].some((query) => query.includes("issueCreate"))).toBe(true);
    for (const [query, file] of queries) {
      expect(validate(schema, parse(query)).map((error) => `${file}: ${error.message}`)).toEqual([]);
    }
  });

  it("every query the emulator's tests send validates, except the ones that test validation errors", () => {
    const queries = graphqlStrings(testSources, true);
    expect(queries.size).toBeGreaterThanOrEqual(8);
    for (const [query, file] of queries) {
      if (INVALID_ON_PURPOSE.has(query)) continue;
      expect(validate(schema, parse(query)).map((error) => `${file}: ${query}: ${error.message}`)).toEqual([]);
    }
  });

  it("computes complexity as Linear's rate-limiting guide's own examples", () => {
    const complexity = (query: string) => {
      const document = parse(query);
      const operation = document.definitions.find(
        (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
      )!;
      return queryComplexity(schema, document, operation, {});
    };
    expect(complexity('query WhoAmI { user(id: "me") { name } }')).toBe(2);
    expect(complexity('query { user(id: "me") { createdIssues { nodes { id title createdAt } } } }')).toBe(66);
    expect(complexity('query MyCreatedIssues { user(id: "me") { createdIssues(first: 10) { nodes { id title createdAt } } } }')).toBe(14);
  });
});
