/** A statement as D1 received it: the SQL text and its parameters. */
export interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/**
 * A D1 session that records every statement prepared and bound through it, so a benchmark can
 * compare what the app sent with what its baseline sends (and show the SQL it measured).
 */
export function recordingSession(session: D1DatabaseSession, log: RecordedStatement[]): D1DatabaseSession {
  const forward = <T extends object>(target: T, key: string | symbol) => {
    const value = Reflect.get(target, key) as unknown;
    return typeof value === "function" ? (value.bind(target) as unknown) : value;
  };
  return new Proxy(session, {
    get(target, key) {
      if (key !== "prepare") return forward(target, key);
      return (sql: string) =>
        new Proxy(target.prepare(sql), {
          get(statement, property) {
            if (property !== "bind") return forward(statement, property);
            return (...params: unknown[]) => {
              log.push({ sql, params });
              return statement.bind(...params);
            };
          },
        });
    },
  });
}

/** Prints one machine-readable result line for test/bench/run.mjs to collect. */
export function report(result: Record<string, unknown>) {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}
