// `npm run bench`: every benchmark, one table of figures and ratios against baselines measured in
// the same run. Exits non-zero only when a correctness check fails; timings are reported, never
// asserted.
//
// 1. The production build (`npm run build`).
// 2. Inside workerd (vitest, test/bench/vitest.config.ts): deliveries per second against a loop
//    doing the same D1 statements and provider call (deliveries.bench.ts), and the statements of
//    every measured page (pages.bench.ts).
// 3. Pages: one local D1 state per size (100 / 1,000 / 10,000 connections, intents, insights and
//    deliveries), the built app under `wrangler dev` with NODE_ENV=production, and beside it the
//    bare baseline Worker (bare-worker.ts) on a copy of the same state. All servers run at once.
//    The machine this runs on is busy and its load changes by the second, so measurements are
//    interleaved request by request: latency cycles through every page at every size (and the
//    bare Worker), and req/s and CPU alternate app and bare Worker on the index page. Every ratio
//    (10k ÷ 100 rows, app ÷ bare) then compares requests served under the same load.
// 4. EXPLAIN QUERY PLAN of every page's statements on the largest seeded database.
//
// Knobs: BENCH_SIZES=100,1000,10000  BENCH_ROUNDS=5  BENCH_REQUESTS=40 (per page, size and round)
//        BENCH_WARMUP=15  BENCH_DELIVERIES=4000 (per path and size)
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import {
  BENCH_ACCOUNT,
  HOT_CONNECTION_ID,
  cpuTicks,
  d1File,
  freePort,
  quietEnv,
  run,
  seedStates,
  startServer,
  stopServer,
  workerdPids,
  writeVars,
} from "./servers.mjs";

const int = (value, fallback) => (Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : fallback);
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,10000")
  .split(",")
  .map((size) => int(size.trim(), 0))
  .filter(Boolean)
  .sort((a, b) => a - b);
const ROUNDS = int(process.env.BENCH_ROUNDS, 5);
const REQUESTS = int(process.env.BENCH_REQUESTS, 40);
const WARMUP = int(process.env.BENCH_WARMUP, 15);
const DELIVERIES = int(process.env.BENCH_DELIVERIES, 4000);
const SMALL = SIZES[0];
const LARGE = SIZES.at(-1);

const OUT = ".wrangler/bench";
const LOG = `${OUT}/bench.log`;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

const PAGES = [
  { id: "index", path: "/integration-connections", label: "/integration-connections", expect: (size) => `${size} connection` },
  {
    id: "detail",
    path: `/integration-connections/${HOT_CONNECTION_ID}`,
    label: "/integration-connections/:id",
    expect: () => "github 00001",
  },
  { id: "intents", path: "/intents", label: "/intents", expect: () => "intent 00001" },
  { id: "insights", path: "/insights", label: "/insights", expect: () => "(00001)" },
];

const failures = [];
const started = Date.now();
const progress = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const range = (values) => {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? String(min) : `${min}–${max}`;
};
const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const ESC = String.fromCharCode(27);
const stripAnsi = (text) => text.replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");

