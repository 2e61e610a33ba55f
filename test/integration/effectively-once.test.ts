import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { processDelivery } from "~/lib/delivery/outbox.server";
import { DatabaseScope, runInScope } from "~/lib/platform/db.server";
import type { Fault } from "../emulator";
import { PROVIDERS, connectionRow, useEmulator } from "./connections-support";
import { attemptsOf, deliveriesOf, deliveringSetup, deliveryDeps, sendInsight, settle } from "./deliveries-support";
import { database } from "./helpers";

const emulator = useEmulator();

/** Runs due deliveries at the time the first pending one is due (the queue would bring it back then). */
async function settleNextRound(insightId: string) {
  const [pending] = (await deliveriesOf(insightId)).filter((delivery) => delivery.status === "pending");
  if (pending) await settle(pending.next_attempt_at + 1);
}

/**
 * A D1 session that stops writing, as a runtime that dies after the provider answered and before
 * the outcome is recorded: the batch that records an attempt never reaches D1.
 */
function dyingScope() {
  const session = env.DB.withSession("first-primary");
  const dead: D1DatabaseSession = {
    prepare: (query) => session.prepare(query),
    batch: (statements) => (statements.length > 2 ? Promise.reject(new Error("the runtime was killed")) : session.batch(statements)),
    getBookmark: () => session.getBookmark(),
  };
  return new DatabaseScope(env.DB, dead);
}

describe("an attempt whose outcome is unknown is looked up at the provider, never sent twice", () => {
  // drop_after_commit: the provider created the item, then the connection dropped.
  // malformed_json: the provider answered 200 with a garbled body instead of acting.
  const faults: [string, Fault, { created: boolean }][] = [
    ["the connection drops after the provider created the item: found, not resent", { kind: "drop_after_commit" }, { created: true }],
    [
      "a garbled 200 answer from a provider that did not act: looked up, not found, resent once",
      { kind: "malformed_json" },
      { created: false },
    ],
  ];
  for (const provider of PROVIDERS) {
    for (const [what, fault, { created }] of faults) {
      it(`${provider}: ${what}`, async () => {
        const { browser } = await deliveringSetup(emulator(), provider);
        emulator().failNext(provider, "deliver", fault);
        const insightId = await sendInsight(browser);
        await settle();
        const [first] = await deliveriesOf(insightId);
        expect(first).toMatchObject({ status: "pending", attempts: 1 });
        expect(first!.unconfirmed_since).not.toBeNull();

        await settleNextRound(insightId);
        const [delivery] = await deliveriesOf(insightId);
        expect(delivery).toMatchObject({ status: "succeeded", unconfirmed_since: null });
        expect(delivery!.item_url).toBeTruthy();
        // Exactly one item at the provider either way.
        expect(emulator().created.filter((item) => item.provider === provider)).toHaveLength(1);
        expect(emulator().requestsTo(provider, "deliver")).toHaveLength(created ? 1 : 2);
        const attempts = await attemptsOf(insightId);
        expect(attempts.map((attempt) => [attempt.outcome, attempt.sent])).toEqual([
          ["retrying", 1],
          ["succeeded", created ? 0 : 1],
        ]);
        if (created) expect(attempts[1]!.message).toContain("Found at the provider");
      });
    }
  }

  it("a 5xx from the provider's edge is checked, found absent, and sent again once", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    emulator().failNext("github", "deliver", { kind: "http", status: 502, body: "Bad Gateway" });
    const insightId = await sendInsight(browser);
    await settle();
    await settleNextRound(insightId);
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded" });
    expect(emulator().requestsTo("github", "lookup")).toHaveLength(1);
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(2);
    expect(emulator().created).toHaveLength(1);
  });

  it("a body that stalls past the timeout ends the attempt as unconfirmed; the next finds the issue", async () => {
    const { browser } = await deliveringSetup(emulator(), "trello");
    emulator().failNext("trello", "deliver", { kind: "slow_body", delayMs: 30_000 });
    const insightId = await sendInsight(browser);
    await settle();
    const [attempt] = await attemptsOf(insightId);
    expect(attempt).toMatchObject({ outcome: "retrying", sent: 1 });
    expect(attempt!.message).toContain("No answer within 10 seconds");
    await settleNextRound(insightId);
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded" });
    expect(emulator().created).toHaveLength(1);
  }, 60_000);

  it("a runtime killed between the provider's answer and the write: the next attempt finds the item", async () => {
    const { workspaceId } = await deliveringSetup(emulator(), "slack");
    const deps = await deliveryDeps();
    const { createInsight } = await import("~/lib/delivery/insights.server");
    const created = await createInsight(deps.db, workspaceId, { title: "Once", body: "b", source: "api", targets: { all: true } });
    const [delivery] = await deliveriesOf(created.ok ? created.insightId : "");

    await expect(runInScope(dyingScope(), () => processDelivery(deps, delivery!.id))).rejects.toThrow("the runtime was killed");
    expect(emulator().created).toHaveLength(1);
    expect(await attemptsOf(delivery!.insight_id)).toHaveLength(0);

    // The lease runs out; the next attempt sees it was held, asks Slack, and records what it finds.
    expect(await processDelivery(deps, delivery!.id, Date.now() + 61_000)).toMatchObject({ outcome: "succeeded" });
    expect(emulator().requestsTo("slack", "deliver")).toHaveLength(1);
    expect(emulator().created).toHaveLength(1);
    const [row] = await deliveriesOf(delivery!.insight_id);
    expect(row).toMatchObject({ status: "succeeded", unconfirmed_since: null });
    expect(row!.item_url).toContain("/archives/");
    expect(await attemptsOf(delivery!.insight_id)).toMatchObject([{ attempt: 1, outcome: "succeeded", sent: 0 }]);
  });
});

describe("refresh and retry once", () => {
  it("a delivery whose access token the provider rejects early refreshes once and delivers", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "linear");
    const before = await connectionRow(connectionId);
    emulator().failNext("linear", "deliver", { kind: "expired_token" });
    const insightId = await sendInsight(browser);
    await settle();
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(emulator().requestsTo("linear", "refresh")).toHaveLength(1);
    const after = await connectionRow(connectionId);
    expect(after).toMatchObject({ status: "active", token_version: before.token_version + 1 });
  });
});

describe("a connection in error heals", () => {
  it("its next successful delivery makes it active again", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "notion");
    await database()
      .updateTable("connections")
      .set({ status: "error", status_reason: "Notion answered with an error: HTTP 503" })
      .where("id", "=", connectionId)
      .execute();
    const insightId = await sendInsight(browser);
    await settle();
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded" });
    expect(await connectionRow(connectionId)).toMatchObject({ status: "active", status_reason: null, last_error: null });
  });

  it("its scheduled health check, due soon after the error, makes it active again without a delivery", async () => {
    const { connectionId, workspaceId } = await deliveringSetup(emulator(), "github");
    const { changeStatus, RECHECK_ERROR_AFTER_MS } = await import("~/lib/connections/status.server");
    const { scheduleHealthChecks } = await import("~/lib/connections/health.server");
    await changeStatus(
      database(),
      { id: connectionId, workspace_id: workspaceId },
      {
        status: "error",
        reason: "GitHub answered with an error: HTTP 502",
      },
    );
    const deps = await deliveryDeps();
    expect(await scheduleHealthChecks(deps, null), "not due yet").toEqual({ due: 0 });
    expect(await scheduleHealthChecks(deps, null, { now: Date.now() + RECHECK_ERROR_AFTER_MS + 1000 })).toEqual({ due: 1 });
    expect(await connectionRow(connectionId)).toMatchObject({ status: "active" });
  });
});
