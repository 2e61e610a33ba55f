import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "~/worker";

/**
 * Hands messages to the Worker's queue handler as Cloudflare Queues does, and records what it
 * asked for: which messages it acknowledged, and which it asked to see again and when. (The
 * plugin's getQueueResult drops retry delays, which the tests are about.)
 */
export async function consumeBatch<T>(queue: string, bodies: T[], attempts = 1) {
  const acks: string[] = [];
  const retries: { msgId: string; delaySeconds?: number }[] = [];
  const messages = bodies.map((body, index): Message<T> => ({
    id: `msg-${index}`,
    timestamp: new Date(),
    attempts,
    body,
    ack: () => void acks.push(`msg-${index}`),
    retry: (options?: QueueRetryOptions) =>
      void retries.push({ msgId: `msg-${index}`, ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}) }),
  }));
  const batch: MessageBatch<T> = {
    queue,
    messages,
    metadata: { metrics: { backlogCount: messages.length, backlogBytes: 0, oldestMessageTimestamp: new Date() } },
    ackAll: () => messages.forEach((message) => message.ack()),
    retryAll: (options?: QueueRetryOptions) => messages.forEach((message) => message.retry(options)),
  };
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await waitOnExecutionContext(ctx);
  return { acks, retries };
}
