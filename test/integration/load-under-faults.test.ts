import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { redeliverInsight } from "~/lib/delivery/redelivery.server";
import { getDatabase } from "~/lib/platform/db.server";
import type { DeliveryMessage } from "~/lib/platform/queues";
import worker from "~/worker";
import type { Emulator, Provider, RecordedRequest } from "../emulator";
import { PROVIDERS, connectionRow, storedTokens, useEmulator } from "./connections-support";
import { addDeliveringIntent, createApiKey } from "./deliveries-support";
import { signedUpUser } from "./helpers";
import { consoleErrorLines, expectConsoleErrors } from "./setup";

// A load test under faults, in workerd with real D1 and WebCrypto, the Worker's own fetch, queue
// and scheduled handlers, and the provider emulator with its real rate limits:
//
// - 200 insights posted to the API by 16 concurrent clients, each with an Idempotency-Key; one
//   in ten clients loses the answer and posts again. 5 intents, one per provider: 1,000 deliveries.
// - The queue is simulated faithfully (batches of 10 as wrangler.toml says, 4 consumers at a
//   time, retry({ delaySeconds }), max_retries then the dead-letter queue, a crashed invocation's
//   un-acknowledged messages back at once) on a simulated clock, so hours of retries take seconds.
//   Some sends to the queue fail (the sweep must find those deliveries); the cron runs every minute.
// - The providers inject 429s, 5xx, stalled bodies and connections dropped after they acted; some
//   consumer invocations die between a provider's answer and the write that records it.
// - Midway, every access token that can be refreshed is expired early at its provider.
//
// Then: nothing lost (every delivery delivered, after redelivering any that failed for good),
// nothing duplicated (exactly one item per delivery at its provider), nothing stuck (no pending
// delivery, no message left), every provider call in the integration log, one refresh per expiry.

const INSIGHTS = 200;
const CLIENTS = 16;
const BATCH_SIZE = 10; // wrangler.toml: max_batch_size
const MAX_RETRIES = 30; // wrangler.toml: max_retries
const CONSUMERS = 4;
const CRASH_RATE = 0.04; // per consumer invocation
const SEND_FAILURE_RATE = 0.03; // per sendBatch to the queue
const LOST_ANSWER_RATE = 0.1; // per API client request
const CHAOS = { seed: 20261206, rate429: 0.04, rate5xx: 0.04, rateSlowBody: 0.01, rateDrop: 0.02, slowBodyMs: 4000, retryAfterSeconds: 2 };
/** The provider timeout while the bodies stall (the shortest allowed), so stalls cost a second, not ten. */
const PROVIDER_TIMEOUT_SECONDS = "1";
const VIRTUAL_TIME_LIMIT_MS = 24 * 60 * 60_000;

const emulator = useEmulator();
afterEach(() => {
  vi.useRealTimers();
});

/** mulberry32: the test's own seeded stream (crashes, lost answers, failed sends). */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(7);

/** The simulated clock: Date (in the app and in the emulator) reads it; only the driver moves it. */
const clock = {
  now: 0,
  set(ms: number) {
    clock.now = ms;
    vi.setSystemTime(ms);
  },
};

interface QueuedMessage {
  id: string;
  body: DeliveryMessage;
  attempts: number;
  visibleAt: number;
}

/** Cloudflare Queues as the consumer sees it, on the simulated clock. */
class SimulatedQueue {
  waiting: QueuedMessage[] = [];
  deadLetters: QueuedMessage[] = [];
  sent = 0;
  failedSends = 0;

  readonly binding = {
    send: (body: DeliveryMessage, options?: QueueSendOptions) => this.sendBatch([{ body, ...options }]),
    sendBatch: (messages: Iterable<MessageSendRequest<DeliveryMessage>>) => this.sendBatch(messages),
  } as unknown as Queue<DeliveryMessage>;

