import type { Endpoint, Fault, ProviderId } from "./state";

/**
 * Seeded random faults for load and chaos tests. Each rate is a probability per request
 * (0…1); at most one fault is drawn per request. Draws come from one seeded stream per
 * provider and endpoint, so a run is reproducible whenever each stream sees its requests in
 * the same order (the interleaving between providers or endpoints does not matter).
 */
export interface ChaosSettings {
  seed: number;
  /** The provider's own rate-limit answer (429, or GitHub 403/Linear RATELIMITED) with retryAfterSeconds. */
  rate429?: number;
  /** A 5xx from the provider's edge (502, 503 or 504, drawn too). */
  rate5xx?: number;
  /** Headers at once, then the body stalls for slowBodyMs. */
  rateSlowBody?: number;
  /** The provider commits the request, then the connection drops. */
  rateDrop?: number;
  slowBodyMs?: number;
  retryAfterSeconds?: number;
  /** Which endpoints chaos touches; default deliver and lookup. */
  endpoints?: Endpoint[];
  /** Which providers chaos touches; default all. */
  providers?: ProviderId[];
}

/** mulberry32: small, fast and good enough to draw faults. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to derive one stream seed per provider and endpoint. */
function hash(text: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const EDGE_STATUSES = [502, 503, 504] as const;

export class Chaos {
  private streams = new Map<string, () => number>();
  readonly drawn: { provider: ProviderId; endpoint: Endpoint; fault: Fault["kind"] }[] = [];

  constructor(readonly settings: ChaosSettings) {
    for (const [name, value] of Object.entries(settings)) {
      if (name.startsWith("rate") && (typeof value !== "number" || value < 0 || value > 1)) {
        throw new RangeError(`chaos ${name} must be a probability between 0 and 1`);
      }
    }
    const total = (settings.rate429 ?? 0) + (settings.rate5xx ?? 0) + (settings.rateSlowBody ?? 0) + (settings.rateDrop ?? 0);
    if (total > 1) throw new RangeError("the chaos rates add up to more than 1");
  }

  /** A fault for this request, or undefined. */
  draw(provider: ProviderId, endpoint: Endpoint): Fault | undefined {
    const { settings } = this;
    if (!(settings.endpoints ?? ["deliver", "lookup"]).includes(endpoint)) return undefined;
    if (settings.providers && !settings.providers.includes(provider)) return undefined;
    const key = `${provider}:${endpoint}`;
    let next = this.streams.get(key);
    if (!next) {
      next = mulberry32(hash(`${settings.seed}:${key}`));
      this.streams.set(key, next);
    }
    const roll = next();
    const pick = next();
    // Cumulative thresholds: each kind takes the next slice of [0, 1).
    const upTo429 = settings.rate429 ?? 0;
    const upTo5xx = upTo429 + (settings.rate5xx ?? 0);
    const upToSlowBody = upTo5xx + (settings.rateSlowBody ?? 0);
    const upToDrop = upToSlowBody + (settings.rateDrop ?? 0);
    let fault: Fault | undefined;
    if (roll < upTo429) {
      fault = { kind: "rate_limited", retryAfterSeconds: settings.retryAfterSeconds ?? 1 };
    } else if (roll < upTo5xx) {
      fault = { kind: "http", status: EDGE_STATUSES[Math.floor(pick * EDGE_STATUSES.length)]! };
    } else if (roll < upToSlowBody) {
      fault = { kind: "slow_body", delayMs: settings.slowBodyMs ?? 15_000 };
    } else if (roll < upToDrop) {
      fault = { kind: "drop_after_commit" };
    }
    if (fault) this.drawn.push({ provider, endpoint, fault: fault.kind });
    return fault;
  }
}
