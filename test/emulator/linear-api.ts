// Linear's GraphQL API: every query is parsed and validated by graphql-js against Linear's
// published schema, then executed over the emulator's data. Fields the emulator does not model
// answer a clear GraphQL error instead of a silent null.
//
// Rate limits (linear.app/developers/rate-limiting): a leaky bucket of requests and one of
// complexity points per user, with X-RateLimit-Requests-*, X-Complexity and
// X-RateLimit-Complexity-* headers on every answer; a query above 10,000 points is refused.
import {
  execute,
  GraphQLError,
  getNamedType,
  isLeafType,
  Kind,
  OperationTypeNode,
  parse,
  validate,
  type DocumentNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import type { HandlerContext } from "./context";
import { LINEAR_ACCOUNTS } from "./fixtures";
import { asText, authorizationToken, json, slugify } from "./http";
import { linearSchema } from "./linear-schema";
import type { IssuedToken } from "./state";

type LinearAccount = (typeof LINEAR_ACCOUNTS)[number];

export const accountByViewer = (id: string) => LINEAR_ACCOUNTS.find((account) => account.viewer.id === id);

// ---------- errors ----------

export interface LinearErrorInput {
  message: string;
  type: string;
  code: string;
  statusCode: number;
  userPresentableMessage?: string;
}

/** A resolver error carrying Linear's extensions. */
function linearError(input: LinearErrorInput) {
  return new GraphQLError(input.message, {
    extensions: {
      type: input.type,
      code: input.code,
      statusCode: input.statusCode,
      userError: true,
      ...(input.userPresentableMessage ? { userPresentableMessage: input.userPresentableMessage } : {}),
    },
  });
}

const inputError = (message: string, userPresentableMessage: string) =>
  linearError({ message, type: "invalid input", code: "INPUT_ERROR", statusCode: 400, userPresentableMessage });

function errorBody(errors: readonly GraphQLError[], fallback: Omit<LinearErrorInput, "message">) {
  return errors.map((error) => {
    const json = error.toJSON() as { message: string; locations?: unknown; path?: unknown; extensions?: Record<string, unknown> };
    const extensions =
      json.extensions && Object.keys(json.extensions).length
        ? json.extensions
        : { type: fallback.type, code: fallback.code, statusCode: fallback.statusCode, userError: true };
    return {
      message: json.message,
      ...(json.locations ? { locations: json.locations } : {}),
      ...(json.path ? { path: json.path } : {}),
      extensions,
    };
  });
}

export function graphqlErrorResponse(status: number, errors: LinearErrorInput[], headers: HeadersInit = {}) {
  return json(
    {
      errors: errors.map((error) => ({
        message: error.message,
        extensions: {
          type: error.type,
          code: error.code,
          statusCode: error.statusCode,
          userError: true,
          ...(error.userPresentableMessage ? { userPresentableMessage: error.userPresentableMessage } : {}),
        },
      })),
      data: null,
    },
    status,
    headers,
  );
}

export const authenticationError = (status: number) =>
  graphqlErrorResponse(status, [
    {
      message: "Authentication required, not authenticated",
      type: "authentication error",
      code: "AUTHENTICATION_ERROR",
      statusCode: 401,
      userPresentableMessage: "You need to authenticate to access this operation.",
    },
  ]);

export const rateLimitedError = (status: number, headers: HeadersInit) =>
  graphqlErrorResponse(
    status,
    [
      {
        message: "Rate limit exceeded",
        type: "ratelimited",
        code: "RATELIMITED",
        statusCode: 429,
        userPresentableMessage: "You have exceeded the rate limit. Please try again later.",
      },
    ],
    headers,
  );

// ---------- complexity ----------

function argumentValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
  return undefined;
}

/**
 * Linear's documented rule: each property 0.1 point, each object 1 point, and a connection
 * multiplies its children by its page size (`first`/`last`, default 50); rounded up.
 */
