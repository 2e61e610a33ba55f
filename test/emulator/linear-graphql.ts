// Just enough GraphQL for the emulated Linear API: parse one operation, check
// its selections against a small slice of Linear's schema, then project plain
// objects through it, so the app only gets back the fields it asked for and a
// typo in a field name fails the way the real API fails.

export type ArgValue =
  | { kind: "variable"; name: string }
  | { kind: "literal"; value: unknown };

export interface FieldNode {
  name: string;
  alias: string | null;
  args: Map<string, ArgValue>;
  selections: FieldNode[];
  line: number;
  column: number;
}

export interface Operation {
  type: "query" | "mutation";
  selections: FieldNode[];
}

export class GraphQLSyntaxError extends Error {}

export class GraphQLValidationError extends Error {
  constructor(
    message: string,
    readonly location?: { line: number; column: number },
  ) {
    super(message);
  }
}

interface Token {
  kind: "punct" | "name" | "string" | "number" | "spread" | "eof";
  value: string;
  pos: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/[\s,\uFEFF]/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (source.startsWith("...", i)) {
      tokens.push({ kind: "spread", value: "...", pos: i });
      i += 3;
    } else if ("{}():!$=[]@|".includes(c)) {
      tokens.push({ kind: "punct", value: c, pos: i });
      i++;
    } else if (/[_A-Za-z]/.test(c)) {
      const match = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i))!;
      tokens.push({ kind: "name", value: match[0], pos: i });
      i += match[0].length;
    } else if (/[-0-9]/.test(c)) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i));
      if (!match) throw new GraphQLSyntaxError(`Syntax Error: Unexpected "${c}".`);
      tokens.push({ kind: "number", value: match[0], pos: i });
      i += match[0].length;
    } else if (source.startsWith('"""', i)) {
      const end = source.indexOf('"""', i + 3);
      if (end === -1) throw new GraphQLSyntaxError("Syntax Error: Unterminated string.");
      tokens.push({ kind: "string", value: source.slice(i + 3, end), pos: i });
      i = end + 3;
    } else if (c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"') j += source[j] === "\\" ? 2 : 1;
      if (j >= source.length) throw new GraphQLSyntaxError("Syntax Error: Unterminated string.");
      tokens.push({ kind: "string", value: JSON.parse(source.slice(i, j + 1)) as string, pos: i });
      i = j + 1;
    } else {
      throw new GraphQLSyntaxError(`Syntax Error: Unexpected character: "${c}".`);
    }
  }
  tokens.push({ kind: "eof", value: "<EOF>", pos: source.length });
  return tokens;
}

class Parser {
  private index = 0;
  private fragments = new Map<string, FieldNode[]>();
  private tokens: Token[];

  constructor(private source: string) {
    this.tokens = tokenize(source);
  }

  private peek() {
    return this.tokens[this.index]!;
  }

  private take() {
    return this.tokens[this.index++]!;
  }

  private unexpected(token: Token): never {
    throw new GraphQLSyntaxError(token.kind === "eof" ? "Syntax Error: Unexpected <EOF>." : `Syntax Error: Unexpected "${token.value}".`);
  }

  private expect(value: string) {
    const token = this.take();
    if (token.value !== value || (token.kind !== "punct" && token.kind !== "name")) this.unexpected(token);
    return token;
  }

  private name() {
    const token = this.take();
    if (token.kind !== "name") this.unexpected(token);
    return token;
  }

  private location(pos: number) {
    const before = this.source.slice(0, pos).split("\n");
    return { line: before.length, column: before[before.length - 1]!.length + 1 };
  }

  parse(operationName?: string | null): Operation {
    const operations: { name: string | null; op: Operation; start: number; end: number }[] = [];
    // Fragments may be defined after use: collect them all before expanding spreads.
    const fragmentBodies: { name: string; start: number }[] = [];
    while (this.peek().kind !== "eof") {
      const token = this.peek();
      if (token.kind === "name" && token.value === "fragment") {
        this.take();
        const name = this.name().value;
        this.expect("on");
        this.name();
        fragmentBodies.push({ name, start: this.index });
        this.skipBlock();
      } else if (token.value === "{") {
        operations.push({ name: null, op: { type: "query", selections: [] }, start: this.index, end: 0 });
        this.skipBlock();
      } else if (token.kind === "name" && (token.value === "query" || token.value === "mutation" || token.value === "subscription")) {
        this.take();
        const name = this.peek().kind === "name" ? this.take().value : null;
        if (this.peek().value === "(") this.skipParens();
        this.skipDirectives();
        if (token.value === "subscription") throw new GraphQLValidationError("Subscriptions are not supported by this endpoint.");
        operations.push({ name, op: { type: token.value as "query" | "mutation", selections: [] }, start: this.index, end: 0 });
        this.skipBlock();
      } else {
        this.unexpected(token);
      }
    }
    for (const fragment of fragmentBodies) {
      this.index = fragment.start;
      this.fragments.set(fragment.name, []);
    }
    for (const fragment of fragmentBodies) {
      this.index = fragment.start;
      this.fragments.set(fragment.name, this.selectionSet());
    }
    const chosen = operationName ? operations.find((o) => o.name === operationName) : operations[0];
    if (!chosen) {
      throw new GraphQLValidationError(operationName ? `Unknown operation named "${operationName}".` : "Must provide an operation.");
    }
    if (!operationName && operations.length > 1) {
      throw new GraphQLValidationError("Must provide operation name if query contains multiple operations.");
    }
    this.index = chosen.start;
    chosen.op.selections = this.selectionSet();
    return chosen.op;
  }

