// Per-token request budgets, driven by the emulator's clock (advanceTime moves them too).
// Three shapes, each the one its provider documents: a fixed window that resets at a known
// instant (GitHub, Trello), a leaky bucket refilled at LIMIT/PERIOD (Linear), and a token
// bucket with a sustained rate and a burst allowance (Slack tiers, Slack posting, Notion).

export interface WindowBudget {
  limit: number;
  windowMs: number;
}

export interface TokenBucketBudget {
  /** Requests per second, sustained. */
  perSecond: number;
  /** How many requests may arrive at once before the sustained rate applies. */
  burst: number;
}

export interface RateLimitSettings {
  /** Off: no request is ever refused for its budget (headers still count down). */
  enabled: boolean;
  /** docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: 5,000/h core, 30/min search. */
  github: { core: WindowBudget; search: WindowBudget };
  /** linear.app/developers/rate-limiting: OAuth apps 1,200 requests and 200,000 complexity points per hour per user. */
  linear: { requests: WindowBudget; complexity: WindowBudget; maxComplexity: number };
  /** docs.slack.dev/apis/web-api/rate-limits: per method, per workspace, per app; tiers are per minute. */
  slack: {
    tiers: Record<1 | 2 | 3 | 4, TokenBucketBudget>;
    /** chat.postMessage: about one message per second per channel, short bursts allowed. */
    postMessagePerChannel: TokenBucketBudget;
  };
  /** developers.notion.com/reference/request-limits: an average of three requests per second per connection. */
  notion: TokenBucketBudget;
  /** developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits: 100/10 s per token, 300/10 s per key, /1/members/ 100/900 s. */
  trello: { token: WindowBudget; key: WindowBudget; members: WindowBudget };
}

const perMinute = (count: number, burst = count): TokenBucketBudget => ({ perSecond: count / 60, burst });

export function defaultRateLimits(): RateLimitSettings {
  return {
    enabled: true,
    github: { core: { limit: 5000, windowMs: 3_600_000 }, search: { limit: 30, windowMs: 60_000 } },
    linear: { requests: { limit: 1200, windowMs: 3_600_000 }, complexity: { limit: 200_000, windowMs: 3_600_000 }, maxComplexity: 10_000 },
    slack: {
      // The tiers are floors ("20+ per minute"): the burst is one minute's worth.
      tiers: { 1: perMinute(1, 5), 2: perMinute(20), 3: perMinute(50), 4: perMinute(100) },
      // Slack documents no burst size for posting; 20 keeps ordinary tests clear of it.
      postMessagePerChannel: { perSecond: 1, burst: 20 },
    },
    // Notion documents an average and "some bursts": the burst size is the emulator's choice.
    notion: { perSecond: 3, burst: 30 },
    trello: {
      token: { limit: 100, windowMs: 10_000 },
      key: { limit: 300, windowMs: 10_000 },
      members: { limit: 100, windowMs: 900_000 },
    },
  };
}

export type RateLimitPatch = {
  enabled?: boolean;
  github?: Partial<RateLimitSettings["github"]>;
  linear?: Partial<RateLimitSettings["linear"]>;
  slack?: { tiers?: Partial<RateLimitSettings["slack"]["tiers"]>; postMessagePerChannel?: TokenBucketBudget };
  notion?: TokenBucketBudget;
  trello?: Partial<RateLimitSettings["trello"]>;
};

export function mergeRateLimits(target: RateLimitSettings, patch: RateLimitPatch) {
  if (patch.enabled !== undefined) target.enabled = patch.enabled;
  if (patch.github) Object.assign(target.github, patch.github);
  if (patch.linear) Object.assign(target.linear, patch.linear);
  if (patch.slack?.tiers) Object.assign(target.slack.tiers, patch.slack.tiers);
  if (patch.slack?.postMessagePerChannel) target.slack.postMessagePerChannel = patch.slack.postMessagePerChannel;
  if (patch.notion) target.notion = patch.notion;
  if (patch.trello) Object.assign(target.trello, patch.trello);
}

export interface WindowState {
  limit: number;
  used: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAt: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Seconds until a request would be allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

interface FixedWindow {
  start: number;
  used: number;
}

interface Bucket {
  level: number;
  at: number;
}

/** All budgets of one emulator; keys name the bucket (provider, kind, token or channel). */
export class RateLimiter {
  private windows = new Map<string, FixedWindow>();
  private buckets = new Map<string, Bucket>();

  reset() {
    this.windows.clear();
    this.buckets.clear();
  }

  /** Counts `cost` against a fixed window unless that would exceed it (and enforcement is on). */
  takeWindow(key: string, budget: WindowBudget, now: number, enforce: boolean, cost = 1): WindowState & TakeResult {
    let window = this.windows.get(key);
    if (!window || now >= window.start + budget.windowMs) {
      window = { start: now, used: 0 };
      this.windows.set(key, window);
    }
    const resetAt = window.start + budget.windowMs;
    const allowed = !enforce || window.used + cost <= budget.limit;
    if (allowed) window.used += cost;
    const remaining = Math.max(0, budget.limit - window.used);
    return {
      limit: budget.limit,
      used: window.used,
      remaining,
      resetAt,
      allowed,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetAt - now) / 1000)),
    };
  }

  /** The window as it stands, without counting anything. */
  peekWindow(key: string, budget: WindowBudget, now: number): WindowState {
    const window = this.windows.get(key);
    if (!window || now >= window.start + budget.windowMs)
      return { limit: budget.limit, used: 0, remaining: budget.limit, resetAt: now + budget.windowMs };
    return {
      limit: budget.limit,
      used: window.used,
      remaining: Math.max(0, budget.limit - window.used),
      resetAt: window.start + budget.windowMs,
    };
  }

  /**
   * A leaky bucket that refills at limit/period (Linear's documented algorithm). `resetAt` is
   * when the bucket would be full again.
   */
  takeLeaky(key: string, budget: WindowBudget, now: number, enforce: boolean, cost = 1): WindowState & TakeResult {
    const rate = budget.limit / budget.windowMs;
    const bucket = this.buckets.get(key) ?? { level: budget.limit, at: now };
    bucket.level = Math.min(budget.limit, bucket.level + (now - bucket.at) * rate);
    bucket.at = now;
    const allowed = !enforce || bucket.level >= cost;
    if (allowed) bucket.level = Math.max(0, bucket.level - cost);
    this.buckets.set(key, bucket);
    const remaining = Math.floor(bucket.level);
    const resetAt = now + Math.ceil((budget.limit - bucket.level) / rate);
    return {
      limit: budget.limit,
      used: budget.limit - remaining,
      remaining,
      resetAt,
      allowed,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((cost - bucket.level) / rate / 1000)),
    };
  }

  /** A token bucket: `burst` requests at once, refilled at `perSecond`. */
  takeBucket(key: string, budget: TokenBucketBudget, now: number, enforce: boolean): TakeResult {
    const bucket = this.buckets.get(key) ?? { level: budget.burst, at: now };
    bucket.level = Math.min(budget.burst, bucket.level + ((now - bucket.at) / 1000) * budget.perSecond);
    bucket.at = now;
    const allowed = !enforce || bucket.level >= 1;
    if (allowed) bucket.level -= 1;
    this.buckets.set(key, bucket);
    return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.level) / budget.perSecond)) };
  }
}
