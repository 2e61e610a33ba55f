import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepOverdueDeliveries } from "~/lib/delivery/dispatch.server";
import { createInsight } from "~/lib/delivery/insights.server";
import { submitInsight } from "~/lib/delivery/submission.server";
import type { DeliveryMessage } from "~/lib/platform/queues";
import { useEmulator } from "./connections-support";
import { attemptsOf, deliveriesOf, deliveringSetup, deliveryDeps } from "./deliveries-support";
import { database } from "./helpers";
import { consumeBatch } from "./queue-support";

const emulator = useEmulator();

/** The delivery queue's consumer, fed as Cloudflare Queues feeds it. */
async function consume(queue: string, deliveryIds: string[], attempts = 1) {
  const { acks, retries } = await consumeBatch<DeliveryMessage>(
    queue,
    deliveryIds.map((deliveryId) => ({ deliveryId })),
    attempts,
  );
  return { explicitAcks: acks, retryMessages: retries };
}

async function pendingDelivery(provider: "github" | "slack" | "trello") {
  const { workspaceId } = await deliveringSetup(emulator(), provider);
  const deps = await deliveryDeps();
  const created = await createInsight(deps.db, workspaceId, { title: "Queue", body: "b", source: "api", targets: { all: true } });
  const [delivery] = await deliveriesOf(created.ok ? created.insightId : "");
  return delivery!;
}

describe("the delivery queue's consumer", () => {
  it("acknowledges a delivered message", async () => {
    const delivery = await pendingDelivery("github");
    const result = await consume("spokedo-deliveries", [delivery.id]);
    expect(result).toMatchObject({ explicitAcks: ["msg-0"], retryMessages: [] });
    expect((await deliveriesOf(delivery.insight_id))[0]).toMatchObject({ status: "succeeded" });
  });

  it("brings a rate-limited message back after the provider's Retry-After", async () => {
    const delivery = await pendingDelivery("slack");
    emulator().failNext("slack", "deliver", { kind: "rate_limited", retryAfterSeconds: 2 });
    const result = await consume("spokedo-deliveries", [delivery.id]);
    // Retry-After: 2, plus a spread of up to a second.
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(2);
    expect(result.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(3);
    expect((await attemptsOf(delivery.insight_id))[0]).toMatchObject({ outcome: "retrying", error_class: "rate_limit", http_status: 429 });
  });

  it("brings a 5xx back after a jittered backoff, and settles many messages side by side", async () => {
    const delivery = await pendingDelivery("trello");
    const deps = await deliveryDeps();
    const other = await createInsight(deps.db, delivery.workspace_id, { title: "Other", body: "b", source: "api", targets: { all: true } });
    const [second] = await deliveriesOf(other.ok ? other.insightId : "");
    emulator().failNext("trello", "deliver", { kind: "http", status: 503, body: "unavailable" });
    const result = await consume("spokedo-deliveries", [delivery.id, second!.id]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    // The first backoff is 15–30 seconds.
    expect(result.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(15);
    expect(result.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(30);
  });

  it("does not attempt a duplicate message while another worker holds the delivery", async () => {
    const delivery = await pendingDelivery("github");
    await database()
      .updateTable("deliveries")
      .set({ lease_owner: "someone", lease_expires_at: Date.now() + 30_000 })
      .where("id", "=", delivery.id)
      .execute();
    const result = await consume("spokedo-deliveries", [delivery.id]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(30);
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(0);
  });

  it("acknowledges a message whose delivery is already settled", async () => {
    const delivery = await pendingDelivery("github");
    await consume("spokedo-deliveries", [delivery.id]);
    const again = await consume("spokedo-deliveries", [delivery.id]);
    expect(again.explicitAcks).toEqual(["msg-0"]);
    expect(emulator().requestsTo("github", "deliver")).toHaveLength(1);
  });

  it("the dead-letter queue records the delivery as failed, so nothing stays pending", async () => {
    const delivery = await pendingDelivery("github");
    const result = await consume("spokedo-deliveries-dlq", [delivery.id], 31);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect((await deliveriesOf(delivery.insight_id))[0]).toMatchObject({ status: "failed" });
    const [attempt] = await attemptsOf(delivery.insight_id);
    expect(attempt).toMatchObject({ outcome: "failed", sent: 0 });
    expect(attempt!.message).toContain("could not finish this delivery after 31 tries");
  });
});

describe("the delivery queue's producer", () => {
  it("an insight's deliveries go on the queue, and the queue's consumer delivers them", async () => {
    const { workspaceId } = await deliveringSetup(emulator(), "github");
    const created = await submitInsight(database(), env.DELIVERY_QUEUE, workspaceId, {
      title: "Through the queue",
      body: "b",
      source: "api",
      targets: { all: true },
    });
    const insightId = created.ok ? created.insightId : "";
    await expect.poll(async () => (await deliveriesOf(insightId))[0]?.status, { timeout: 15_000, interval: 100 }).toBe("succeeded");
    expect(emulator().created).toHaveLength(1);
  });

  it("the cron's sweep puts overdue deliveries (their message lost) back on the queue", async () => {
    const delivery = await pendingDelivery("github");
    await database()
      .updateTable("deliveries")
      .set({ next_attempt_at: Date.now() - 10 * 60_000 })
      .where("id", "=", delivery.id)
      .execute();
    expect(await sweepOverdueDeliveries(database(), env.DELIVERY_QUEUE)).toBe(1);
    await expect
      .poll(async () => (await deliveriesOf(delivery.insight_id))[0]?.status, { timeout: 15_000, interval: 100 })
      .toBe("succeeded");
  });
});