export function queryComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
) {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  function cost(selectionSet: SelectionSetNode | undefined, parentType: GraphQLOutputType, multiplier: number): number {
    if (!selectionSet) return 0;
    const named = getNamedType(parentType);
    if (!("getFields" in named)) return 0;
    const fields = named.getFields() as Record<string, GraphQLField<unknown, unknown>>;
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) total += cost(fragment.selectionSet, parentType, multiplier);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += cost(selection.selectionSet, parentType, multiplier);
        continue;
      }
      const field = fields[selection.name.value];
      if (!field) continue;
      const type = getNamedType(field.type);
      if (isLeafType(type)) {
        total += 0.1 * multiplier;
      } else if (type.name.endsWith("Connection")) {
        const size =
          argumentValue(selection.arguments?.find((arg) => arg.name.value === "first")?.value, variables) ??
          argumentValue(selection.arguments?.find((arg) => arg.name.value === "last")?.value, variables) ??
          50;
        total += cost(selection.selectionSet, field.type, multiplier * Number(size));
      } else if (named.name.endsWith("Connection") && (selection.name.value === "nodes" || selection.name.value === "edges")) {
        // The page's items: one object each (the connection already multiplied them).
        total += multiplier + cost(selection.selectionSet, field.type, multiplier);
      } else if (named.name.endsWith("Edge") && selection.name.value === "node") {
        total += cost(selection.selectionSet, field.type, multiplier);
      } else if (named.name.endsWith("Connection")) {
        // pageInfo and the like: once per connection, not per item.
        total += 1 + cost(selection.selectionSet, field.type, 1);
      } else {
        total += multiplier + cost(selection.selectionSet, field.type, multiplier);
      }
    }
    return total;
  }
  const root = operation.operation === OperationTypeNode.MUTATION ? schema.getMutationType()! : schema.getQueryType()!;
  return Math.ceil(cost(operation.selectionSet, root, 1) - 1e-9);
}

// ---------- data ----------

const isArchived = (team: LinearAccount["teams"][number]) => "archived" in team && team.archived === true;

interface WorkflowStateRecord {
  id: string;
  name: string;
  type: "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled";
  position: number;
  color: string;
  teamId: string;
}

const STATE_TEMPLATE: [string, WorkflowStateRecord["type"], string][] = [
  ["Backlog", "backlog", "#bec2c8"],
  ["Todo", "unstarted", "#e2e2e2"],
  ["In Progress", "started", "#f2c94c"],
  ["In Review", "started", "#0f783c"],
  ["Done", "completed", "#5e6ad2"],
  ["Canceled", "canceled", "#95a2b3"],
  ["Duplicate", "canceled", "#95a2b3"],
];

/** Each team's workflow: ids 5a000000-0000-4000-8000-NNNNNNNNNNNN, ENG's Backlog being …000000000001. */
export function statesOf(account: LinearAccount, teamId: string): WorkflowStateRecord[] {
  const index = account.teams.findIndex((team) => team.id === teamId);
  const accountIndex = LINEAR_ACCOUNTS.indexOf(account);
  if (index === -1) return [];
  return STATE_TEMPLATE.map(([name, type, color], position) => ({
    id: `5a000000-0000-4000-8000-${String(accountIndex * 100_000 + index * 100 + position + 1).padStart(12, "0")}`,
    name,
    type,
    position,
    color,
    teamId,
  }));
}

export interface LinearIssueRecord {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description: string | null;
  priority: number;
  url: string;
  teamId: string;
  stateId: string;
  accountId: string;
  createdAt: number;
}

export const linearIssues = (ctx: HandlerContext) => ctx.state.collection<LinearIssueRecord>("linear:issues");

const iso = (ms: number) => new Date(ms).toISOString();
const TEAM_CREATED = Date.UTC(2024, 0, 1);

// ---------- filters and connections ----------

type Comparator = Record<string, unknown>;
const COMPARATORS = new Set([
  "eq",
  "neq",
  "in",
  "nin",
  "null",
  "lt",
  "lte",
  "gt",
  "gte",
  "startsWith",
  "endsWith",
  "contains",
  "notContains",
  "containsIgnoreCase",
  "notContainsIgnoreCase",
  "eqIgnoreCase",
  "neqIgnoreCase",
  "startsWithIgnoreCase",
  "notStartsWith",
  "notEndsWith",
  "containsIgnoreCaseAndAccent",
]);