  sendBatch(messages: Iterable<MessageSendRequest<DeliveryMessage>>) {
    if (random() < SEND_FAILURE_RATE) {
      this.failedSends += 1;
      return Promise.reject(new Error("Queue send failed: simulated outage"));
    }
    for (const message of messages) {
      this.sent += 1;
      this.push({ id: crypto.randomUUID(), body: message.body, attempts: 1, visibleAt: clock.now + (message.delaySeconds ?? 0) * 1000 });
    }
    return Promise.resolve();
  }

  push(message: QueuedMessage) {
    this.waiting.push(message);
  }

  takeVisible(limit: number, from: QueuedMessage[] = this.waiting) {
    const taken: QueuedMessage[] = [];
    for (let i = 0; i < from.length && taken.length < limit;) {
      if (from[i]!.visibleAt <= clock.now) taken.push(...from.splice(i, 1));
      else i += 1;
    }
    return taken;
  }

  nextVisibleAt() {
    return this.waiting.reduce((soonest, message) => Math.min(soonest, message.visibleAt), Number.POSITIVE_INFINITY);
  }
}

/** An attempt lost with its runtime: it died after the provider call, before the write recording it. */
interface Crash {
  deliveryId: string;
  sent: boolean;
}

/**
 * D1 for one consumer invocation that dies at its first write of an attempt's outcome: from then
 * on no outcome is recorded and nothing is claimed, as if the isolate were gone. Everything else
 * (reads, token writes) goes through untouched.
 */
function dyingD1(real: D1Database, crashes: Crash[]): D1Database {
  let dead = false;
  const bound = new WeakMap<object, { query: string; params: unknown[] }>();
  const session = (target: D1DatabaseSession): D1DatabaseSession => ({
    prepare(query: string) {
      const statement = target.prepare(query);
      return new Proxy(statement, {
        get(object, property) {
          if (property === "bind") {
            return (...params: unknown[]) => {
              const result = object.bind(...params);
              bound.set(result, { query, params });
              return result;
            };
          }
          const value = Reflect.get(object, property) as unknown;
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
        },
      });
    },
    batch<T>(statements: D1PreparedStatement[]) {
      const first = bound.get(statements[0]!);
      const recordsOutcome = first?.query.startsWith('insert into "delivery_attempts"') ?? false;
      const claims = first?.query.startsWith('update "deliveries"') ?? false;
      if (recordsOutcome) {
        // This write and every later one of the invocation are lost with the runtime.
        dead = true;
        const columns = /\(([^)]*)\) values/
          .exec(first!.query)![1]!
          .split(",")
          .map((column) => column.trim().replaceAll('"', ""));
        const value = (name: string) => first!.params[columns.indexOf(name)];
        crashes.push({ deliveryId: String(value("delivery_id")), sent: value("sent") === 1 });
      }
      if (dead && (recordsOutcome || claims)) return Promise.reject(new Error("the runtime was killed"));
      return target.batch<T>(statements);
    },
    getBookmark: () => target.getBookmark(),
  });
  return {
    prepare: (query: string) => real.prepare(query),
    batch: <T>(statements: D1PreparedStatement[]) => real.batch<T>(statements),
    exec: (query: string) => real.exec(query),
    dump: () => real.dump(),
    withSession: (constraint?: string) => session(real.withSession(constraint)),
  };
}

