// The statements behind every measured page, taken from the app itself: each page is requested
// through the Worker (exports.default.fetch) while D1 sessions record what they are sent.
// Two uses in `npm run bench`:
// - a correctness check: the bare baseline Worker (bare-worker.ts) must run exactly the
//   statements the index page runs, or its req/s and CPU ratios compare different work;
// - the SQL (with its parameters) that run.mjs explains (EXPLAIN QUERY PLAN) against the seeded
//   10,000-row database.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { useEmulator } from "../integration/connections-support";
import { deliveringSetup, sendInsight, settle } from "../integration/deliveries-support";
import { database } from "../integration/helpers";
import { INDEX_STATEMENTS } from "./bare-sql";
import { recordingSession, report, type RecordedStatement } from "./recording";

const emulator = useEmulator();

it("records the statements of every measured page; the bare index Worker runs the index page's", async () => {
  const setup = await deliveringSetup(emulator(), "github");
  await sendInsight(setup.browser);
  await settle();
  const session = await database().selectFrom("sessions").select("id").where("user_id", "=", setup.user.id).executeTakeFirstOrThrow();

  const log: RecordedStatement[] = [];
  const binding = env.DB as { withSession: D1Database["withSession"] };
  const withSession = binding.withSession.bind(env.DB);
  binding.withSession = (constraint?: string) => recordingSession(withSession(constraint), log);

  const pages = {
    index: "/integration-connections",
    detail: `/integration-connections/${setup.connectionId}`,
    intents: "/intents",
    insights: "/insights",
  };
  const statements: Record<string, RecordedStatement[]> = {};
  try {
    for (const [page, path] of Object.entries(pages)) {
      log.length = 0;
      const response = await setup.browser.get(path);
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
      statements[page] = [...log];
    }
  } finally {
    binding.withSession = withSession;
  }

  // Order within a wave is up to the runtime: compare as sets. A failure names the statements
  // the app runs that test/bench/bare-sql.ts lacks, and those it holds that the app no longer runs.
  const app = statements.index!.map((statement) => statement.sql);
  const notInBaseline = app.filter((sql) => !INDEX_STATEMENTS.includes(sql));
  const notInApp = INDEX_STATEMENTS.filter((sql) => !app.includes(sql));
  expect(
    { notInBaseline, notInApp, count: app.length },
    "test/bench/bare-sql.ts must hold exactly the statements the index page runs",
  ).toEqual({
    notInBaseline: [],
    notInApp: [],
    count: INDEX_STATEMENTS.length,
  });

  report({
    kind: "statements",
    // The values run.mjs swaps for the seeded rows' ids before explaining a statement.
    ids: { workspaceId: setup.workspaceId, userId: setup.user.id, connectionId: setup.connectionId, sessionId: session.id },
    pages: statements,
  });
}, 60_000);