function compare(value: unknown, comparator: Comparator): boolean {
  return Object.entries(comparator).every(([op, expected]) => {
    const text = value == null ? null : asText(value);
    const lower = text?.toLowerCase() ?? null;
    const want = typeof expected === "string" ? expected : null;
    switch (op) {
      case "eq":
        return value === expected;
      case "neq":
        return value !== expected;
      case "in":
        return Array.isArray(expected) && expected.includes(value);
      case "nin":
        return Array.isArray(expected) && !expected.includes(value);
      case "null":
        return (value == null) === expected;
      case "lt":
        return (value as number) < (expected as number);
      case "lte":
        return (value as number) <= (expected as number);
      case "gt":
        return (value as number) > (expected as number);
      case "gte":
        return (value as number) >= (expected as number);
      case "startsWith":
        return text !== null && want !== null && text.startsWith(want);
      case "notStartsWith":
        return text !== null && want !== null && !text.startsWith(want);
      case "endsWith":
        return text !== null && want !== null && text.endsWith(want);
      case "notEndsWith":
        return text !== null && want !== null && !text.endsWith(want);
      case "contains":
        return text !== null && want !== null && text.includes(want);
      case "notContains":
        return text !== null && want !== null && !text.includes(want);
      case "containsIgnoreCase":
      case "containsIgnoreCaseAndAccent":
        return lower !== null && want !== null && lower.includes(want.toLowerCase());
      case "notContainsIgnoreCase":
        return lower !== null && want !== null && !lower.includes(want.toLowerCase());
      case "eqIgnoreCase":
        return lower !== null && want !== null && lower === want.toLowerCase();
      case "neqIgnoreCase":
        return lower !== null && want !== null && lower !== want.toLowerCase();
      case "startsWithIgnoreCase":
        return lower !== null && want !== null && lower.startsWith(want.toLowerCase());
      default:
        return true;
    }
  });
}

/** Linear's filter objects: comparators per field, nested filters for relations, and and/or. */
function matches(entity: object, filter: Record<string, unknown> | null | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, condition]) => {
    if (condition == null) return true;
    if (key === "and") return (condition as Record<string, unknown>[]).every((part) => matches(entity, part));
    if (key === "or") return (condition as Record<string, unknown>[]).some((part) => matches(entity, part));
    const value = (entity as Record<string, unknown>)[key];
    const conditionObject = condition as Record<string, unknown>;
    if (Object.keys(conditionObject).every((op) => COMPARATORS.has(op))) return compare(value, conditionObject);
    if (value && typeof value === "object") return matches(value, conditionObject);
    return false;
  });
}

const encodeCursor = (id: string) => btoa(`emu:${id}`);
const decodeCursor = (cursor: string) => {
  try {
    const text = atob(cursor);
    return text.startsWith("emu:") ? text.slice(4) : null;
  } catch {
    return null;
  }
};

interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  filter?: Record<string, unknown> | null;
  includeArchived?: boolean | null;
  orderBy?: "createdAt" | "updatedAt" | null;
}

/** Relay-style pages: `first` (default 50) after a cursor, or `last` before one. */
function connection<T extends { id: string }>(items: T[], args: ConnectionArgs) {
  if (args.first != null && args.first < 0) throw inputError("Argument Validation Error", "first must be positive.");
  let list = items;
  if (args.after) {
    const id = decodeCursor(args.after);
    const index = list.findIndex((item) => item.id === id);
    if (index === -1) throw inputError("Argument Validation Error", "Invalid cursor.");
    list = list.slice(index + 1);
  }
  if (args.before) {
    const id = decodeCursor(args.before);
    const index = list.findIndex((item) => item.id === id);
    if (index === -1) throw inputError("Argument Validation Error", "Invalid cursor.");
    list = list.slice(0, index);
  }
  let page: T[];
  let hasNextPage = false;
  let hasPreviousPage = Boolean(args.after);
  if (args.last != null && args.first == null) {
    page = list.slice(Math.max(0, list.length - args.last));
    hasPreviousPage = list.length > page.length;
  } else {
    const first = args.first ?? 50;
    page = list.slice(0, first);
    hasNextPage = list.length > first;
  }
  return {
    nodes: page,
    edges: page.map((node) => ({ node, cursor: encodeCursor(node.id) })),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: page[0] ? encodeCursor(page[0].id) : null,
      endCursor: page.length ? encodeCursor(page[page.length - 1]!.id) : null,
    },
  };
}

