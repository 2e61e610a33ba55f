// Bindings test/bench/vitest.config.ts adds for the benchmark files (host env does not reach workerd).
declare global {
  namespace Cloudflare {
    interface Env {
      BENCH_SIZES?: string;
      BENCH_ROUNDS?: string;
      BENCH_DELIVERIES?: string;
    }
  }
}
export {};
