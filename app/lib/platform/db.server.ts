import { AsyncLocalStorage } from "node:async_hooks";
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Compilable, type CompiledQuery } from "kysely";
import { D1Dialect } from "kysely-d1";
import type { Database } from "./schema";

export type Db = Kysely<Database>;

/**
 * One request's (or one background job's) view of D1: a D1 Sessions API session, so reads may
 * come from a nearby replica while staying at least as new as the bookmark the client last saw,
 * plus what the request did with it (statements, and round trips that had to wait for each other).
 */
export class DatabaseScope {
  statements = 0;
  /** Sequential waves of round trips: a wave starts when a statement starts while none is in flight. */
  roundTrips = 0;
  /**
   * Outboxes this request or job wrote rows to (by name): once its work is done, the Worker entry
   * or the job runner hands them to their queue. A batch that failed leaves nothing to hand over.
   */
  readonly outboxes = new Set<string>();
  #inFlight = 0;

  constructor(
    readonly binding: D1Database,
    readonly session: D1DatabaseSession,
  ) {}

  async track<T>(statements: number, work: () => Promise<T>): Promise<T> {
    this.statements += statements;
    if (this.#inFlight === 0) this.roundTrips += 1;
    this.#inFlight += 1;
    try {
      return await work();
    } finally {
      this.#inFlight -= 1;
    }
  }

  bookmark(): string | null {
    return this.session.getBookmark();
  }
}

const scopes = new AsyncLocalStorage<DatabaseScope>();

/**
 * `first-primary` for work that must see the latest writes (token rows, background jobs);
 * a bookmark (or `first-unconstrained`) for page requests.
 */
export function openScope(binding: D1Database, constraint: string | null): DatabaseScope {
  return new DatabaseScope(binding, binding.withSession(constraint ?? "first-unconstrained"));
}

/** Runs `work` with every query on `scope.binding` going through `scope`'s session. */
export function runInScope<T>(scope: DatabaseScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** A fresh primary-first scope around background work (a queue message, a cron job). */
export function runOnPrimary<T>(binding: D1Database, work: () => Promise<T>): Promise<T> {
  return runInScope(openScope(binding, "first-primary"), work);
}

function currentScope(binding: D1Database): DatabaseScope | null {
  const scope = scopes.getStore();
  return scope && scope.binding === binding ? scope : null;
}

/** Notes that the current scope (if any) wrote to `outbox`, so its rows are dispatched after the work. */
export function noteOutboxWrite(db: Db, outbox: string) {
  const binding = bindings.get(db);
  const scope = binding ? currentScope(binding) : null;
  scope?.outboxes.add(outbox);
}

// SQLite's adapter tells Kysely to run one query at a time (one connection). D1 is a remote
// service without connection state: a request's independent reads may run together.
class ConcurrentSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections() {
    return true;
  }
}

class ScopedD1Dialect extends D1Dialect {
  override createAdapter() {
    return new ConcurrentSqliteAdapter();
  }
}

/**
 * kysely-d1 calls only `prepare(sql).bind(...params).all()`: this router sends each statement
 * through the session of the scope it runs in (or straight to the database outside any scope,
 * as tests and migrations do) and counts it there.
 */
function scopedDatabase(binding: D1Database): D1Database {
  const router = {
    prepare(query: string) {
      return {
        bind(...parameters: unknown[]) {
          return {
            all() {
              const scope = currentScope(binding);
              const statement = (scope?.session ?? binding).prepare(query).bind(...parameters);
              return scope ? scope.track(1, () => statement.all()) : statement.all();
            },
          };
        },
      };
    },
  };
  return router as unknown as D1Database;
}

const instances = new WeakMap<D1Database, Db>();
const bindings = new WeakMap<Db, D1Database>();

/** The Kysely instance for a D1 binding: built once per isolate, scoped per request. */
export function getDatabase(binding: D1Database): Db {
  let db = instances.get(binding);
  if (!db) {
    db = new Kysely<Database>({ dialect: new ScopedD1Dialect({ database: scopedDatabase(binding) }) });
    instances.set(binding, db);
    bindings.set(db, binding);
  }
  return db;
}

const PLACEHOLDER = "\u0000spokedo-parameter:";

/** Builds and compiles queries without a database (DummyDriver): SQL text does not depend on the binding. */
const compiler: Db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

/**
 * A statement built and compiled with Kysely once per isolate, then bound per call: for the few
 * statements that run for every delivery, where building and compiling the query again each
 * time would cost more than the rest of the work around it. `build` gets one placeholder per
 * named value; `bind` puts the values where Kysely put the placeholders.
 *
 *   const claim = precompiled(["id", "now"], (db, p) => db.updateTable("deliveries").set(…).where("id", "=", p.id));
 *   await runBatch(db, [claim.bind({ id, now })]);
 *   const { rows } = await db.executeQuery(READ.bind({ id }));  // a read, typed by its builder
 *
 * Pages use it for the statements every request runs (the session, the navigation's counts)
 * and the connections index (docs/decisions/030-precompiled-page-statements.md).
 */
export function precompiled<K extends string, R = unknown>(
  names: readonly K[],
  build: (db: Db, placeholders: Record<K, never>) => Compilable<R>,
) {
  let compiled: CompiledQuery<R> | undefined;
  // Each parameter's name when it is a placeholder, found once: binding is then a plain lookup.
  let slots: (K | null)[] = [];
  const placeholders = Object.fromEntries(names.map((name) => [name, `${PLACEHOLDER}${name}`])) as unknown as Record<K, never>;
  return {
    bind(values: Record<K, unknown>): Compilable<R> {
      if (!compiled) {
        compiled = build(compiler, placeholders).compile();
        slots = compiled.parameters.map((parameter) =>
          typeof parameter === "string" && parameter.startsWith(PLACEHOLDER) ? (parameter.slice(PLACEHOLDER.length) as K) : null,
        );
      }
      const { sql, query, queryId } = compiled;
      const constants = compiled.parameters;
      const parameters = slots.map((name, index) => (name === null ? constants[index] : values[name]));
      const bound: CompiledQuery<R> = { sql, query, queryId, parameters };
      return { compile: () => bound };
    },
  };
}

/**
 * D1 has no interactive transactions: statements that must succeed or fail together are
 * compiled with Kysely and sent as one atomic batch (one round trip).
 */
export async function runBatch(db: Db, queries: Compilable[]): Promise<D1Result[]> {
  if (queries.length === 0) return [];
  const binding = bindings.get(db);
  if (!binding) throw new Error("runBatch needs a database from getDatabase().");
  const scope = currentScope(binding);
  const target = scope?.session ?? binding;
  const statements = queries.map((query) => {
    const { sql, parameters } = query.compile();
    return target.prepare(sql).bind(...parameters);
  });
  return scope ? scope.track(statements.length, () => target.batch(statements)) : target.batch(statements);
}

/**
 * The columns of the UNIQUE constraint an insert or update ran into, like
 * "connections.workspace_id, connections.name"; null for any other error.
 */
export function uniqueViolation(error: unknown): string | null {
  const match = /UNIQUE constraint failed: ([\w.,\s]+)/.exec(String(error));
  return match ? match[1]!.trim() : null;
}
