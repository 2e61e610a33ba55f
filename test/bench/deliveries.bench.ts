// Delivery throughput, D1 queries per delivery and refresh requests under concurrency, measured
// inside workerd with real D1 and the in-process provider emulator. Run with `npm run bench`.
// It reports figures (and a ratio against a baseline measured in the same run); it asserts only
// correctness, never timings.
import { env } from "cloudflare:workers";
import { it, expect } from "vitest";
import { openScope, runInScope } from "~/lib/platform/db.server";
import { processDelivery } from "~/lib/delivery/outbox.server";
import { createInsight } from "~/lib/delivery/insights.server";
import { database } from "../integration/helpers";
import { useEmulator } from "../integration/connections-support";
import { deliveriesOf, deliveringSetup, deliveryDeps } from "../integration/deliveries-support";

const emulator = useEmulator();
const N = Number((process as NodeJS.Process).env.BENCH_DELIVERIES ?? 200);

it(`delivers ${N} insights and reports throughput, D1 queries per delivery and refresh count`, async () => {
  const { workspaceId, connectionId } = await deliveringSetup(emulator(), "github");
  const deps = await deliveryDeps();

  // Baseline: the provider call alone (the emulator's create-issue round trip), no SpokeDo work.
  const token = emulator().tokens("github").at(-1)!.accessToken;
  const baselineStart = performance.now();
  for (let i = 0; i < N; i++) {
    const response = await fetch(`${emulator().options.origin}/github/api/repos/octocat/hello-world/issues`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "User-Agent": "bench", "Content-Type": "application/json" },
      body: JSON.stringify({ title: `baseline ${i}` }),
    });
    await response.arrayBuffer();
  }
  const baselinePerSecond = N / ((performance.now() - baselineStart) / 1000);

  const insights = [];
  for (let i = 0; i < N; i++)
    insights.push(
      await createInsight(deps.db, workspaceId, { title: `insight ${i}`, body: "bench", source: "api", targets: { all: true } }),
    );
  const deliveries = (await Promise.all(insights.map((insight) => deliveriesOf(insight.ok ? insight.insightId : "")))).flat();

  const scope = openScope(env.DB, "first-primary");
  const start = performance.now();
  await runInScope(scope, async () => {
    for (const delivery of deliveries) await processDelivery(deps, delivery.id);
  });
  const seconds = (performance.now() - start) / 1000;
  const queriesPerDelivery = scope.statements / deliveries.length;
  const sequentialPerSecond = deliveries.length / seconds;

  // Concurrency: 50 deliveries at once through an expired access token.
  emulator().expireAccessTokens("github");
  await database()
    .updateTable("connections")
    .set({ access_token_expires_at: Date.now() - 1000 })
    .where("id", "=", connectionId)
    .execute();
  const batch = [];
  for (let i = 0; i < 50; i++)
    batch.push(
      await createInsight(deps.db, workspaceId, { title: `concurrent ${i}`, body: "bench", source: "api", targets: { all: true } }),
    );
  const concurrent = (await Promise.all(batch.map((insight) => deliveriesOf(insight.ok ? insight.insightId : "")))).flat();
  const refreshesBefore = emulator().requestsTo("github", "refresh").length;
  const concurrentStart = performance.now();
  const outcomes = await Promise.all(concurrent.map((delivery) => processDelivery(deps, delivery.id)));
  const concurrentPerSecond = concurrent.length / ((performance.now() - concurrentStart) / 1000);
  const refreshes = emulator().requestsTo("github", "refresh").length - refreshesBefore;

  expect(outcomes.every((outcome) => outcome.outcome === "succeeded")).toBe(true);
  expect(emulator().created.length).toBe(N + N + 50);

  const rows: [string, string][] = [
    ["baseline: provider round trips per second (emulator only)", baselinePerSecond.toFixed(0)],
    ["deliveries per second, one at a time", sequentialPerSecond.toFixed(0)],
    ["  ratio to baseline", (sequentialPerSecond / baselinePerSecond).toFixed(3)],
    ["deliveries per second, 50 concurrent (incl. one token refresh)", concurrentPerSecond.toFixed(0)],
    ["D1 queries per delivery (statements prepared)", queriesPerDelivery.toFixed(1)],
    ["refresh requests for 50 concurrent deliveries with an expired token", String(refreshes)],
  ];
  console.log(
    `\nSpokeDo delivery benchmark (N=${N}, workerd + local D1 + in-process emulator)\n${rows.map(([k, v]) => `  ${k.padEnd(70)} ${v}`).join("\n")}\n`,
  );
}, 300_000);
