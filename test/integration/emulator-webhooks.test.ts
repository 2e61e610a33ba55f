import { beforeEach, describe, expect, it } from "vitest";
import {
  buildGitHubWebhookRequest,
  buildLinearWebhookRequest,
  buildSlackEventRequest,
  createEmulator,
  githubAppAuthorizationRevoked,
  grantFor,
  installEmulatorFetch,
  linearOAuthAppRevoked,
  slackTokensRevokedEvent,
  slackUrlVerification,
  type Emulator,
} from "../emulator";

// Provider-pushed revocation: the emulator delivers the provider's own webhook, signed as the
// provider signs it, to the app. The signatures are checked here with an independent HMAC.

const EMU = "https://emu.test";
const APP = "https://spokedo.test";
const SECRET = "whsec-test-0123456789";
let emu: Emulator;
let received: Request[];
beforeEach(() => {
  emu = createEmulator({ origin: EMU, appOrigin: APP });
  received = [];
});

const capture = (request: Request) => {
  received.push(request.clone() as Request);
  return Promise.resolve(new Response("ok"));
};

async function hmac(hash: "SHA-256" | "SHA-1", secret: string, message: string) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  return Array.from(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message))), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

describe("Slack Events API", () => {
  it("revoking a workspace's tokens sends tokens_revoked, then app_uninstalled, each signed v0=HMAC(secret, v0:ts:body)", async () => {
    const { accessToken } = await grantFor(emu, "slack", { userScope: "channels:history" });
    emu.setWebhookTarget("slack", { url: `${APP}/webhooks/slack`, secret: SECRET, fetch: capture });
    const deliveries = await emu.revokeTokensOf("slack", "T0EMU0001");
    expect(deliveries.map((delivery) => [delivery.event, delivery.status])).toEqual([
      ["tokens_revoked", 200],
      ["app_uninstalled", 200],
    ]);
    const bodies: string[] = [];
    for (const request of received) {
      const body = await request.text();
      bodies.push(body);
      const timestamp = request.headers.get("X-Slack-Request-Timestamp")!;
      expect(Math.abs(Number(timestamp) - emu.now() / 1000)).toBeLessThan(60);
      expect(request.headers.get("X-Slack-Signature")).toBe(`v0=${await hmac("SHA-256", SECRET, `v0:${timestamp}:${body}`)}`);
      expect(request.headers.get("Content-Type")).toBe("application/json");
      expect(request.url).toBe(`${APP}/webhooks/slack`);
    }
    const [revoked, uninstalled] = bodies.map((body) => JSON.parse(body) as unknown);
    expect(revoked).toMatchObject({
      type: "event_callback",
      team_id: "T0EMU0001",
      api_app_id: "A0EMUAPP01",
      event: { type: "tokens_revoked", tokens: { oauth: ["U0USER0001"], bot: ["U0BOT0001"] } },
      event_id: expect.stringMatching(/^Ev/) as string,
      event_time: expect.any(Number) as number,
    });
    expect(uninstalled).toMatchObject({ type: "event_callback", event: { type: "app_uninstalled" } });
    const test = await emu.handle(
      new Request(`${EMU}/slack/api/auth.test`, { method: "POST", headers: { Authorization: `Bearer ${accessToken}` } }),
    );
    expect(await test.json()).toEqual({ ok: false, error: "token_revoked" });
    expect(emu.webhookDeliveries).toHaveLength(2);
  });

  it("builds url_verification, mis-signed and replayed requests for the receiver's own tests", async () => {
    const challenge = await buildSlackEventRequest(`${APP}/webhooks/slack`, SECRET, slackUrlVerification("abc123"));
    expect(await challenge.clone().json()).toMatchObject({ type: "url_verification", challenge: "abc123" });
    const event = slackTokensRevokedEvent({ teamId: "T0EMU0001", bot: ["U0BOT0001"] });
    const bad = await buildSlackEventRequest(`${APP}/webhooks/slack`, SECRET, event, { variant: "bad_signature" });
    const badBody = await bad.text();
    expect(bad.headers.get("X-Slack-Signature")).not.toBe(
      `v0=${await hmac("SHA-256", SECRET, `v0:${bad.headers.get("X-Slack-Request-Timestamp")}:${badBody}`)}`,
    );
    const stale = await buildSlackEventRequest(`${APP}/webhooks/slack`, SECRET, event, { variant: "stale", nowMs: 1_800_000_000_000 });
    const staleBody = await stale.text();
    expect(stale.headers.get("X-Slack-Request-Timestamp")).toBe(String(1_800_000_000 - 600));
    // Correctly signed: only the timestamp gives the replay away.
    expect(stale.headers.get("X-Slack-Signature")).toBe(`v0=${await hmac("SHA-256", SECRET, `v0:${1_800_000_000 - 600}:${staleBody}`)}`);
  });
});