  private skipBlock() {
    this.expect("{");
    let depth = 1;
    while (depth > 0) {
      const token = this.take();
      if (token.kind === "eof") this.unexpected(token);
      if (token.value === "{" && token.kind === "punct") depth++;
      if (token.value === "}" && token.kind === "punct") depth--;
    }
  }

  private skipParens() {
    this.expect("(");
    let depth = 1;
    while (depth > 0) {
      const token = this.take();
      if (token.kind === "eof") this.unexpected(token);
      if (token.value === "(" && token.kind === "punct") depth++;
      if (token.value === ")" && token.kind === "punct") depth--;
    }
  }

  private skipDirectives() {
    while (this.peek().value === "@") {
      this.take();
      this.name();
      if (this.peek().value === "(") this.skipParens();
    }
  }

  private selectionSet(): FieldNode[] {
    this.expect("{");
    const fields: FieldNode[] = [];
    while (this.peek().value !== "}") {
      if (this.peek().kind === "eof") this.unexpected(this.peek());
      if (this.peek().kind === "spread") {
        this.take();
        if (this.peek().value === "on") {
          this.take();
          this.name();
          this.skipDirectives();
          fields.push(...this.selectionSet());
        } else if (this.peek().value === "{" || this.peek().value === "@") {
          this.skipDirectives();
          fields.push(...this.selectionSet());
        } else {
          const name = this.name().value;
          this.skipDirectives();
          const fragment = this.fragments.get(name);
          if (!fragment) throw new GraphQLValidationError(`Unknown fragment "${name}".`);
          fields.push(...fragment);
        }
        continue;
      }
      fields.push(this.field());
    }
    this.take();
    return fields;
  }

  private field(): FieldNode {
    const first = this.name();
    let alias: string | null = null;
    let name = first.value;
    if (this.peek().value === ":") {
      this.take();
      alias = first.value;
      name = this.name().value;
    }
    const args = new Map<string, ArgValue>();
    if (this.peek().value === "(") {
      this.take();
      while (this.peek().value !== ")") {
        const argName = this.name().value;
        this.expect(":");
        args.set(argName, this.value());
      }
      this.take();
    }
    this.skipDirectives();
    const selections = this.peek().value === "{" ? this.selectionSet() : [];
    return { name, alias, args, selections, ...this.location(first.pos) };
  }

  private value(): ArgValue {
    const token = this.take();
    if (token.value === "$" && token.kind === "punct") return { kind: "variable", name: this.name().value };
    return { kind: "literal", value: this.literal(token) };
  }

  private literal(token: Token): unknown {
    if (token.kind === "string") return token.value;
    if (token.kind === "number") return Number(token.value);
    if (token.kind === "name") {
      if (token.value === "true") return true;
      if (token.value === "false") return false;
      if (token.value === "null") return null;
      return token.value; // enum value
    }
    if (token.value === "[") {
      const items: unknown[] = [];
      while (this.peek().value !== "]") items.push(this.literal(this.take()));
      this.take();
      return items;
    }
    if (token.value === "{") {
      const object: Record<string, unknown> = {};
      while (this.peek().value !== "}") {
        const key = this.name().value;
        this.expect(":");
        object[key] = this.literal(this.take());
      }
      this.take();
      return object;
    }
    if (token.value === "$") throw new GraphQLValidationError("Variables inside input objects are not supported by the emulator.");
    this.unexpected(token);
  }
}

export function parseOperation(source: string, operationName?: string | null) {
  return new Parser(source).parse(operationName);
}

// ---------- schema slice ----------

/** Field → type, per object type; scalars are the type names absent here. */
export type SchemaSlice = Record<string, Record<string, string>>;

const baseType = (type: string) => type.replace(/[[\]!]/g, "");

export function validateSelections(schema: SchemaSlice, typeName: string, selections: FieldNode[]) {
  for (const field of selections) {
    if (field.name === "__typename") continue;
    const fieldType = schema[typeName]?.[field.name];
    if (!fieldType) {
      throw new GraphQLValidationError(`Cannot query field "${field.name}" on type "${typeName}".`, field);
    }
    const base = baseType(fieldType);
    if (schema[base]) {
      if (field.selections.length === 0) {
        throw new GraphQLValidationError(
          `Field "${field.name}" of type "${fieldType}" must have a selection of subfields. Did you mean "${field.name} { ... }"?`,
          field,
        );
      }
      validateSelections(schema, base, field.selections);
    } else if (field.selections.length) {
      throw new GraphQLValidationError(
        `Field "${field.name}" must not have a selection since type "${fieldType}" has no subfields.`,
        field,
      );
    }
  }
}

/** A value's fields may be plain values or resolvers taking the field node. */
export type Resolved = Record<string, unknown>;

export function project(schema: SchemaSlice, typeName: string, value: Resolved, selections: FieldNode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of selections) {
    const key = field.alias ?? field.name;
    if (field.name === "__typename") {
      out[key] = typeName;
      continue;
    }
    const fieldType = schema[typeName]![field.name]!;
    const raw = value[field.name];
    const resolved = typeof raw === "function" ? (raw as (field: FieldNode) => unknown)(field) : raw;
    out[key] = projectValue(schema, fieldType, resolved, field.selections);
  }
  return out;
}

function projectValue(schema: SchemaSlice, type: string, value: unknown, selections: FieldNode[]): unknown {
  if (value === null || value === undefined) return null;
  const inner = type.replace(/!$/, "");
  if (inner.startsWith("[")) {
    return (value as unknown[]).map((item) => projectValue(schema, inner.slice(1, -1), item, selections));
  }
  return schema[inner] ? project(schema, inner, value as Resolved, selections) : value;
}
