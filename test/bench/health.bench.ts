// Scheduled health checks stay bounded as connections grow: one cron run's work (the statement
// that takes the due connections, and the queue send) at 100 / 1,000 / 10,000 connections, every
// one of them due (the worst case), beside a baseline writing the same rows picked by primary key.
// Timings are reported, never asserted; what is asserted is that a run takes at most
// HEALTH_CHECKS_PER_RUN connections in one statement.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { HEALTH_CHECKS_PER_RUN, scheduleHealthChecks } from "~/lib/connections/health.server";
import { openScope, runInScope } from "~/lib/platform/db.server";
import type { HealthCheckMessage, HealthQueue } from "~/lib/platform/queues";
import { useEmulator } from "../integration/connections-support";
import { deliveringSetup, deliveryDeps } from "../integration/deliveries-support";
import { report } from "./recording";
import { workspaceRows } from "./seed";

const emulator = useEmulator();
const SIZES = (env.BENCH_SIZES ?? "100,1000,10000").split(",").map(Number);
const RUNS = 60;

// workerd's clock moves in whole milliseconds: the median of runs taking 1–3 ms is a whole number
// (1.0 against 2.0 read as "2×"), while the mean over many runs resolves tenths. Run and baseline
// alternate, so the machine's load weighs on both means alike.
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

for (const size of SIZES) {
  it(`one scheduled run at ${size.toLocaleString("en")} connections, all due`, async () => {
    const setup = await deliveringSetup(emulator(), "github");
    const now = Date.now();
    await env.DB.batch(
      workspaceRows({ workspaceId: setup.workspaceId, size, now: now - 60_000, hotConnectionId: setup.connectionId }).map((sql) =>
        env.DB.prepare(sql),
      ),
    );
    await env.DB.prepare(
      "UPDATE connections SET health_due_at = ?1 - (abs(random()) % 86400000) WHERE status IN ('active', 'error') AND disabled_at IS NULL",
    )
      .bind(now)
      .run();
    // After each run, the connections it took are due again (the same 100-row write at every size).
    const makeDueAgain = (ids: string[]) =>
      env.DB.prepare(`UPDATE connections SET health_due_at = ?1 - (abs(random()) % 86400000) WHERE id IN (SELECT value FROM json_each(?2))`)
        .bind(now, JSON.stringify(ids))
        .run();
    const deps = await deliveryDeps();
    const sent: HealthCheckMessage[] = [];
    const queue = {
      sendBatch: (messages: Iterable<{ body: HealthCheckMessage }>) => Promise.resolve(void sent.push(...[...messages].map((m) => m.body))),
    } as unknown as HealthQueue;

    // Baseline: the same write to as many connections picked by primary key (no selection by
    // due time), so the ratio shows what choosing the due ones costs as the table grows.
    const baselineWrite = (ids: string[]) =>
      env.DB.prepare(`UPDATE connections SET health_due_at = ?1 WHERE id IN (SELECT value FROM json_each(?2)) RETURNING workspace_id, id`)
        .bind(now + 900_000, JSON.stringify(ids))
        .all();

    const samples: { ms: number; baselineMs: number; taken: number; statements: number }[] = [];
    for (let run = 0; run < RUNS + 3; run++) {
      sent.length = 0;
      const scope = openScope(env.DB, "first-primary");
      const start = performance.now();
      const { due } = await runInScope(scope, () => scheduleHealthChecks(deps, queue, { now }));
      const ms = performance.now() - start;
      expect(due).toBe(sent.length);
      expect(due).toBeLessThanOrEqual(HEALTH_CHECKS_PER_RUN);
      expect(scope.statements).toBe(1);
      const ids = sent.map((message) => message.connectionId);
      await makeDueAgain(ids);
      const baselineStart = performance.now();
      await baselineWrite(ids);
      const baselineMs = performance.now() - baselineStart;
      await makeDueAgain(ids);
      if (run >= 3) samples.push({ ms, baselineMs, taken: due, statements: scope.statements });
    }
    report({
      kind: "health",
      size,
      runs: RUNS,
      meanMs: mean(samples.map((s) => s.ms)),
      baselineMs: mean(samples.map((s) => s.baselineMs)),
      taken: median(samples.map((s) => s.taken)),
      statements: 1,
    });
  }, 300_000);
}