function table(headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    `| ${cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// HTTP driver: a cookie jar per server (the seeded session, and the D1 bookmark each response
// hands back, as a browser would), latency from request start to the last byte of the body.

function cookieHeader(jar) {
  return [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
}

async function request(server, path) {
  const start = performance.now();
  const response = await fetch(`${server.origin}${path}`, { headers: { Cookie: cookieHeader(server.jar) }, redirect: "manual" });
  const body = await response.text();
  const ms = performance.now() - start;
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const index = pair.indexOf("=");
    server.jar.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim());
  }
  const timing = /d1;desc="(\d+) queries, (\d+) round trips"/.exec(response.headers.get("Server-Timing") ?? "");
  return {
    status: response.status,
    ms,
    body,
    bytes: Buffer.byteLength(body),
    statements: timing ? Number(timing[1]) : NaN,
    roundTrips: timing ? Number(timing[2]) : NaN,
  };
}

/** One request, checked: every measured response must be the page itself. */
async function sample(task, round) {
  const result = await request(task.server, task.path);
  if (result.status !== 200) fail(`${task.server.name} ${task.path} answered ${result.status}`);
  const { body, ...kept } = result;
  task.samples.push({ ...kept, round });
  return result;
}

function fail(message) {
  if (!failures.includes(message)) failures.push(message);
  progress(`CHECK FAILED: ${message}`);
}

async function waitReady(server) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${server.name} exited (${server.child.exitCode}); see ${LOG}.servers`);
    try {
      const { status } = await request(server, "/integration-connections");
      if (status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${server.name} was not ready within 3 minutes; see ${LOG}.servers`);
}

const connectionLinks = (html) => [...html.matchAll(/href="\/integration-connections\/([0-9a-f-]{36})"/g)].map((match) => match[1]);

/** Correctness of what is measured: real pages with the seeded rows, and the same rows in app and bare. */
function checkPages(size, first) {
  for (const page of PAGES) {
    const html = first[page.id].body.replaceAll("<!-- -->", "");
    if (!html.includes(page.expect(size))) fail(`app ${page.label} at ${size} rows does not show "${page.expect(size)}"`);
  }
  const app = connectionLinks(first.index.body);
  const bare = connectionLinks(first.bare.body);
  if (app.length !== Math.min(25, size) || JSON.stringify(app) !== JSON.stringify(bare)) {
    fail(`at ${size} rows the bare Worker lists other connections than the app's index page (${bare.length} vs ${app.length})`);
  }
  if (!first.bare.body.includes(`${size} connection`)) fail(`bare index at ${size} rows does not show its total`);
}

