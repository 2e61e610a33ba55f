import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { executeOnLocalD1, expect, signUp, test, uniqueEmail } from "./fixtures";

const PORT = Number(process.env.E2E_PORT ?? 8790);
const EMULATOR = `http://localhost:${PORT + 1}`;

/** A webhook endpoint of the user's: keeps every request it receives. */
async function receiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/hooks/spokedo`, received, close: () => server.close() };
}

/** Brings a connection's scheduled health check round (written to the browser tests' local D1). */
async function makeCheckDue(connectionName: string) {
  const sql = `UPDATE connections SET health_due_at = 0 WHERE name = '${connectionName}' RETURNING id`;
  expect(await executeOnLocalD1(sql), sql).toHaveLength(1);
}

test("a Notion token revoked at the provider, no delivery pending: one scheduled run revokes it and a signed webhook tells the workspace", async ({
  page,
  request,
}) => {
  // Run with JavaScript off only (playwright.config.ts): it revokes an emulator account.
  test.slow();
  const endpoint = await receiver();
  try {
    await signUp(page, uniqueEmail("health"), "Health Inc");

    // The workspace's webhook endpoint; its secret is shown once.
    await page.goto("/settings/workspace/webhooks/new");
    await page.getByLabel("URL").fill(endpoint.url);
    await page.getByRole("button", { name: "Create endpoint" }).click();
    const secret = (await page.locator("text=/whsec_[A-Za-z0-9+/=]+/").first().textContent())!.match(/whsec_[A-Za-z0-9+/=]+/)![0];

    // A Notion connection to a workspace no other browser test uses.
    await page.goto("/integration-connections/new");
    await page.getByRole("radio", { name: /^Notion\b/ }).check();
    await page.getByLabel("Connection name").fill("notion-wiki-health");
    await page.getByRole("button", { name: "Authorize" }).click();
    await page.getByRole("radio", { name: /^Emu Labs Wiki\b/ }).check();
    await page.getByRole("button", { name: "Approve" }).click();
    await expect(page.getByRole("heading", { name: "notion-wiki-health", level: 1 })).toBeVisible();
    const connectionUrl = page.url();

    // The user removes SpokeDo in Notion. Notion sends no webhook for it.
    const tokens = (await (await request.get(`${EMULATOR}/__emulator/tokens`)).json()) as { provider: string; accountId: string }[];
    const notion = tokens.filter((token) => token.provider === "notion").at(-1)!;
    expect((await request.post(`${EMULATOR}/__emulator/revoke`, { data: { provider: "notion", accountId: notion.accountId } })).ok()).toBe(
      true,
    );

    // Its scheduled check comes round (the local D1 of the browser tests), and the Cron Trigger fires once.
    await makeCheckDue("notion-wiki-health");
    expect((await request.get(`http://localhost:${PORT}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`)).ok()).toBe(true);

    await expect(async () => {
      await page.goto(connectionUrl);
      await expect(page.locator(".status-card")).toContainText("Revoked", { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.locator(".status-card")).toContainText("Notion");

    await expect.poll(() => endpoint.received.length, { timeout: 30_000, message: "the endpoint receives the event" }).toBeGreaterThan(0);
    const payloads = endpoint.received.map(
      (received) =>
        new Webhook(secret).verify(received.body, received.headers as Record<string, string>) as { type: string; data: { to?: string } },
    );
    expect(payloads.find((payload) => payload.type === "connection.status_changed")?.data.to).toBe("revoked");
  } finally {
    endpoint.close();
  }
});