function tally<T extends string>(items: T[]) {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

/** The Bearer token a recorded request carried (GitHub, Slack, Notion, Linear). */
function bearer(request: RecordedRequest) {
  const header = request.headers.authorization ?? request.headers.Authorization ?? "";
  return header.replace(/^Bearer\s+/i, "");
}

/**
 * A request the provider refused for its token, so it did nothing: the token had expired early,
 * or a refresh elsewhere had just replaced it (GitHub revokes the old token; answered 401).
 */
function refusedForToken(emu: Emulator, request: RecordedRequest) {
  // An injected fault or a rate limit answers before the token is looked at: logged like any other answer.
  if (request.faults.length > 0 || request.status === 429) return false;
  if (request.status === 401) return true;
  const token = emu.tokens(request.provider).find((issued) => issued.accessToken === bearer(request));
  return token?.expiresAt !== undefined && token.expiresAt <= request.at;
}

describe("deliveries under load and faults", () => {
  it(
    `${INSIGHTS * PROVIDERS.length} deliveries through all five providers: none lost, none duplicated, none stuck, every call logged`,
    { timeout: 900_000 },
    async () => {
      const emu = emulator();
      const { browser, workspaceId } = await signedUpUser({ workspaceName: "Load Co" });
      const connections: Record<string, string> = {};
      for (const provider of PROVIDERS) connections[provider] = (await addDeliveringIntent(browser, emu, provider)).connectionId;
      const apiKey = await createApiKey(browser, "load");
      const refreshable: Provider[] = [];
      for (const provider of PROVIDERS) {
        if ((await storedTokens(await connectionRow(connections[provider]!))).refreshToken) refreshable.push(provider);
      }

      vi.useFakeTimers({ toFake: ["Date"] });
      clock.set(Date.now());
      const queue = new SimulatedQueue();
      const appEnv = { ...env, DELIVERY_DISPATCH: "queue", DELIVERY_QUEUE: queue.binding, PROVIDER_TIMEOUT_SECONDS } as Env;
      const db = getDatabase(env.DB);
      const crashes: Crash[] = [];
      const stats = { invocations: 0, crashedInvocations: 0, deadLettered: 0, crons: 0, apiRequests: 0, replayed: 0, redelivered: 0 };

      emu.setChaos(CHAOS);

      // --- The API clients ---
      const insightIds = new Set<string>();
      async function post(key: string, index: number) {
        const request = new Request("https://spokedo.test/api/v1/insights", {
          method: "POST",
          headers: { Host: "spokedo.test", "Content-Type": "application/json", Authorization: `Bearer ${apiKey}`, "Idempotency-Key": key },
          body: JSON.stringify({ title: `Load insight ${index}`, body: `Insight ${index} of ${INSIGHTS}: queue depth is rising.` }),
        });
        const ctx = createExecutionContext();
        const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, appEnv, ctx);
        await waitOnExecutionContext(ctx);
        stats.apiRequests += 1;
        expect(response.status).toBe(202);
        if (response.headers.get("Idempotent-Replayed") === "true") stats.replayed += 1;
        return (await response.json<{ id: string }>()).id;
      }
      let next = 0;
      const clients = Array.from({ length: CLIENTS }, async () => {
        while (next < INSIGHTS) {
          const index = next++;
          const key = `load-${index}-${crypto.randomUUID()}`;
          const id = await post(key, index);
          // The client lost the answer and posts the same request again.
          if (random() < LOST_ANSWER_RATE) expect(await post(key, index)).toBe(id);
          insightIds.add(id);
        }
      });
      let ingesting = true;
      const ingestion = Promise.all(clients).finally(() => (ingesting = false));

      // --- The queue's consumers, the cron and the clock ---
      async function invoke(messages: QueuedMessage[], queueName: string) {
        stats.invocations += 1;
        const crashing = queueName === "spokedo-deliveries" && random() < CRASH_RATE;
        const crashesBefore = crashes.length;
        const decisions = new Map<string, { ack: true } | { retry: number }>();
        const batch: MessageBatch<DeliveryMessage> = {
          queue: queueName,
          messages: messages.map((message) => ({
            id: message.id,
            timestamp: new Date(),
            attempts: message.attempts,
            body: message.body,
            ack: () => void decisions.set(message.id, { ack: true }),
            retry: (options?: QueueRetryOptions) => void decisions.set(message.id, { retry: options?.delaySeconds ?? 0 }),
          })),
          metadata: { metrics: { backlogCount: queue.waiting.length, backlogBytes: 0, oldestMessageTimestamp: new Date() } },
          ackAll: () => messages.forEach((message) => decisions.set(message.id, { ack: true })),
          retryAll: (options?: QueueRetryOptions) =>
            messages.forEach((message) => decisions.set(message.id, { retry: options?.delaySeconds ?? 0 })),
        };
        const invocationEnv = crashing ? { ...appEnv, DB: dyingD1(env.DB, crashes) } : appEnv;
        const ctx = createExecutionContext();
        await worker.queue(batch, invocationEnv, ctx);
        await waitOnExecutionContext(ctx);
        const died = crashes.length > crashesBefore;
        if (died) stats.crashedInvocations += 1;
        for (const message of messages) {
          const decision = died ? undefined : decisions.get(message.id);
          // A dead invocation's messages all come back (acknowledgements made after the crash never reached Queues).
          if (decision && "ack" in decision) continue;
          if (!decision && !died) continue; // neither acked nor retried by a consumer that returned: acknowledged
          const again = { ...message, attempts: message.attempts + 1, visibleAt: clock.now + (decision ? decision.retry * 1000 : 0) };
          if (queueName !== "spokedo-deliveries") throw new Error("the dead-letter consumer must acknowledge every message");
          if (message.attempts > MAX_RETRIES) {
            stats.deadLettered += 1;
            queue.deadLetters.push({ ...again, visibleAt: clock.now });
          } else queue.push(again);
        }
      }

      async function cron() {
        stats.crons += 1;
        const ctx = createExecutionContext();
        worker.scheduled({ scheduledTime: clock.now, cron: "* * * * *", noRetry: () => undefined }, appEnv, ctx);
        await waitOnExecutionContext(ctx);
      }

      async function pendingDeliveries() {
        const row = await db
          .selectFrom("deliveries")
          .select((eb) => eb.fn.countAll<number>().as("count"))
          .where("workspace_id", "=", workspaceId)
          .where("status", "=", "pending")
          .executeTakeFirstOrThrow();
        return Number(row.count);
      }

      let expiredMidway = false;
      async function run() {
        const started = clock.now;
        const inFlight = new Set<Promise<void>>();
        let nextCron = Math.ceil(clock.now / 60_000) * 60_000;
        for (;;) {
          while (inFlight.size < CONSUMERS) {
            const deadLetters = queue.takeVisible(BATCH_SIZE, queue.deadLetters);
            const messages = deadLetters.length ? deadLetters : queue.takeVisible(BATCH_SIZE);
            if (messages.length === 0) break;
            const invocation: Promise<void> = invoke(
              messages,
              deadLetters.length ? "spokedo-deliveries-dlq" : "spokedo-deliveries",
            ).finally(() => inFlight.delete(invocation));
            inFlight.add(invocation);
          }
          if (inFlight.size) {
            await Promise.race(inFlight);
            continue;
          }
          if (!expiredMidway && !ingesting) {
            const settled = await db
              .selectFrom("deliveries")
              .select((eb) => eb.fn.countAll<number>().as("count"))
              .where("workspace_id", "=", workspaceId)
              .where("status", "=", "succeeded")
              .executeTakeFirstOrThrow();
            if (Number(settled.count) >= (INSIGHTS * PROVIDERS.length) / 2) {
              expiredMidway = true;
              // Past every request made so far, so those still count as made with a live token.
              clock.set(clock.now + 2000);
              for (const provider of refreshable) emu.expireAccessTokens(provider);
            }
          }
          if (ingesting) {
            // The clients are still posting: let them, in real time, before time moves on.
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          if (queue.waiting.length === 0 && queue.deadLetters.length === 0 && (await pendingDeliveries()) === 0) return;
          const nextMessage = queue.nextVisibleAt();
          if (nextCron <= nextMessage) {
            clock.set(Math.max(clock.now, nextCron));
            await cron();
            nextCron += 60_000;
          } else clock.set(Math.max(clock.now, nextMessage));
          if (clock.now - started > VIRTUAL_TIME_LIMIT_MS) throw new Error("deliveries did not settle within a simulated day");
        }
      }

      const realStart = performance.now();
      const virtualStart = clock.now;
      await Promise.all([ingestion, run()]);
      const firstRun = { failed: 0 };

      // Deliveries that failed for good (a provider failing five times in a row, say) are
      // redelivered from their insight's page: the same delivery, looked up first.
      const failed = await db
        .selectFrom("deliveries")
        .select(["insight_id"])
        .distinct()
        .where("workspace_id", "=", workspaceId)
        .where("status", "=", "failed")
        .execute();
      firstRun.failed = failed.length;
      for (const { insight_id } of failed) stats.redelivered += await redeliverInsight(db, queue.binding, workspaceId, insight_id);
      await run();
      const realSeconds = (performance.now() - realStart) / 1000;
      vi.useRealTimers();
      // A consumer whose runtime died says so in its logs, and so does a cron whose sweep met the
      // queue's simulated outage (those deliveries wait for the next sweep): the only errors expected.
      const sweepMetOutage = (line: string) =>
        /^maintenance: /.test(line) &&
        line
          .slice("maintenance: ".length)
          .split("; ")
          .every((failure) => failure === "overdue deliveries: Queue send failed: simulated outage");
      expectConsoleErrors(consoleErrorLines().filter((line) => line.includes("the runtime was killed") || sweepMetOutage(line)).length);
      const chaos = tally(emu.chaosLog().map((drawn) => drawn.fault));
      emu.setChaos(null);

      // --- What happened ---
      const deliveries = await db.selectFrom("deliveries").selectAll().where("workspace_id", "=", workspaceId).execute();
      const attempts = await db
        .selectFrom("delivery_attempts as a")
        .innerJoin("deliveries as d", "d.id", "a.delivery_id")
        .select(["a.delivery_id", "a.outcome", "a.sent", "a.error_class", "a.message"])
        .where("d.workspace_id", "=", workspaceId)
        .execute();
      const insights = await db
        .selectFrom("insights")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("workspace_id", "=", workspaceId)
        .executeTakeFirstOrThrow();

      const delivers = emu.requests.filter((request) => request.endpoint === "deliver");
      const lookups = emu.requests.filter((request) => request.endpoint === "lookup");
      const refreshes = Object.fromEntries(PROVIDERS.map((provider) => [provider, emu.requestsTo(provider, "refresh").length]));
      const itemsFor = new Map<string, number>();
      const callsFor = new Map<string, number>();
      for (const delivery of deliveries) {
        itemsFor.set(delivery.idempotency_key, 0);
        callsFor.set(delivery.idempotency_key, 0);
      }
      const keyIn = (text: string) => deliveries.find((delivery) => text.includes(delivery.idempotency_key))?.idempotency_key;
      for (const item of emu.created) {
        const key = keyIn(JSON.stringify(item.payload));
        if (key) itemsFor.set(key, itemsFor.get(key)! + 1);
      }
      let refusedExpired = 0;
      for (const request of delivers) {
        if (refusedForToken(emu, request)) {
          refusedExpired += 1;
          continue;
        }
        const key = keyIn(request.body);
        if (key) callsFor.set(key, callsFor.get(key)! + 1);
      }
      const sentAttempts = tally(attempts.filter((attempt) => attempt.sent === 1).map((attempt) => attempt.delivery_id));
      const crashedSends = tally(crashes.filter((crash) => crash.sent).map((crash) => crash.deliveryId));

      const lost = deliveries.filter((delivery) => delivery.status !== "succeeded" || !delivery.item_url).length;
      const duplicated = [...itemsFor.values()].filter((count) => count > 1).length;
      const missingAtProvider = [...itemsFor.values()].filter((count) => count === 0).length;
      const stuck = deliveries.filter((delivery) => delivery.status === "pending" || delivery.lease_owner !== null).length;
      const unloggedDeliveries = deliveries.filter(
        (delivery) => callsFor.get(delivery.idempotency_key)! !== (sentAttempts[delivery.id] ?? 0) + (crashedSends[delivery.id] ?? 0),
      );
      const unlogged = unloggedDeliveries.length;
      // What to look at when the log and the provider disagree.
      const disagreements = unloggedDeliveries.slice(0, 3).map((delivery) => ({
        provider: delivery.provider,
        calls: delivers
          .filter((request) => request.body.includes(delivery.idempotency_key))
          .map(
            (request) => `${request.status} ${request.faults.join("+")}${refusedForToken(emu, request) ? " (refused for its token)" : ""}`,
          ),
        attempts: attempts
          .filter((attempt) => attempt.delivery_id === delivery.id)
          .map((attempt) => `${attempt.outcome} sent=${attempt.sent} ${attempt.error_class ?? ""} ${attempt.message ?? ""}`),
        crashes: crashes.filter((crash) => crash.deliveryId === delivery.id),
      }));
      const budget429 = emu.requests.filter((request) => request.status === 429 && !request.chaos && request.faults.length === 0).length;

      const report = {
        insights: `${Number(insights.count)} created from ${stats.apiRequests} API requests (${stats.replayed} replayed by Idempotency-Key)`,
        deliveries: deliveries.length,
        attempts: `${attempts.length} (${tally(attempts.map((attempt) => attempt.error_class ?? "ok")).ok} ok; ${JSON.stringify(tally(attempts.filter((a) => a.error_class).map((a) => a.error_class!)))})`,
        "provider calls": `${delivers.length} creates (${refusedExpired} refused for an expired or replaced token), ${lookups.length} look-ups`,
        "faults injected": `${JSON.stringify(chaos)}; ${budget429} real rate-limit refusals`,
        crashes: `${stats.crashedInvocations} of ${stats.invocations} consumer invocations died, losing the record of ${crashes.length} attempts (${crashes.filter((crash) => crash.sent).length} had sent a create)`,
        "found at the provider, not resent": attempts.filter((attempt) => attempt.message?.startsWith("Found at the provider")).length,
        "paced before the provider refused (not sent)": attempts.filter((attempt) => attempt.message?.startsWith("Paced:")).length,
        queue: `${queue.sent} messages sent, ${queue.failedSends} sends failed (swept), ${stats.deadLettered} dead-lettered, ${stats.crons} cron runs`,
        refreshes: `${JSON.stringify(refreshes)} for 1 early expiry each of ${refreshable.join(", ")}`,
        "failed for good, then redelivered": `${firstRun.failed} insights, ${stats.redelivered} deliveries`,
        time: `${Math.round((clock.now - virtualStart) / 60_000)} simulated minutes in ${realSeconds.toFixed(0)} s`,
        result: `lost ${lost}, duplicated ${duplicated}, missing at provider ${missingAtProvider}, stuck ${stuck}, provider calls without a log row ${unlogged}`,
      };
      console.log(
        `\nDeliveries under load and faults\n${Object.entries(report)
          .map(([what, value]) => `  ${what}: ${value}`)
          .join("\n")}\n`,
      );

      expect(Number(insights.count)).toBe(INSIGHTS);
      expect(insightIds.size).toBe(INSIGHTS);
      expect(deliveries).toHaveLength(INSIGHTS * PROVIDERS.length);
      expect({ lost, duplicated, missingAtProvider, stuck, unlogged }, JSON.stringify(disagreements, null, 1)).toEqual({
        lost: 0,
        duplicated: 0,
        missingAtProvider: 0,
        stuck: 0,
        unlogged: 0,
      });
      expect(emu.created).toHaveLength(INSIGHTS * PROVIDERS.length);
      expect(queue.waiting).toHaveLength(0);
      // The faults really happened.
      expect(Object.keys(chaos).sort()).toEqual(["drop_after_commit", "http", "rate_limited", "slow_body"].sort());
      expect(crashes.filter((crash) => crash.sent).length).toBeGreaterThan(0);
      expect(queue.failedSends).toBeGreaterThan(0);
      expect(refusedExpired).toBeGreaterThan(0);
      // One refresh per early expiry, however many deliveries met the expired token at once.
      expect(refreshable.length).toBeGreaterThan(0);
      for (const provider of PROVIDERS) expect(refreshes[provider]).toBe(refreshable.includes(provider) ? 1 : 0);
    },
  );
});