// ---------- values ----------

/** A GraphQL object as the resolvers see it: plain values, or functions of the field's arguments. */
type Value = Record<string, unknown> & { id: string };
type Connection<T> = ReturnType<typeof connection<T & { id: string }>>;

interface Env {
  ctx: HandlerContext;
  account: LinearAccount;
  token: IssuedToken;
}

function organizationValue(env: Env): Value {
  const { account, ctx } = env;
  return {
    ...account.organization,
    logoUrl: null,
    createdAt: "2023-06-01T00:00:00.000Z",
    updatedAt: "2023-06-01T00:00:00.000Z",
    archivedAt: null,
    url: `${ctx.options.origin}/linear/${account.organization.urlKey}`,
    teams: (args: ConnectionArgs) => teamsConnection(env, args),
  };
}

function userValue(env: Env): Value {
  const { account, ctx, token } = env;
  const isApp = token.extra.actor === "app";
  const user = isApp ? account.appUser : account.viewer;
  return {
    ...user,
    active: true,
    admin: !isApp,
    app: isApp,
    guest: false,
    isMe: true,
    url: `${ctx.options.origin}/linear/${account.organization.urlKey}/profiles/${user.displayName}`,
    avatarUrl: null,
    createdAt: "2024-01-01T00:00:00.000Z",
    updatedAt: "2024-01-01T00:00:00.000Z",
    archivedAt: null,
    organization: () => organizationValue(env),
    teams: (args: ConnectionArgs) => teamsConnection(env, args),
  };
}

function stateValue(env: Env, state: WorkflowStateRecord): Value {
  return {
    id: state.id,
    name: state.name,
    type: state.type,
    position: state.position,
    color: state.color,
    description: null,
    createdAt: iso(TEAM_CREATED),
    updatedAt: iso(TEAM_CREATED),
    archivedAt: null,
    team: () =>
      teamValue(
        env,
        env.account.teams.find((team) => team.id === state.teamId)!,
      ),
  };
}

function teamValue(env: Env, team: LinearAccount["teams"][number]): Value {
  const archived = isArchived(team);
  return {
    id: team.id,
    key: team.key,
    name: team.name,
    displayName: team.name,
    description: null,
    icon: null,
    color: "#5e6ad2",
    private: false,
    timezone: "Europe/London",
    triageEnabled: false,
    cyclesEnabled: false,
    createdAt: iso(TEAM_CREATED),
    updatedAt: iso(TEAM_CREATED),
    archivedAt: archived ? iso(TEAM_CREATED + 86_400_000) : null,
    organization: () => organizationValue(env),
    states: (args: ConnectionArgs) =>
      connection(
        statesOf(env.account, team.id)
          .filter((state) => matches(state, args.filter))
          .map((state) => stateValue(env, state)),
        args,
      ),
  };
}

function teamsConnection(env: Env, args: ConnectionArgs): Connection<Value> {
  const teams = env.account.teams
    .filter((team) => args.includeArchived || !isArchived(team))
    .map((team) => teamValue(env, team))
    .filter((team) => matches(team, args.filter));
  return connection(teams, args);
}

