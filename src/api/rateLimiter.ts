import type { Clock } from '../kernel/index.ts';

/**
 * A token bucket per API key: `burst` tokens to start with, refilled at
 * `perSecond` tokens a second up to `burst`; a request takes one. Buckets
 * are in memory, per process: with several API processes the limit is per
 * key per process.
 *
 * @example
 * const limiter = createRateLimiter({ perSecond: 100, burst: 200 }, systemClock);
 * const verdict = limiter.take('key_abc'); // { allowed: true } or { allowed: false, retryAfterMs: 10 }
 */
export interface RateLimitSettings {
  /** Sustained requests per second per key; 0 turns limiting off. */
  perSecond: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
}

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  take(keyId: string): RateVerdict;
}

/** Buckets idle this long are full again and can be forgotten. */
const SWEEP_EVERY_TAKES = 10_000;

export function createRateLimiter(settings: RateLimitSettings, clock: Clock): RateLimiter {
  if (settings.perSecond <= 0) return { take: () => ({ allowed: true }) };
  const burst = Math.max(1, settings.burst);
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  let takes = 0;
  const sweep = (nowMs: number): void => {
    const fullAfterMs = (burst / settings.perSecond) * 1000;
    for (const [keyId, bucket] of buckets) if (nowMs - bucket.atMs >= fullAfterMs) buckets.delete(keyId);
  };
  return {
    take(keyId) {
      const nowMs = clock.nowMs();
      if (++takes % SWEEP_EVERY_TAKES === 0) sweep(nowMs);
      const bucket = buckets.get(keyId) ?? { tokens: burst, atMs: nowMs };
      const refilled = Math.min(burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * settings.perSecond);
      if (refilled >= 1) {
        buckets.set(keyId, { tokens: refilled - 1, atMs: nowMs });
        return { allowed: true };
      }
      buckets.set(keyId, { tokens: refilled, atMs: nowMs });
      return { allowed: false, retryAfterMs: Math.ceil(((1 - refilled) / settings.perSecond) * 1000) };
    },
  };
}