async function pageBenchmarks() {
  mkdirSync(OUT, { recursive: true });
  progress(`seeding local D1 at ${SIZES.join(" / ")} rows`);
  const now = Date.now();
  const { states, token, sessionId } = await seedStates({ dir: `${OUT}/state`, sizes: SIZES, log: LOG, now });

  progress(`starting ${SIZES.length * 2} wrangler dev servers (app and bare Worker per size, NODE_ENV=production)`);
  const servers = [];
  const stopAll = () => Promise.all(servers.map(stopServer));
  const onSignal = () => stopAll().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const bySize = new Map();
  try {
    for (const state of states) {
      const port = await freePort();
      const vars = `${OUT}/state/${state.size}/dev.vars`;
      writeVars(vars, `http://127.0.0.1:${port}`);
      const app = await startServer({
        name: `app@${state.size}`,
        state: state.app,
        varsFile: vars,
        log: `${LOG}.servers`,
        appUrlPort: port,
      });
      const bare = await startServer({
        name: `bare@${state.size}`,
        config: "test/bench/bare.wrangler.toml",
        state: state.bare,
        log: `${LOG}.servers`,
      });
      servers.push(app, bare);
      bySize.set(state.size, { app, bare });
    }
    for (const server of servers) server.jar = new Map([["spokedo_session", token]]);
    await Promise.all(servers.map(waitReady));
    for (const server of servers) {
      const { runtime, all } = workerdPids(server);
      server.pids = runtime.length ? runtime : all;
      if (!server.pids.length) fail(`no workerd process found for ${server.name}: CPU per request cannot be read`);
    }

    // One task per page and size (and the bare Worker's index page per size).
    const tasks = [];
    for (const size of SIZES) {
      const { app, bare } = bySize.get(size);
      for (const page of PAGES)
        tasks.push({ key: `${page.id}:${size}:app`, page: page.id, size, server: app, path: page.path, samples: [] });
      tasks.push({ key: `index:${size}:bare`, page: "index", size, server: bare, path: PAGES[0].path, samples: [] });
    }
    const throughput = new Map(SIZES.map((size) => [size, []]));

    progress(`warming up (${WARMUP} requests per page and size), checking the pages`);
    for (const size of SIZES) {
      const first = {};
      for (const t of tasks.filter((t) => t.size === size)) {
        for (let i = 0; i < WARMUP; i++) {
          const { body } = await request(t.server, t.path);
          first[t.server.name.startsWith("bare") ? "bare" : t.page] ??= { body };
        }
      }
      checkPages(size, first);
    }

    for (let round = 0; round < ROUNDS; round++) {
      progress(
        `round ${round + 1}/${ROUNDS}: ${REQUESTS} requests per page and size, then ${REQUESTS} index requests each for app and bare Worker per size`,
      );
      // Latency, HTML and D1 counts: one request per task in turn, so every page at every size
      // (and the bare Worker) sees the same machine load, however it changes during the run.
      // The order rotates from round to round and reverses on every pass.
      const order = tasks.map((_, i) => tasks[(i + round * 5) % tasks.length]);
      for (let i = 0; i < REQUESTS; i++) {
        for (const t of i % 2 ? [...order].reverse() : order) await sample(t, round);
      }
      // Throughput and CPU of the index page: app and bare Worker alternate request by request,
      // and nothing else reaches either server meanwhile, so each one's workerd CPU time over the
      // block is the cost of its index requests.
      for (const size of SIZES.map((_, i) => SIZES[(i + round) % SIZES.length])) {
        const { app, bare } = bySize.get(size);
        const block = { app: { ms: 0, cpu: cpuTicks(app.pids) }, bare: { ms: 0, cpu: cpuTicks(bare.pids) }, count: REQUESTS };
        for (let i = 0; i < REQUESTS; i++) {
          for (const who of (i + round) % 2 ? ["bare", "app"] : ["app", "bare"]) {
            const result = await request(bySize.get(size)[who], PAGES[0].path);
            if (result.status !== 200) fail(`${who}@${size} ${PAGES[0].path} answered ${result.status}`);
            block[who].ms += result.ms;
          }
        }
        for (const [who, server] of [
          ["app", app],
          ["bare", bare],
        ])
          block[who].cpu = ((cpuTicks(server.pids) - block[who].cpu) * 1000) / CLK_TCK;
        throughput.get(size).push(block);
      }
    }
    return { tasks, throughput, sessionId };
  } finally {
    progress("stopping servers");
    await stopAll();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN QUERY PLAN of the app's own statements (recorded by pages.bench.ts) on the largest
// seeded database, with the recorded ids swapped for the seeded ones.

const TABLES = [
  "connections",
  "intents",
  "insights",
  "deliveries",
  "delivery_attempts",
  "sessions",
  "users",
  "memberships",
  "workspaces",
  "pending_reauthorizations",
];

/** Median time of a statement in SQLite itself (node:sqlite on the same file: no D1, no Worker). */
function sqliteMs(db, sql, params) {
  const statement = db.prepare(sql);
  const times = [];
  for (let i = 0; i < 25; i++) {
    const start = performance.now();
    statement.all(...params);
    times.push(performance.now() - start);
  }
  return median(times);
}

function explain(statements, sessionId) {
  if (!statements) return [];
  const large = new DatabaseSync(d1File(`${OUT}/state/${LARGE}/app`), { readOnly: true });
  const small = new DatabaseSync(d1File(`${OUT}/state/${SMALL}/app`), { readOnly: true });
  const swap = new Map([
    [statements.ids.workspaceId, BENCH_ACCOUNT.workspaceId],
    [statements.ids.userId, BENCH_ACCOUNT.userId],
    [statements.ids.connectionId, HOT_CONNECTION_ID],
    [statements.ids.sessionId, sessionId],
  ]);
  const seen = new Set();
  const plans = [];
  for (const page of PAGES) {
    for (const recorded of statements.pages[page.id] ?? []) {
      const { sql } = recorded;
      if (seen.has(sql)) continue;
      seen.add(sql);
      const params = recorded.params.map((param) => (swap.has(param) ? swap.get(param) : param));
      const rows = large.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params);
      const depth = new Map([[0, -1]]);
      const lines = rows.map((row) => {
        depth.set(row.id, (depth.get(row.parent) ?? -1) + 1);
        return `${"  ".repeat(depth.get(row.id))}${row.detail}`;
      });
      // Plans name tables by their alias: map them back from the SQL.
      const tableOf = new Map(TABLES.map((name) => [name, name]));
      for (const [, name, alias] of sql.matchAll(/"(\w+)" as "(\w+)"/g)) if (TABLES.includes(name)) tableOf.set(alias, name);
      const flags = [];
      for (const row of rows) {
        const scan = /^SCAN (\w+)(.*)$/.exec(row.detail);
        const table = scan && tableOf.get(scan[1]);
        if (table) flags.push(scan[2].includes("USING") ? `walks all of ${table} in index order` : `full scan of ${table}`);
        if (/USE TEMP B-TREE/.test(row.detail)) flags.push(`sorts (${row.detail.replace("USE TEMP B-TREE FOR ", "").toLowerCase()})`);
      }
      plans.push({ page: page.label, sql, lines, flags, ms: { small: sqliteMs(small, sql, params), large: sqliteMs(large, sql, params) } });
    }
  }
  small.close();
  large.close();
  return plans;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  rmSync(LOG, { force: true });
  rmSync(`${LOG}.servers`, { force: true });
  mkdirSync(OUT, { recursive: true });
  progress(`production build (log: ${LOG})`);
  await run("npm", ["run", "build"], { log: LOG });

  progress(`workerd: deliveries (${DELIVERIES} per path and size) and the pages' statements`);
  let vitestOut;
  try {
    vitestOut = await run("vitest", ["run", "-c", "test/bench/vitest.config.ts"], {
      log: LOG,
      env: { ...quietEnv, BENCH_SIZES: SIZES.join(","), BENCH_ROUNDS: String(ROUNDS), BENCH_DELIVERIES: String(DELIVERIES) },
    });
  } catch (error) {
    vitestOut = error.stdout ?? "";
    const why = stripAnsi(error.output ?? error.message)
      .split("\n")
      .filter((line) => /FAIL|Error/.test(line))
      .slice(0, 12)
      .map((line) => `    ${line.trim()}`);
    fail(`the workerd benchmarks failed a check (full output in ${LOG}):\n${why.join("\n")}`);
  }
  const results = stripAnsi(vitestOut)
    .split("\n")
    .filter((line) => line.startsWith("BENCH_RESULT "))
    .map((line) => JSON.parse(line.slice("BENCH_RESULT ".length)));
  const deliveries = results.filter((r) => r.kind === "deliveries");
  const concurrent = results.find((r) => r.kind === "concurrent");
  const statements = results.find((r) => r.kind === "statements");
  const health = results.filter((r) => r.kind === "health");

  const { tasks, throughput, sessionId } = await pageBenchmarks();
  const plans = explain(statements, sessionId);
  console.log(report({ deliveries, concurrent, health, tasks, throughput, plans }));
  writeFileSync(
    `${OUT}/results.json`,
    JSON.stringify(
      {
        deliveries,
        concurrent,
        health,
        statements,
        pages: tasks.map(({ server, ...t }) => ({ ...t, server: server.name })),
        throughput: Object.fromEntries(throughput),
        plans,
      },
      null,
      1,
    ),
  );
  if (failures.length) {
    console.log(`\nCORRECTNESS CHECKS FAILED:\n${failures.map((f) => `- ${f}`).join("\n")}`);
    process.exitCode = 1;
  }
}

function report({ deliveries, concurrent, health, tasks, throughput, plans }) {
  const get = (page, size, who = "app") => tasks.find((t) => t.key === `${page}:${size}:${who}`);
  const ms = (t, round) => t.samples.filter((s) => round === undefined || s.round === round).map((s) => s.ms);
  /** Per round, the ratio of two tasks' median latencies; then the median over rounds. */
  const latencyRatio = (a, b) => median(Array.from({ length: ROUNDS }, (_, round) => median(ms(a, round)) / median(ms(b, round))));
  const blocks = (size) => throughput.get(size);
  const reqPerSecond = (block, who) => block.count / (block[who].ms / 1000);
  const rpsRatio = (size) => median(blocks(size).map((block) => reqPerSecond(block, "app") / reqPerSecond(block, "bare")));
  /** CPU per request over every block of the run (10 ms ticks: the sum keeps the rounding small). */
  const cpuPerRequest = (size, who) =>
    blocks(size).reduce((sum, b) => sum + b[who].cpu, 0) / blocks(size).reduce((sum, b) => sum + b.count, 0);
  const kib = (t) => Math.max(...t.samples.map((s) => s.bytes)) / 1024;
  const LARGE_LABEL = LARGE.toLocaleString("en");
  const SMALL_LABEL = SMALL.toLocaleString("en");

  const out = [];
  out.push("");
  out.push(
    `SpokeDo benchmarks, ${new Date().toISOString().slice(0, 16)}Z (${((Date.now() - started) / 60000).toFixed(1)} min): ${SIZES.map((s) => s.toLocaleString("en")).join(" / ")} rows, ${ROUNDS} rounds.`,
  );
  out.push(
    `Production build under wrangler dev (NODE_ENV=production), local D1; one request at a time; ${WARMUP} warm-up requests per page and size.`,
  );

  out.push(
    "",
    `Pages: ${ROUNDS} × ${REQUESTS} requests per page and size, interleaved request by request across every page, size and the bare Worker. D1 figures from Server-Timing.`,
  );
  const pageRows = [];
  for (const page of PAGES) {
    for (const size of SIZES) {
      for (const who of page.id === "index" ? ["app", "bare"] : ["app"]) {
        const t = get(page.id, size, who);
        pageRows.push([
          `${page.label}${who === "bare" ? " (bare Worker)" : ""}`,
          size.toLocaleString("en"),
          fmt(median(ms(t))),
          fmt(quantile(ms(t), 0.9)),
          fmt(kib(t)),
          range(t.samples.map((s) => s.statements)),
          range(t.samples.map((s) => s.roundTrips)),
        ]);
      }
    }
  }
  out.push(table(["page", "rows", "median ms", "p90 ms", "HTML KiB", "D1 statements", "D1 round trips"], pageRows));

  out.push(
    "",
    `Index page, app vs bare Worker (the same statements, string-template HTML): ${ROUNDS} × ${REQUESTS} requests each, alternating app and bare request by request.`,
    "req/s one request at a time; ratio = median over rounds. CPU = utime+stime of the workerd process running the Worker (and its local D1), over all rounds.",
  );
  out.push(
    table(
      ["rows", "app req/s", "bare req/s", "req/s ratio", "app CPU ms/req", "bare CPU ms/req", "CPU ratio", "CPU app − bare"],
      SIZES.map((size) => [
        size.toLocaleString("en"),
        fmt(median(blocks(size).map((b) => reqPerSecond(b, "app")))),
        fmt(median(blocks(size).map((b) => reqPerSecond(b, "bare")))),
        fmt(rpsRatio(size), 2),
        fmt(cpuPerRequest(size, "app"), 2),
        fmt(cpuPerRequest(size, "bare"), 2),
        fmt(cpuPerRequest(size, "app") / cpuPerRequest(size, "bare"), 2),
        `${fmt(cpuPerRequest(size, "app") - cpuPerRequest(size, "bare"), 2)} ms`,
      ]),
    ),
  );

  out.push(
    "",
    "Deliveries inside workerd (local D1, in-process emulator): processDelivery vs a loop sending the same D1 statements and provider request, alternating delivery by delivery (coin-flip order).",
    "Throughput with each delivery's time capped at the 99th percentile of both paths' (decision 031); the uncapped ratio and the rounds' ratios beside it.",
  );
  out.push(
    table(
      [
        "rows",
        "app deliveries/s",
        "baseline deliveries/s",
        "ratio",
        "cap ms (over it: app / baseline)",
        "uncapped ratio",
        "rounds' ratios",
        "app statements/attempt",
        "app round trips/attempt",
        "baseline statements / round trips",
      ],
      deliveries.map((d) => [
        d.size.toLocaleString("en"),
        fmt(d.app),
        fmt(d.baseline),
        fmt(d.ratio, 2),
        `${fmt(d.capMs, 0)} (${d.overCap.app} / ${d.overCap.baseline})`,
        fmt(d.uncappedRatio, 2),
        range(d.roundRatios.map((r) => Number(fmt(r, 2)))),
        fmt(d.appStatements),
        fmt(d.appRoundTrips),
        `${fmt(d.baselineStatements)} / ${fmt(d.baselineRoundTrips)}`,
      ]),
    ),
  );
  if (concurrent)
    out.push(
      `50 concurrent deliveries through an expired access token: ${fmt(concurrent.perSecond)} deliveries/s, ${concurrent.refreshes} token refresh.`,
    );

  if (health.length) {
    out.push(
      "",
      "Scheduled health checks (inside workerd, local D1): one cron run with every connection due, the worst case, against the same",
      "write to the same rows picked by primary key; mean of 60 alternating runs (workerd's clock moves in whole milliseconds).",
      table(
        ["connections", "run ms", "baseline ms", "ratio", "checks queued per run", "D1 statements per run"],
        health.map((h) => [
          h.size.toLocaleString("en"),
          fmt(h.meanMs, 1),
          fmt(h.baselineMs, 1),
          fmt(h.meanMs / h.baselineMs, 2),
          fmt(h.taken, 0),
          fmt(h.statements, 0),
        ]),
      ),
    );
  }

  const rows = [];
  const target = (metric, goal, measured, met) => rows.push([metric, goal, measured, met === null ? "n/a" : met ? "yes" : "NO"]);
  for (const page of PAGES) {
    const ratio = latencyRatio(get(page.id, LARGE), get(page.id, SMALL));
    target(`${page.label} latency, ${LARGE_LABEL} ÷ ${SMALL_LABEL} rows`, "≤ 1.5×", `${fmt(ratio, 2)}×`, ratio <= 1.5);
  }
  const insightsRatios = SIZES.map((size) => latencyRatio(get("insights", size), get("index", size)));
  target(
    "/insights latency ÷ index latency, per size",
    "≤ 1.5×",
    insightsRatios.map((r) => `${fmt(r, 2)}×`).join(" / "),
    Math.max(...insightsRatios) <= 1.5,
  );
  const html = PAGES.map((page) => kib(get(page.id, LARGE)));
  const largest = Math.max(...html);
  target(`largest HTML at ${LARGE_LABEL} rows`, "≤ 100 KiB", `${fmt(largest)} KiB (${PAGES[html.indexOf(largest)].label})`, largest <= 100);
  const trips = PAGES.map((page) => Math.max(...SIZES.flatMap((size) => get(page.id, size).samples.map((s) => s.roundTrips))));
  target("D1 round trips per page", "≤ 3", PAGES.map((page, i) => `${page.id} ${trips[i]}`).join(", "), Math.max(...trips) <= 3);
  const rps = SIZES.map(rpsRatio);
  target("index req/s ÷ bare Worker, per size", "≥ 0.8", rps.map((r) => fmt(r, 2)).join(" / "), Math.min(...rps) >= 0.8);
  const cpu = SIZES.map((size) => cpuPerRequest(size, "app") / cpuPerRequest(size, "bare"));
  target("index CPU ms/request ÷ bare Worker, per size", "≤ 1.3×", cpu.map((r) => `${fmt(r, 2)}×`).join(" / "), Math.max(...cpu) <= 1.3);
  if (deliveries.length) {
    const ratios = deliveries.map((d) => d.ratio);
    target(
      "deliveries/s ÷ same-statements baseline, per size",
      "≥ 0.95",
      ratios.map((r) => fmt(r, 2)).join(" / "),
      Math.min(...ratios) >= 0.95,
    );
    const perAttempt = Math.max(...deliveries.map((d) => d.appRoundTrips));
    target("D1 round trips per delivery attempt", "≤ 2", fmt(perAttempt), perAttempt <= 2);
  } else {
    target("deliveries/s ÷ same-statements baseline", "≥ 0.95", "not measured (see the log)", null);
  }
  if (health.length) {
    const ratios = health.map((h) => h.meanMs / h.baselineMs);
    target(
      "health-check run ÷ same write by key, per size (≤ 100 checks, 1 statement)",
      "≤ 1.5×",
      ratios.map((r) => `${fmt(r, 2)}×`).join(" / "),
      Math.max(...ratios) <= 1.5 && health.every((h) => h.taken <= 100 && h.statements === 1),
    );
  }
  out.push("", "Targets (reported, not asserted)", table(["metric", "target", "measured", "met"], rows));

  if (plans.length) {
    out.push(
      "",
      `Query plans on the ${LARGE_LABEL}-row database: EXPLAIN QUERY PLAN of the statements the app sent for each page ("!" marks scans and sorts),`,
      "and each statement's median time in SQLite itself (node:sqlite on the seeded files, no D1 or Worker around it).",
    );
    for (const plan of plans) {
      out.push(`- ${plan.page}: ${plan.sql.length > 150 ? `${plan.sql.slice(0, 147)}...` : plan.sql}`);
      out.push(`      SQLite alone: ${fmt(plan.ms.small, 3)} ms at ${SMALL_LABEL} rows, ${fmt(plan.ms.large, 3)} ms at ${LARGE_LABEL}`);
      for (const line of plan.lines) out.push(`      ${line}`);
      if (plan.flags.length) out.push(`      ! ${plan.flags.join("; ")}`);
    }
  }
  return out.join("\n");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