function issueValue(env: Env, issue: LinearIssueRecord): Value {
  const team = env.account.teams.find((candidate) => candidate.id === issue.teamId)!;
  const state = statesOf(env.account, team.id).find((candidate) => candidate.id === issue.stateId)!;
  return {
    id: issue.id,
    identifier: issue.identifier,
    number: issue.number,
    title: issue.title,
    description: issue.description,
    priority: issue.priority,
    url: issue.url,
    branchName: `${env.account.viewer.displayName}/${issue.identifier.toLowerCase()}-${slugify(issue.title, 40)}`,
    createdAt: iso(issue.createdAt),
    updatedAt: iso(issue.createdAt),
    archivedAt: null,
    trashed: null,
    team: () => teamValue(env, team),
    state: () => stateValue(env, state),
  };
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function issueCreate(env: Env, input: Record<string, unknown>) {
  const { ctx, account, token } = env;
  if (!token.scopes.some((scope) => scope === "write" || scope === "issues:create" || scope === "admin")) {
    throw linearError({
      message: "Invalid scope: `write` required",
      type: "forbidden",
      code: "FORBIDDEN",
      statusCode: 403,
      userPresentableMessage: "You don't have permission to create issues with this token.",
    });
  }
  const team = account.teams.find((candidate) => candidate.id === input.teamId);
  if (!team || isArchived(team)) throw inputError("Entity not found: Team", "Could not find referenced Team.");
  const title = typeof input.title === "string" ? input.title : "";
  const priority = input.priority ?? 0;
  if (title.trim() === "") throw inputError("Argument Validation Error", "Title is required.");
  if (typeof priority !== "number" || !Number.isInteger(priority) || priority < 0 || priority > 4) {
    throw inputError("Argument Validation Error", "Priority must be an integer between 0 and 4.");
  }
  const states = statesOf(account, team.id);
  let state = states.find((candidate) => candidate.type === "backlog")!;
  if (typeof input.stateId === "string") {
    const chosen = states.find((candidate) => candidate.id === input.stateId);
    if (!chosen) throw inputError("Entity not found: WorkflowState", "Could not find referenced WorkflowState.");
    state = chosen;
  }
  // IssueCreateInput.id: a client-chosen UUID, which makes a retried create detectable.
  if (input.id != null) {
    if (typeof input.id !== "string" || !UUID_V4.test(input.id)) throw inputError("Argument Validation Error", "id must be a UUID v4.");
    if (linearIssues(ctx).some((issue) => issue.id === input.id)) {
      throw inputError("Entity already exists", "An issue with this id already exists.");
    }
  }
  const number = ctx.state.next(`linear:issues:${team.id}`);
  const identifier = `${team.key}-${number}`;
  const id = typeof input.id === "string" ? input.id : crypto.randomUUID();
  const url = `${ctx.options.origin}/linear/${account.organization.urlKey}/issue/${identifier}/${slugify(title)}`;
  const record: LinearIssueRecord = {
    id,
    identifier,
    number,
    title,
    description: typeof input.description === "string" ? input.description : null,
    priority,
    url,
    teamId: team.id,
    stateId: state.id,
    accountId: account.viewer.id,
    createdAt: ctx.state.now(),
  };
  linearIssues(ctx).push(record);
  ctx.state.created.push({ provider: "linear", kind: "issue", id, url, accountId: account.viewer.id, payload: input, at: ctx.state.now() });
  return { success: true, lastSyncId: 1_000_000 + ctx.state.next("linear:sync"), issue: () => issueValue(env, record) };
}

function lookupIssue(env: Env, id: string) {
  const issue = linearIssues(env.ctx).find(
    (candidate) =>
      candidate.accountId === env.account.viewer.id && (candidate.id === id || candidate.identifier.toLowerCase() === id.toLowerCase()),
  );
  if (!issue) throw inputError("Entity not found: Issue", "Could not find referenced Issue.");
  return issueValue(env, issue);
}

function rootValue(env: Env) {
  const team = (id: string) => {
    const found = env.account.teams.find((candidate) => candidate.id === id || candidate.key.toLowerCase() === id.toLowerCase());
    if (!found) throw inputError("Entity not found: Team", "Could not find referenced Team.");
    return teamValue(env, found);
  };
  const allStates = () =>
    env.account.teams.flatMap((candidate) => statesOf(env.account, candidate.id).map((state) => stateValue(env, state)));
  return {
    viewer: () => userValue(env),
    organization: () => organizationValue(env),
    teams: (args: ConnectionArgs) => teamsConnection(env, args),
    team: (args: { id: string }) => team(args.id),
    workflowStates: (args: ConnectionArgs) => {
      const records = env.account.teams.flatMap((candidate) => statesOf(env.account, candidate.id));
      const values = records.filter((state) => {
        const teamValueForFilter = teamValue(
          env,
          env.account.teams.find((candidate) => candidate.id === state.teamId)!,
        );
        return matches({ ...state, team: teamValueForFilter }, args.filter);
      });
      return connection(
        values.map((state) => stateValue(env, state)),
        args,
      );
    },
    workflowState: (args: { id: string }) => {
      const state = allStates().find((candidate) => candidate.id === args.id);
      if (!state) throw inputError("Entity not found: WorkflowState", "Could not find referenced WorkflowState.");
      return state;
    },
    issue: (args: { id: string }) => lookupIssue(env, args.id),
    issueCreate: (args: { input: Record<string, unknown> }) => issueCreate(env, args.input),
  };
}

/** Resolves plain values and resolver functions; a field the emulator does not model is an explicit error. */
const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, _context, info) => {
  if (source && typeof source === "object" && info.fieldName in source) {
    const value = (source as Record<string, unknown>)[info.fieldName];
    return typeof value === "function" ? (value as (args: unknown) => unknown)(args) : value;
  }
  throw linearError({
    message: `The emulator does not model ${info.parentType.name}.${info.fieldName}`,
    type: "internal error",
    code: "INTERNAL_ERROR",
    statusCode: 500,
  });
};

