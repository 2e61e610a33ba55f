import { describe, expect, it } from "vitest";
import { useEmulator, PROVIDERS } from "./connections-support";
import { deliveriesOf, deliveringSetup, sendInsight, settle } from "./deliveries-support";
import { pageHtml } from "./helpers";

const emulator = useEmulator();

const MARKDOWN = [
  "# Disk alert",
  "",
  "The **db-1** disk is at _93%_; see [the runbook](https://runbooks.example.com/disk).",
  "",
  "- check `df -h`",
  "- rotate logs",
  "",
  "```sh",
  "sudo logrotate -f /etc/logrotate.conf",
  "```",
  "",
  "<script>alert(1)</script>",
].join("\n");

/** What the emulated provider received for the insight's one delivery. */
function sentBody(provider: string): Record<string, unknown> {
  const [request] = emulator().requestsTo(provider, "deliver");
  return JSON.parse(request!.body) as Record<string, unknown>;
}

type RichText = { text: { content: string; link?: { url: string } }; annotations?: Record<string, boolean> };
type Block = { type: string } & Record<string, { rich_text?: RichText[]; language?: string }>;

describe("Markdown insights", () => {
  it.each(PROVIDERS)("%s receives heading, emphasis, link, list and code in its own format", async (provider) => {
    const { browser } = await deliveringSetup(emulator(), provider);
    const insightId = await sendInsight(browser, "Disk alert", MARKDOWN);
    await settle();
    expect((await deliveriesOf(insightId))[0]).toMatchObject({ status: "succeeded" });
    const body = sentBody(provider);
    switch (provider) {
      case "github":
        expect(String(body.body).startsWith(MARKDOWN)).toBe(true);
        break;
      case "trello":
        expect(String(body.desc).startsWith(MARKDOWN)).toBe(true);
        break;
      case "linear":
        expect((body.variables as { input: { description: string } }).input.description).toBe(MARKDOWN);
        break;
      case "slack": {
        const text = String(body.text);
        expect(text).toContain("*Disk alert*");
        expect(text).toContain("The *db-1* disk is at _93%_; see <https://runbooks.example.com/disk|the runbook>.");
        expect(text).toContain("• check `df -h`\n• rotate logs");
        expect(text).toContain("```\nsudo logrotate -f /etc/logrotate.conf\n```");
        // Slack's control characters are escaped: the HTML is shown, never interpreted.
        expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        break;
      }
      case "notion": {
        const blocks = (body.children as Block[]).slice(0, -1);
        expect(blocks.map((block) => block.type)).toEqual([
          "heading_1",
          "paragraph",
          "bulleted_list_item",
          "bulleted_list_item",
          "code",
          "paragraph",
        ]);
        const paragraph = blocks[1]!.paragraph!.rich_text!;
        expect(paragraph.find((text) => text.text.content === "db-1")?.annotations).toEqual({ bold: true });
        expect(paragraph.find((text) => text.text.content === "93%")?.annotations).toEqual({ italic: true });
        expect(paragraph.find((text) => text.text.content === "the runbook")?.text.link).toEqual({
          url: "https://runbooks.example.com/disk",
        });
        expect(blocks[2]!.bulleted_list_item!.rich_text!.find((text) => text.text.content === "df -h")?.annotations).toEqual({
          code: true,
        });
        expect(blocks[4]!.code).toMatchObject({ language: "shell" });
        expect(blocks[4]!.code!.rich_text![0]!.text.content).toBe("sudo logrotate -f /etc/logrotate.conf");
        expect(blocks[5]!.paragraph!.rich_text![0]!.text.content).toBe("<script>alert(1)</script>");
        break;
      }
    }
  });

  it("renders safely on the insight page, with the same strict CSP as every page", async () => {
    const { browser } = await deliveringSetup(emulator(), "github");
    const insightId = await sendInsight(browser, "Disk alert", MARKDOWN);
    const response = await browser.get(`/insights/${insightId}`);
    const csp = response.headers.get("Content-Security-Policy");
    const html = await pageHtml(response);
    expect(html).toContain("<h2>Disk alert</h2>");
    expect(html).toContain("<strong>db-1</strong>");
    expect(html).toContain("<em>93%</em>");
    expect(html).toContain('<a href="https://runbooks.example.com/disk" rel="noreferrer nofollow">the runbook</a>');
    expect(html).toMatch(/<li>check <code>df -h<\/code><\/li>/);
    expect(html).toContain("<pre><code>sudo logrotate -f /etc/logrotate.conf</code></pre>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>alert(1)</script>");
    // Stacked on a phone, the deliveries' cells keep their column's name.
    expect(html).toContain('<td data-label="State">');
    const other = await browser.get("/integration-connections");
    await other.body?.cancel();
    const withoutNonce = (policy: string | null) => policy?.replace(/'nonce-[^']+'/g, "'nonce-…'");
    expect(withoutNonce(csp)).toBe(withoutNonce(other.headers.get("Content-Security-Policy")));
    expect(csp).toMatch(/script-src 'self' 'nonce-/);
    expect(csp).not.toContain("unsafe-inline");

    // Links other than http(s) and mailto are kept as text.
    const risky = await sendInsight(browser, "Risky", "[click](javascript:alert(1)) and ![x](data:image/png;base64,AAAA)");
    const riskyHtml = await pageHtml(await browser.get(`/insights/${risky}`));
    expect(riskyHtml).not.toContain("javascript:alert");
    expect(riskyHtml).not.toContain("data:image");
    expect(riskyHtml).toContain("<span>click</span>");
  });
});
