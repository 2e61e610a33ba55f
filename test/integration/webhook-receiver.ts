import { afterEach, beforeEach } from "vitest";

/**
 * A webhook endpoint for the tests: outbound requests to RECEIVER_ORIGIN are answered here (in
 * this isolate, like the emulator), everything else goes to whatever fetch was installed before
 * (the emulator). Each test scripts the answers and reads what arrived.
 */
export const RECEIVER_ORIGIN = "https://hooks.example.com";
export const RECEIVER_URL = `${RECEIVER_ORIGIN}/spokedo`;

export interface Received {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

export type Answer =
  | { kind: "respond"; status: number; body?: string; headers?: Record<string, string> }
  /** Never answers: the caller's timeout must end the request. */
  | { kind: "hang" }
  /** The connection drops before an answer. */
  | { kind: "drop" };

export class Receiver {
  received: Received[] = [];
  #script: Answer[] = [];
  /** The answer once the script is used up. */
  fallback: Answer = { kind: "respond", status: 204 };

  /** Answers the next requests in this order, then the fallback. */
  answer(...answers: Answer[]) {
    this.#script.push(...answers);
  }

  failWith(status: number, body = "") {
    this.fallback = { kind: "respond", status, body };
  }

  async handle(request: Request, signal: AbortSignal | null): Promise<Response> {
    this.received.push({
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    });
    const answer = this.#script.shift() ?? this.fallback;
    switch (answer.kind) {
      case "respond":
        return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers ?? {} });
      case "drop":
        throw new TypeError("Network connection lost.");
      case "hang":
        return new Promise<Response>((_, reject) => {
          if (signal?.aborted) reject(signal.reason as Error);
          signal?.addEventListener("abort", () => reject(signal.reason as Error));
        });
    }
  }
}

/** A fresh receiver for every test, in front of the fetch installed before it (install it after useEmulator()). */
export function useWebhookReceiver(): () => Receiver {
  let receiver: Receiver | undefined;
  let restore: (() => void) | undefined;
  beforeEach(() => {
    const current = new Receiver();
    receiver = current;
    const previous = globalThis.fetch;
    const intercepted = async (input: RequestInfo | URL, init?: RequestInit<RequestInitCfProperties>) => {
      // Read the URL without building a Request: that would use up the body the emulator needs.
      const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
      if (new URL(url).origin !== RECEIVER_ORIGIN) return previous(input, init);
      const request = new Request(input, init);
      const signal = init?.signal ?? (input instanceof Request ? input.signal : null);
      return current.handle(request, signal);
    };
    globalThis.fetch = intercepted;
    restore = () => {
      if (globalThis.fetch === intercepted) globalThis.fetch = previous;
    };
  });
  afterEach(() => {
    restore?.();
    receiver = undefined;
  });
  return () => {
    if (!receiver) throw new Error("the receiver only exists inside a test");
    return receiver;
  };
}