// ---------- the endpoint ----------

function rateHeaders(ctx: HandlerContext, token: IssuedToken, complexity: number, countsRequest: boolean) {
  const settings = ctx.options.rateLimits;
  const now = ctx.state.now();
  const enforce = settings.enabled;
  const requests = ctx.limits.takeLeaky(
    `linear:requests:${token.accountId}:${token.extra.actor ?? "user"}`,
    settings.linear.requests,
    now,
    enforce,
    countsRequest ? 1 : 0,
  );
  const points = requests.allowed
    ? ctx.limits.takeLeaky(
        `linear:complexity:${token.accountId}:${token.extra.actor ?? "user"}`,
        settings.linear.complexity,
        now,
        enforce,
        complexity,
      )
    : ctx.limits.takeLeaky(
        `linear:complexity:${token.accountId}:${token.extra.actor ?? "user"}`,
        settings.linear.complexity,
        now,
        enforce,
        0,
      );
  const headers: Record<string, string> = {
    "X-RateLimit-Requests-Limit": String(requests.limit),
    "X-RateLimit-Requests-Remaining": String(requests.remaining),
    // Linear gives its resets in epoch milliseconds.
    "X-RateLimit-Requests-Reset": String(requests.resetAt),
    "X-Complexity": String(complexity),
    "X-RateLimit-Complexity-Limit": String(points.limit),
    "X-RateLimit-Complexity-Remaining": String(points.remaining),
    "X-RateLimit-Complexity-Reset": String(points.resetAt),
  };
  const allowed = requests.allowed && points.allowed;
  if (!allowed) headers["Retry-After"] = String(Math.max(requests.retryAfterSeconds, points.retryAfterSeconds));
  return { headers, allowed };
}

/** The fixed headers a refusal carries when the budget is not the reason (faults, auth). */
export function peekRateHeaders(ctx: HandlerContext, remaining?: number) {
  const { requests } = ctx.options.rateLimits.linear;
  return {
    "X-RateLimit-Requests-Limit": String(requests.limit),
    "X-RateLimit-Requests-Remaining": String(remaining ?? requests.limit),
    "X-RateLimit-Requests-Reset": String(ctx.state.now() + requests.windowMs),
  };
}

