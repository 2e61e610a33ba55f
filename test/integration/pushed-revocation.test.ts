import { applyD1Migrations, createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { webhookReceiver } from "~/lib/connections/pushed-revocation.server";
import { accountStatusChangeQueries, statusAfterPushedRevocation } from "~/lib/connections/status.server";
import { getSettings } from "~/lib/platform/settings.server";
import { listProviders } from "~/lib/providers/registry";
import worker from "~/worker";
import {
  buildGitHubWebhookRequest,
  buildLinearWebhookRequest,
  buildSlackEventRequest,
  githubAppAuthorizationRevoked,
  githubSignature256,
  linearOAuthAppRevoked,
  linearSignature,
  slackAppUninstalledEvent,
  slackSignature,
  slackTokensRevokedEvent,
  slackUrlVerification,
  type WebhookBuildOptions,
} from "../emulator";
import { connect, connectionRow, useEmulator } from "./connections-support";
import { database, ORIGIN, pageHtml, signedUpUser, type Browser } from "./helpers";

// Provider-pushed revocation: the emulator sends each provider's own webhook, signed as the
// provider signs it, to the Worker; requests built with the emulator's helpers show what is refused.

const emulator = useEmulator();

type Pushing = "slack" | "github" | "linear";

const SECRET: Record<Pushing, string> = {
  slack: env.SLACK_SIGNING_SECRET,
  github: env.GITHUB_WEBHOOK_SECRET,
  linear: env.LINEAR_WEBHOOK_SECRET,
};

const webhookUrl = (provider: string) => `${ORIGIN}/webhooks/${provider}`;
const app = (request: Request) => exports.default.fetch(request);

/** GitHub signs no timestamp: its replay is the same X-GitHub-Delivery again. */
type RevocationOptions = WebhookBuildOptions & { deliveryId?: string };

const LINEAR_ORG = "0e000000-0000-4000-8000-000000000001";

const CASES = {
  slack: {
    account: "T0EMU0001",
    otherAccount: "T0EMU0002",
    events: ["tokens_revoked", "app_uninstalled"],
    reason: "Access was revoked in Slack (tokens_revoked). Re-authorize to restore access.",
    revocation: (options?: RevocationOptions) =>
      buildSlackEventRequest(
        webhookUrl("slack"),
        SECRET.slack,
        slackTokensRevokedEvent({ teamId: "T0EMU0001", bot: ["U0BOT0001"] }),
        options,
      ),
    signatureHeader: "X-Slack-Signature",
  },
  github: {
    account: 1001,
    otherAccount: 1002,
    events: ["github_app_authorization"],
    reason: "Access was revoked in GitHub (github_app_authorization). Re-authorize to restore access.",
    revocation: (options?: RevocationOptions) =>
      buildGitHubWebhookRequest(
        webhookUrl("github"),
        SECRET.github,
        {
          event: "github_app_authorization",
          payload: githubAppAuthorizationRevoked({ login: "octocat", id: 1001 }),
          deliveryId: options?.deliveryId,
        },
        options,
      ),
    signatureHeader: "X-Hub-Signature-256",
  },
  linear: {
    account: "1e000000-0000-4000-8000-000000000001",
    otherAccount: "1e000000-0000-4000-8000-000000000002",
    events: ["OAuthApp"],
    reason: "Access was revoked in Linear (OAuthApp revoked). Re-authorize to restore access.",
    revocation: (options?: RevocationOptions) =>
      buildLinearWebhookRequest(
        webhookUrl("linear"),
        SECRET.linear,
        linearOAuthAppRevoked({ organizationId: LINEAR_ORG, oauthClientId: "emu-linear-client" }),
        options,
      ),
    signatureHeader: "Linear-Signature",
  },
} as const;

/** Connects `account` as `name` through the real flow; fails the test if it did not work. */
async function connected(browser: Browser, provider: Pushing, name: string, account: string | number) {
  const { id } = await connect(browser, emulator(), provider, name, { account });
  expect(id, `connecting ${provider} ${account}`).toBeDefined();
  return id!;
}

async function statusOf(id: string) {
  const row = await connectionRow(id);
  return { status: row.status, reason: row.status_reason, lastError: row.last_error };
}

async function receiptCount() {
  const row = await database()
    .selectFrom("provider_webhook_receipts")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function errorOf(response: Response) {
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  return (await response.json<{ error: { code: string; message: string } }>()).error;
}

function withoutHeader(request: Request, name: string) {
  const headers = new Headers(request.headers);
  headers.delete(name);
  return new Request(request, { headers });
}

const ACTIVE = { status: "active", reason: null, lastError: null };

for (const provider of ["slack", "github", "linear"] as const) {
  const setup = CASES[provider];

  describe(`${provider} revocation webhook`, { timeout: 180_000 }, () => {
    it("the emulator's webhook revokes the account's connection in every workspace that holds it, and no other account's", async () => {
      const first = await signedUpUser();
      const second = await signedUpUser();
      const inFirst = await connected(first.browser, provider, `${provider}-main`, setup.account);
      const inSecond = await connected(second.browser, provider, `${provider}-main`, setup.account);
      const otherAccount = await connected(first.browser, provider, `${provider}-other`, setup.otherAccount);

      emulator().setWebhookTarget(provider, { url: webhookUrl(provider), secret: SECRET[provider], fetch: app });
      const deliveries = await emulator().revokeTokensOf(provider, setup.account);

      expect(deliveries.map((delivery) => [delivery.event, delivery.status])).toEqual(setup.events.map((event) => [event, 200]));
      expect(JSON.parse(deliveries[0]!.responseBody!)).toEqual({ ok: true, revoked: 2 });
      const revoked = { status: "revoked", reason: setup.reason, lastError: setup.reason };
      expect(await statusOf(inFirst)).toEqual(revoked);
      expect(await statusOf(inSecond)).toEqual(revoked);
      expect(await statusOf(otherAccount)).toEqual(ACTIVE);

      // The connection page says why, like any other status change.
      const page = await pageHtml(await first.browser.get(`/integration-connections/${inFirst}`));
      expect(page).toContain(setup.reason);
    });

    it("a mis-signed, a stale and an unsigned request answer 401 and change nothing", async () => {
      const { browser } = await signedUpUser();
      const id = await connected(browser, provider, `${provider}-main`, setup.account);

      const misSigned = await app(await setup.revocation({ variant: "bad_signature" }));
      expect(misSigned.status).toBe(401);
      expect((await errorOf(misSigned)).code).toBe("invalid_signature");

      const unsigned = await app(withoutHeader(await setup.revocation(), setup.signatureHeader));
      expect(unsigned.status).toBe(401);
      expect((await errorOf(unsigned)).code).toBe("missing_signature");

      if (provider !== "github") {
        const stale = await app(await setup.revocation({ variant: "stale" }));
        expect(stale.status).toBe(401);
        expect((await errorOf(stale)).code).toBe("stale_request");
      }

      expect(await statusOf(id)).toEqual(ACTIVE);
      expect(await receiptCount()).toBe(0);
    });

    it("a replayed delivery answers 401 and changes nothing, even after the connection was restored", async () => {
      const { browser } = await signedUpUser();
      const id = await connected(browser, provider, `${provider}-main`, setup.account);
      const original = await setup.revocation({ deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958" });
      const replay = original.clone() as Request;

      const first = await app(original);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ ok: true, revoked: 1 });
      await database()
        .updateTable("connections")
        .set({ status: "active", status_reason: null, last_error: null })
        .where("id", "=", id)
        .execute();

      const again = await app(replay);
      expect(again.status).toBe(401);
      expect((await errorOf(again)).code).toBe("replayed");
      expect((await connectionRow(id)).status).toBe("active");
      expect(await receiptCount()).toBe(1);
    });

    it("a signed body that is not JSON answers 400, an unsigned one 401, never 500", async () => {
      const body = '{"type": "event_callback", ';
      const now = Date.now();
      const timestamp = String(Math.floor(now / 1000));
      const signed: Record<Pushing, Record<string, string>> = {
        slack: { "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": await slackSignature(SECRET.slack, timestamp, body) },
        github: {
          "X-Hub-Signature-256": await githubSignature256(SECRET.github, body),
          "X-GitHub-Delivery": crypto.randomUUID(),
          "X-GitHub-Event": "github_app_authorization",
        },
        linear: { "Linear-Signature": await linearSignature(SECRET.linear, body) },
      };
      const post = (headers: Record<string, string>) =>
        app(new Request(webhookUrl(provider), { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } }));

      const malformed = await post(signed[provider]);
      expect(malformed.status).toBe(400);
      expect((await errorOf(malformed)).code).toBe("invalid_json");
      expect((await post({})).status).toBe(401);
      // Signature headers that are not even hex.
      const garbage = { ...signed[provider], [setup.signatureHeader]: "v0=zz-sha256=not hex" };
      expect((await post(garbage)).status).toBe(401);
      expect(await receiptCount()).toBe(0);
    });
  });
}

describe("provider webhooks", { timeout: 180_000 }, () => {
  it("the providers that push revocations are GitHub, Slack and Linear, each naming the setting of its secret", () => {
    const pushing = listProviders().filter((provider) => provider.revocationWebhook);
    expect(pushing.map((provider) => [provider.id, provider.env.webhookSecret])).toEqual([
      ["github", "GITHUB_WEBHOOK_SECRET"],
      ["slack", "SLACK_SIGNING_SECRET"],
      ["linear", "LINEAR_WEBHOOK_SECRET"],
    ]);
  });

  it("Slack: the url_verification challenge is answered only when signed", async () => {
    const challenge = slackUrlVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    const answered = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, challenge));
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ challenge: challenge.challenge });

    const forged = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, challenge, { variant: "bad_signature" }));
    expect(forged.status).toBe(401);
    const stale = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, challenge, { variant: "stale" }));
    expect(stale.status).toBe(401);
  });

  it("Slack: app_uninstalled revokes every connection to the team; tokens_revoked only the users it names", async () => {
    const { browser } = await signedUpUser();
    const emu = await connected(browser, "slack", "slack-emu", "T0EMU0001");
    const labs = await connected(browser, "slack", "slack-labs", "T0EMU0002");

    // A user token SpokeDo never held (the installing user's, not the bot's): nothing to revoke.
    const userOnly = slackTokensRevokedEvent({ teamId: "T0EMU0001", oauth: ["U0USER0001"] });
    const ignored = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, userOnly));
    expect(await ignored.json()).toEqual({ ok: true, revoked: 0 });
    expect((await connectionRow(emu)).status).toBe("active");

    const uninstalled = await app(
      await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, slackAppUninstalledEvent({ teamId: "T0EMU0001" })),
    );
    expect(await uninstalled.json()).toEqual({ ok: true, revoked: 1 });
    expect(await statusOf(emu)).toEqual({
      status: "revoked",
      reason: "Access was revoked in Slack (app_uninstalled). Re-authorize to restore access.",
      lastError: "Access was revoked in Slack (app_uninstalled). Re-authorize to restore access.",
    });
    expect((await connectionRow(labs)).status).toBe("active");
  });

  it("a revocation older than the connection's authorization (a late retry) leaves the re-authorized connection alone", async () => {
    const { browser } = await signedUpUser();
    const id = await connected(browser, "slack", "slack-main", "T0EMU0001");
    const authorizedAt = (await connectionRow(id)).authorized_at;
    // Slack retries an event with a fresh signature and its original event_time.
    const event = slackTokensRevokedEvent({
      teamId: "T0EMU0001",
      bot: ["U0BOT0001"],
      eventTimeSeconds: Math.floor(authorizedAt / 1000) - 60,
    });
    const response = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, event, { retryNum: 1 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, revoked: 0 });
    expect((await connectionRow(id)).status).toBe("active");
  });

  it("events other than revocations are acknowledged with 200 and ignored", async () => {
    const message = { ...slackAppUninstalledEvent({ teamId: "T0EMU0001" }), event: { type: "member_joined_channel" } };
    const slack = await app(await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, message));
    expect([slack.status, await slack.json()]).toEqual([200, { ok: true, ignored: "member_joined_channel" }]);

    const ping = { zen: "Keep it logically awesome.", hook_id: 1 };
    const github = await app(await buildGitHubWebhookRequest(webhookUrl("github"), SECRET.github, { event: "ping", payload: ping }));
    expect([github.status, await github.json()]).toEqual([200, { ok: true, ignored: "ping" }]);

    const issue = { type: "Issue", action: "create", data: { id: "x" }, organizationId: LINEAR_ORG };
    const linear = await app(await buildLinearWebhookRequest(webhookUrl("linear"), SECRET.linear, issue));
    expect([linear.status, await linear.json()]).toEqual([200, { ok: true, ignored: "Issue create" }]);
    expect(await receiptCount()).toBe(0);
  });

  it("only POST /webhooks/<provider that pushes revocations> skips the cross-site guard", async () => {
    const bare = (path: string, headers: Record<string, string> = {}) =>
      app(new Request(`${ORIGIN}${path}`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json", ...headers } }));
    expect((await bare("/webhooks/slack")).status).toBe(401);
    for (const path of [
      "/webhooks/notion",
      "/webhooks/trello",
      "/webhooks/nope",
      "/webhooks/slack/more",
      "/webhooks/slack/",
      "/webhooks",
    ]) {
      expect((await bare(path)).status, path).toBe(403);
    }
    // Past the guard (a same-origin request), a provider without a revocation webhook is not found.
    const notion = await bare("/webhooks/notion", { "Sec-Fetch-Site": "same-origin" });
    expect(notion.status).toBe(404);
    expect((await errorOf(notion)).code).toBe("not_found");
    const get = await app(new Request(webhookUrl("slack")));
    expect(get.status).toBe(405);
  });

  it("a provider whose webhook secret is not set answers 503, without echoing any secret", async () => {
    const withoutSecret = { ...env, SLACK_SIGNING_SECRET: "" };
    expect(webhookReceiver(getSettings(withoutSecret), "slack").kind).toBe("unconfigured");
    const request = await buildSlackEventRequest(webhookUrl("slack"), SECRET.slack, slackAppUninstalledEvent({ teamId: "T0EMU0001" }));
    const ctx = createExecutionContext();
    const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], withoutSecret, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    const error = await errorOf(response);
    expect(error.code).toBe("webhook_not_configured");
    expect(JSON.stringify(error)).not.toContain(SECRET.slack);
  });

  it("a body over 256 KiB answers 413", async () => {
    const body = JSON.stringify({ type: "event_callback", padding: "x".repeat(300 * 1024) });
    const response = await app(
      new Request(webhookUrl("linear"), { method: "POST", body, headers: { "Content-Type": "application/json" } }),
    );
    expect(response.status).toBe(413);
  });

  it("the cron prunes receipts a replay could no longer get past the freshness check", async () => {
    const now = Date.now();
    await database()
      .insertInto("provider_webhook_receipts")
      .values([
        { provider: "slack", replay_key: "a".repeat(64), received_at: now - 600_000, keep_until: now - 300_000 },
        { provider: "github", replay_key: "b".repeat(64), received_at: now, keep_until: now + 86_400_000 },
      ])
      .execute();
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await database().selectFrom("provider_webhook_receipts").select("provider").execute();
    expect(left).toEqual([{ provider: "github" }]);
  });

  it("connections are found by provider and account through an index", async () => {
    const change = statusAfterPushedRevocation("Slack", "tokens_revoked");
    const byAccount = accountStatusChangeQueries(database(), "slack", { accountIds: ["T1:U1", "T1:U2"] }, change, {
      occurredAt: Date.now(),
    });
    const byOrganization = accountStatusChangeQueries(database(), "slack", { organizationId: "T1" }, change, { occurredAt: Date.now() });
    const plans: string[] = [];
    for (const query of [...byAccount, ...byOrganization]) {
      const { sql, parameters } = query.compile();
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...parameters)
        .all<{ detail: string }>();
      plans.push(plan.results.map((row) => row.detail).join("; "));
    }
    expect(plans[0]).toContain("connections_by_provider_account");
    expect(plans[1]).toContain("connections_by_provider_organization");
    // D1 binds at most 100 parameters: long lists of user ids are split.
    const many = Array.from({ length: 120 }, (_, i) => `T1:U${i}`);
    expect(accountStatusChangeQueries(database(), "slack", { accountIds: many }, change, { occurredAt: Date.now() })).toHaveLength(3);
  });

  it("migration 0008 fills the organization of Slack and Linear connections written before it", async () => {
    const db = env.MIGRATION_DB;
    await applyD1Migrations(db, env.TEST_MIGRATIONS.slice(0, 6));
    const insert = (id: string, provider: string, identity: Record<string, string>) =>
      db
        .prepare(
          `INSERT INTO connections (id, workspace_id, provider, name, status, status_changed_at, account_id, account_label,
             identity_json, access_token_ct, token_key_id, authorized_at, created_at, updated_at)
           VALUES (?, 'w1', ?, ?, 'active', 1, ?, 'x', ?, 'v1.k.iv.ct', 'k', 1, 1, 1)`,
        )
        .bind(id, provider, `${provider}-${id}`, `${id}-account`, JSON.stringify(identity));
    await db.batch([
      db.prepare("INSERT INTO users VALUES ('u1', 'ada@example.com', 'pbkdf2-sha256$1$AA$AA', 1)"),
      db.prepare("INSERT INTO workspaces VALUES ('w1', 'Acme', 1)"),
      insert("c1", "slack", { team: "Emu Corp", team_id: "T0EMU0001", bot_user_id: "U0BOT0001" }),
      insert("c2", "linear", { user: "Linus", organization_id: LINEAR_ORG }),
      insert("c3", "github", { login: "octocat", id: "1001" }),
    ]);
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const rows = await db.prepare("SELECT id, account_organization_id FROM connections ORDER BY id").all();
    expect(rows.results).toEqual([
      { id: "c1", account_organization_id: "T0EMU0001" },
      { id: "c2", account_organization_id: LINEAR_ORG },
      { id: "c3", account_organization_id: null },
    ]);
  });
});
