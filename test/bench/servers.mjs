// Local D1 states and `wrangler dev` servers for the page benchmarks (test/bench/run.mjs).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { accountRows, otherAccountRows, seedId, workspaceRows } from "./seed.ts";

export const BENCH_ACCOUNT = {
  workspaceId: "b0000000-0000-4000-8000-000000000001",
  userId: "b1000000-0000-4000-8000-000000000001",
};
/** Other users, each with a session and a workspace, beside the measured one (the same at every size). */
const OTHER_ACCOUNTS = 1000;
/** The connection page is measured on the busiest connection (see seed.ts). */
export const HOT_CONNECTION_ID = seedId.connection(1);

// The project's wrangler, vitest and Node 24 first, as npm scripts have them, also when this
// runs as `node test/bench/run.mjs`.
const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
export const quietEnv = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH}`, WRANGLER_SEND_METRICS: "false" };

/** Runs a command to completion, its output in `log`; rejects with the log's tail on failure. */
export function run(command, args, { log, env = quietEnv, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: "a" });
    out.write(`\n$ ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      output += chunk;
      out.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
      out.write(chunk);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      out.end();
      if (code === 0) resolve(stdout);
      else {
        const tail = readFileSync(log, "utf8").split("\n").slice(-40).join("\n");
        reject(Object.assign(new Error(`${command} ${args.slice(0, 3).join(" ")} exited with ${code}\n${tail}`), { stdout, output }));
      }
    });
  });
}

/**
 * One local D1 state per size: the app's migrations (applied once by wrangler, then copied),
 * then the seed: one user, workspace and session, and `size` connections, intents, insights and
 * deliveries with their attempts, run by `wrangler d1 execute --file`. The bare Worker gets a
 * byte-for-byte copy, so the two servers never share SQLite files.
 */
export async function seedStates({ dir, sizes, log, now }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const template = join(dir, "migrated");
  await run("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", template], {
    log,
    env: { ...quietEnv, CI: "true" },
  });
  const token = randomBytes(32).toString("base64url");
  const sessionId = createHash("sha256").update(token).digest("hex");
  const states = await Promise.all(
    sizes.map(async (size) => {
      const app = join(dir, String(size), "app");
      const bare = join(dir, String(size), "bare");
      cpSync(template, app, { recursive: true });
      const file = join(dir, String(size), "seed.sql");
      const account = { ...BENCH_ACCOUNT, sessionId };
      // PRAGMA optimize after the bulk insert, as the migrations end and as D1's docs advise
      // after loading data: the planner then has the statistics a live database would have.
      const statements = [
        ...otherAccountRows(OTHER_ACCOUNTS, now),
        ...accountRows(account, size, now),
        ...workspaceRows({ workspaceId: account.workspaceId, size, now }),
        "PRAGMA optimize",
      ];
      writeFileSync(file, statements.join(";\n") + ";\n");
      await run("wrangler", ["d1", "execute", "DB", "--local", "--persist-to", app, "--file", file, "--yes"], { log });
      cpSync(app, bare, { recursive: true });
      return { size, app, bare };
    }),
  );
  return { states, token, sessionId };
}

/** The SQLite file behind the local D1 database of a persisted state. */
export function d1File(state) {
  const folder = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(folder).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (!file) throw new Error(`no D1 database in ${folder}`);
  return join(folder, file);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `wrangler dev` under NODE_ENV=production (otherwise wrangler bundles React's development
 * build), in its own process group so it and its workerd children stop together.
 */
export async function startServer({ name, config, state, varsFile, log, appUrlPort }) {
  const port = appUrlPort ?? (await freePort());
  const inspector = await freePort();
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspector),
    "--persist-to",
    state,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  if (config) args.push("-c", config);
  if (varsFile) args.push("--env-file", varsFile);
  const out = createWriteStream(log, { flags: "a" });
  const child = spawn("wrangler", args, {
    env: { ...quietEnv, NODE_ENV: "production" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return { name, port, origin: `http://127.0.0.1:${port}`, child, exited: new Promise((resolve) => child.on("exit", resolve)) };
}

export function stopServer(server) {
  if (server.child.exitCode !== null) return server.exited;
  try {
    process.kill(-server.child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
  return Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
}

/** A vars file like `npm start` writes: random key ring, providers pointed at a local emulator origin. */
export function writeVars(file, appOrigin) {
  const emulator = "http://127.0.0.1:9";
  const lines = [
    `APP_URL=${appOrigin}`,
    `TOKEN_ENCRYPTION_KEYS=bench:${randomBytes(32).toString("base64url")}`,
    "TOKEN_ENCRYPTION_PRIMARY_KEY_ID=bench",
    ...["github", "slack", "notion", "linear"].flatMap((p) => [
      `${p.toUpperCase()}_CLIENT_ID=emu-${p}-client`,
      `${p.toUpperCase()}_CLIENT_SECRET=emu-${p}-secret`,
      `${p.toUpperCase()}_WEB_URL=${emulator}/${p}`,
      `${p.toUpperCase()}_API_URL=${emulator}/${p}${p === "notion" ? "" : "/api"}`,
    ]),
    "TRELLO_API_KEY=emu-trello-key",
    "TRELLO_API_SECRET=emu-trello-secret",
    `TRELLO_WEB_URL=${emulator}/trello`,
    `TRELLO_API_URL=${emulator}/trello/api`,
  ];
  writeFileSync(file, lines.join("\n") + "\n", { mode: 0o600 });
}

function processTable() {
  const table = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // comm may hold spaces: fields after the closing parenthesis are fixed.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      table.set(Number(entry), { pid: Number(entry), comm, ppid: Number(fields[1]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/**
 * The workerd processes that run a server's Worker. wrangler 4 starts two: one listening on the
 * public port (its proxy in front of the Worker) and the one running the Worker and its local
 * D1. CPU per request is read from the latter, for the app and for the bare Worker alike, so
 * the shared proxy does not dilute the ratio.
 */
export function workerdPids(server) {
  const table = processTable();
  const descendants = [];
  const queue = [server.child.pid];
  while (queue.length) {
    const pid = queue.shift();
    for (const proc of table.values())
      if (proc.ppid === pid) {
        descendants.push(proc);
        queue.push(proc.pid);
      }
  }
  const workerds = descendants.filter((proc) => proc.comm === "workerd");
  const runtime = workerds.filter((proc) => {
    const cmdline = existsSync(`/proc/${proc.pid}/cmdline`) ? readFileSync(`/proc/${proc.pid}/cmdline`, "utf8") : "";
    return !cmdline.includes(`entry=127.0.0.1:${server.port}`);
  });
  return { runtime: runtime.map((proc) => proc.pid), all: workerds.map((proc) => proc.pid) };
}

/** utime + stime of these processes, in clock ticks. */
export function cpuTicks(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone: counts nothing.
    }
  }
  return ticks;
}
