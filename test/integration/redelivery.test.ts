import { describe, expect, it } from "vitest";
import { connect, connectionRow, useEmulator } from "./connections-support";
import { attemptsOf, deliveriesOf, deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { database, pageHtml } from "./helpers";

const emulator = useEmulator();

describe("redelivering failed deliveries", () => {
  it("a revoked connection's failed deliveries are redelivered from its page once it is re-authorized", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    await emulator().revokeTokensOf("github", emulator().tokens("github").at(-1)!.accountId);
    const insightId = await sendInsight(browser, "Disk almost full");
    await settle();
    const [failed] = await deliveriesOf(insightId);
    expect(failed).toMatchObject({ status: "failed" });
    expect((await connectionRow(connectionId)).status).toBe("revoked");
    // Nothing to offer while the connection is still revoked.
    expect(await pageHtml(await browser.get(`/integration-connections/${connectionId}`))).not.toContain("Redeliver 1 failed delivery");

    // Re-authorize (the same account), then the page offers the redelivery.
    const start = await browser.post(`/integration-connections/${connectionId}`, { intent: "reauthorize" });
    const { submitConsent } = await import("../emulator");
    const callback = await submitConsent(emulator(), start.headers.get("Location")!);
    await browser.get(`${callback.pathname}${callback.search}`);
    expect((await connectionRow(connectionId)).status).toBe("active");
    const page = await pageHtml(await browser.get(`/integration-connections/${connectionId}`));
    expect(page).toContain("Redeliver 1 failed delivery");

    const redelivered = await browser.post(`/integration-connections/${connectionId}`, { intent: "redeliver-failed" });
    expect(redelivered.status).toBe(303);
    await settle();
    const [after] = await deliveriesOf(insightId);
    // The same delivery record (no new insight), delivered once.
    expect(after).toMatchObject({ id: failed!.id, status: "succeeded", retry_base: failed!.attempts });
    expect(await database().selectFrom("insights").select("id").execute()).toHaveLength(1);
    expect(emulator().created).toHaveLength(1);
    const attempts = await attemptsOf(insightId);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(["failed", "succeeded"]);
    expect(await pageHtml(await browser.get(`/integration-connections/${connectionId}`))).not.toContain('value="redeliver-failed"');
  });

  it("Retry failed deliveries on an insight's page retries only the failed ones, with a new round of attempts", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "slack");
    const trello = (await connect(browser, emulator(), "trello", "trello-main")).id!;
    await browser.post(`/integration-connections/${trello}/settings`, {
      intent: "save",
      name: "trello-main",
      "config.boardId": "5e1b00000000000000000001",
      "config.listId": "5e1c00000000000000000001",
    });
    await browser.post("/intents/new", { name: "cards", connectionId: trello, enabled: "on" });
    emulator().failNext("slack", "deliver", { kind: "http", status: 503, body: "down" }, 5);
    const insightId = await sendInsight(browser, "Two intents");
    let now = Date.now();
    for (let round = 0; round < 5; round++) {
      await settle(now);
      const pending = (await deliveriesOf(insightId)).filter((delivery) => delivery.status === "pending");
      if (!pending.length) break;
      now = Math.max(...pending.map((delivery) => delivery.next_attempt_at)) + 1;
    }
    const before = await deliveriesOf(insightId);
    expect(before.map((delivery) => delivery.status).sort()).toEqual(["failed", "succeeded"]);
    expect((await connectionRow(connectionId)).status).toBe("error");

    const html = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(html).toContain("Retry 1 failed delivery");
    const retried = await browser.post(`/insights/${insightId}`, { intent: "retry-failed" });
    expect(retried.status).toBe(303);
    await settle();
    const after = await deliveriesOf(insightId);
    expect(after.every((delivery) => delivery.status === "succeeded")).toBe(true);
    // The connection heals with the success; the delivered card was not sent again.
    expect((await connectionRow(connectionId)).status).toBe("active");
    expect(emulator().created.filter((item) => item.provider === "trello")).toHaveLength(1);
    expect(emulator().created.filter((item) => item.provider === "slack")).toHaveLength(1);
  });

  it("while deliveries are pending the insight page refreshes itself, and stops once they settle", async () => {
    const { browser } = await deliveringSetup(emulator(), "linear");
    const insightId = await sendInsight(browser);
    const pending = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(pending).toMatch(/<meta http-equiv="refresh" content="3"\/>/);
    expect(pending).toContain("refresh now");
    await settle();
    const settled = await pageHtml(await browser.get(`/insights/${insightId}`));
    expect(settled).not.toContain('http-equiv="refresh"');
  });
});
