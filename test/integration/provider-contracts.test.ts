import { describe, expect, it } from "vitest";
import { useEmulator } from "./connections-support";
import { deliveriesOf, deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { database } from "./helpers";

const emulator = useEmulator();

describe("inputs checked against the providers' published contracts", () => {
  it("refuses repository names GitHub does not allow, so no URL can resolve to another endpoint", async () => {
    const { browser, connectionId } = await deliveringSetup(emulator(), "github");
    const before = emulator().requestsTo("github").length;
    for (const repository of [
      "octocat/.",
      "octocat/..",
      "-octocat/hello",
      "octocat-/hello",
      "oct--ocat/x",
      "octocat/a b",
      "octocat/hello/issues",
    ]) {
      const response = await browser.post(`/integration-connections/${connectionId}/settings`, {
        intent: "save",
        name: "github-main",
        "config.repository": repository,
      });
      expect(response.status, repository).toBe(400);
      expect(await response.text(), repository).toContain("Use owner/name, like octocat/hello-world.");
    }
    // The refused form is drawn again with the repository picker (listed once, then cached): no
    // request was ever made for the refused names.
    const made = emulator().requestsTo("github").slice(before);
    expect(
      made.filter((request) => !/\/user\/repos$|\/repos\/octocat\/hello-world\/(labels|assignees)$/.test(new URL(request.url).pathname)),
      "refused before any provider call",
    ).toEqual([]);
    const { config_json: config } = await database()
      .selectFrom("connections")
      .select("config_json")
      .where("id", "=", connectionId)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(config)).toMatchObject({ repository: "octocat/hello-world" });
  });

  it("cuts a Notion body into text objects on code points: an emoji at the 2,000-unit boundary is never split", async () => {
    const { browser } = await deliveringSetup(emulator(), "notion");
    const body = `${"x".repeat(1999)}🚀 and more`;
    const insightId = await sendInsight(browser, "Boundary", body);
    await settle();
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded" });
    const [request] = emulator().requestsTo("notion", "deliver");
    // A lone surrogate would not even be valid JSON at Notion; the body parses and holds the emoji whole.
    const sent = JSON.parse(request!.body) as { children: { paragraph?: { rich_text: { text: { content: string } }[] } }[] };
    const texts = sent.children.flatMap((block) => block.paragraph?.rich_text.map((text) => text.text.content) ?? []);
    expect(texts[0]).toBe("x".repeat(1999));
    expect(texts[1]!.startsWith("🚀 and more")).toBe(true);
    for (const text of texts) {
      expect(text.length).toBeLessThanOrEqual(2000);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });
});