describe("GitHub App webhook", () => {
  it("github_app_authorization revoked with sender, X-GitHub-Event/Delivery and X-Hub-Signature-256", async () => {
    await grantFor(emu, "github", { account: 1002 });
    emu.setWebhookTarget("github", { url: `${APP}/webhooks/github`, secret: SECRET, fetch: capture });
    const [delivery] = await emu.revokeTokensOf("github", 1002);
    expect(delivery).toMatchObject({ event: "github_app_authorization", status: 200 });
    const request = received[0]!;
    const body = await request.text();
    expect(request.headers.get("X-GitHub-Event")).toBe("github_app_authorization");
    expect(request.headers.get("X-GitHub-Delivery")).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.headers.get("User-Agent")).toMatch(/^GitHub-Hookshot\//);
    expect(request.headers.get("X-Hub-Signature-256")).toBe(`sha256=${await hmac("SHA-256", SECRET, body)}`);
    expect(request.headers.get("X-Hub-Signature")).toBe(`sha1=${await hmac("SHA-1", SECRET, body)}`);
    expect(JSON.parse(body)).toMatchObject({ action: "revoked", sender: { login: "hubot", id: 1002, type: "User" } });

    const forged = await buildGitHubWebhookRequest(
      `${APP}/webhooks/github`,
      SECRET,
      { event: "github_app_authorization", payload: githubAppAuthorizationRevoked({ login: "hubot", id: 1002 }) },
      { variant: "bad_signature" },
    );
    expect(forged.headers.get("X-Hub-Signature-256")).not.toBe(`sha256=${await hmac("SHA-256", SECRET, await forged.clone().text())}`);
  });
});

describe("Linear webhook", () => {
  it("OAuthApp revoked, Linear-Signature = hex HMAC-SHA256 of the raw body, webhookTimestamp for replay checks", async () => {
    await grantFor(emu, "linear");
    emu.setWebhookTarget("linear", { url: `${APP}/webhooks/linear`, secret: SECRET, fetch: capture });
    const [delivery] = await emu.revokeTokensOf("linear", "1e000000-0000-4000-8000-000000000001");
    expect(delivery).toMatchObject({ event: "OAuthApp", status: 200 });
    const request = received[0]!;
    const body = await request.text();
    expect(request.headers.get("Linear-Signature")).toBe(await hmac("SHA-256", SECRET, body));
    expect(request.headers.get("Linear-Event")).toBe("OAuthApp");
    expect(request.headers.get("Linear-Delivery")).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.headers.get("User-Agent")).toBe("Linear-Webhook");
    const payload = JSON.parse(body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: "OAuthApp",
      action: "revoked",
      oauthClientId: "emu-linear-client",
      organizationId: "0e000000-0000-4000-8000-000000000001",
    });
    expect(Math.abs((payload.webhookTimestamp as number) - emu.now())).toBeLessThan(60_000);

    const replay = await buildLinearWebhookRequest(
      `${APP}/webhooks/linear`,
      SECRET,
      linearOAuthAppRevoked({ organizationId: "o", oauthClientId: "c" }),
      { variant: "stale", nowMs: 1_800_000_000_000, staleBySeconds: 120 },
    );
    const replayBody = await replay.text();
    expect((JSON.parse(replayBody) as { webhookTimestamp: number }).webhookTimestamp).toBe(1_800_000_000_000 - 120_000);
    expect(replay.headers.get("Linear-Signature")).toBe(await hmac("SHA-256", SECRET, replayBody));
  });
});

describe("without a target, and over the admin API", () => {
  it("revokeTokensOf sends nothing without a target; the admin API sets targets and reports failed deliveries", async () => {
    await grantFor(emu, "slack");
    expect(await emu.revokeTokensOf("slack", "T0EMU0001")).toEqual([]);
    // Notion and Trello document no revocation webhook.
    emu.setWebhookTarget("notion", { url: `${APP}/webhooks/notion`, secret: SECRET, fetch: capture });
    await grantFor(emu, "notion");
    expect(await emu.revokeTokensOf("notion", "7c1e0000-0000-4000-8000-00000000a001")).toEqual([]);

    const uninstall = installEmulatorFetch(emu);
    try {
      const admin = (path: string, body: unknown) =>
        emu.handle(
          new Request(`${EMU}/__emulator/${path}`, {
            method: "POST",
            body: JSON.stringify(body),
            headers: { "Content-Type": "application/json" },
          }),
        );
      expect((await admin("webhook-target", { provider: "github", url: `${APP}/webhooks/github`, secret: SECRET })).status).toBe(200);
      await grantFor(emu, "github");
      const revoked = await (
        await admin("revoke", { provider: "github", accountId: 1001 })
      ).json<{
        webhooks: { status: number | null; error?: string }[];
      }>();
      // In-process without a fetch function the app is not reachable: the delivery records why.
      expect(revoked.webhooks).toMatchObject([{ status: null, error: expect.stringContaining("unexpected outbound fetch") as string }]);
      expect((await admin("webhook-target", { provider: "nope", url: "x", secret: "y" })).status).toBe(400);
    } finally {
      uninstall();
    }
  });
});