export async function graphqlEndpoint(ctx: HandlerContext): Promise<Response> {
  const raw = authorizationToken(ctx.headers) ?? ctx.headers.get("Authorization");
  const check = ctx.state.checkAccessToken("linear", raw, ctx.fault);
  if (!check.ok) return authenticationError(ctx.options.linearAuthErrorStatus);
  const token = check.token;
  const account = accountByViewer(token.accountId)!;
  const schema = await linearSchema();

  const body = ctx.body.json as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
  const fail = (status: number, message: string, code: string, headers: Record<string, string>, extra: object = {}) =>
    json(
      { errors: [{ message, ...extra, extensions: { type: "graphql error", code, statusCode: 400, userError: true } }], data: null },
      status,
      headers,
    );
  if (ctx.body.invalidJson || !body || typeof body.query !== "string") {
    return fail(400, "Must provide query string.", "GRAPHQL_PARSE_FAILED", rateHeaders(ctx, token, 0, true).headers);
  }
  const variables = body.variables && typeof body.variables === "object" ? (body.variables as Record<string, unknown>) : {};
  let document: DocumentNode;
  try {
    document = parse(body.query);
  } catch (error) {
    const syntax = error as GraphQLError;
    return fail(
      400,
      syntax.message,
      "GRAPHQL_PARSE_FAILED",
      rateHeaders(ctx, token, 0, true).headers,
      syntax.locations ? { locations: syntax.locations } : {},
    );
  }
  const validationErrors = validate(schema, document);
  if (validationErrors.length) {
    return json(
      { errors: errorBody(validationErrors, { type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400 }), data: null },
      400,
      rateHeaders(ctx, token, 0, true).headers,
    );
  }
  const operationName = typeof body.operationName === "string" ? body.operationName : null;
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations[0];
  const complexity = operation ? queryComplexity(schema, document, operation, variables) : 0;
  const { headers, allowed } = rateHeaders(ctx, token, complexity, true);
  if (!allowed) return rateLimitedError(ctx.options.linearRateLimitedStatus, headers);
  if (complexity > ctx.options.rateLimits.linear.maxComplexity) {
    return fail(
      400,
      `Query too complex: ${complexity} points, at most ${ctx.options.rateLimits.linear.maxComplexity} allowed.`,
      "QUERY_TOO_COMPLEX",
      headers,
    );
  }
  const env: Env = { ctx, account, token };
  const result = await execute({ schema, document, rootValue: rootValue(env), variableValues: variables, operationName, fieldResolver });
  if (!("data" in result) || result.data === undefined) {
    // Variables that do not coerce, or an operation that is not there: nothing ran.
    return json(
      { errors: errorBody(result.errors ?? [], { type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", statusCode: 400 }), data: null },
      400,
      headers,
    );
  }
  const errors = result.errors ?? [];
  const body200 = errors.length
    ? { errors: errorBody(errors, { type: "internal error", code: "INTERNAL_ERROR", statusCode: 500 }), data: result.data }
    : { data: result.data };
  return json(body200, 200, headers);
}

/** Whether a request body holds a mutation (routing: mutations are deliveries). */
export function isMutationRequest(query: unknown, operationName: unknown) {
  if (typeof query !== "string") return false;
  try {
    const document = parse(query);
    const operations = document.definitions.filter(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    );
    const operation =
      typeof operationName === "string" ? operations.find((candidate) => candidate.name?.value === operationName) : operations[0];
    return operation?.operation === OperationTypeNode.MUTATION;
  } catch {
    return /^\s*mutation\b/m.test(query.replace(/#[^\n]*/g, ""));
  }
}

/** Whether the request reads issues back (a look-up) rather than identity or lists. */
export function isIssueLookup(query: unknown) {
  if (typeof query !== "string") return false;
  try {
    const document = parse(query);
    return document.definitions.some(
      (definition) =>
        definition.kind === Kind.OPERATION_DEFINITION &&
        definition.operation === OperationTypeNode.QUERY &&
        definition.selectionSet.selections.some(
          (selection) => selection.kind === Kind.FIELD && (selection.name.value === "issue" || selection.name.value === "issues"),
        ),
    );
  } catch {
    return false;
  }
}

export function isListQuery(query: unknown) {
  if (typeof query !== "string") return false;
  try {
    const document = parse(query);
    return document.definitions.some(
      (definition) =>
        definition.kind === Kind.OPERATION_DEFINITION &&
        definition.operation === OperationTypeNode.QUERY &&
        definition.selectionSet.selections.some(
          (selection) =>
            selection.kind === Kind.FIELD && ["teams", "team", "workflowStates", "workflowState"].includes(selection.name.value),
        ),
    );
  } catch {
    return false;
  }
}
