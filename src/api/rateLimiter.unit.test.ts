/** The token bucket: a burst, then one token per 1/rate seconds, per key; Retry-After from the deficit; off at rate 0. */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../kernel/index.ts';
import { createRateLimiter } from './rateLimiter.ts';

describe('createRateLimiter', () => {
  it('allows the burst, then refills at the rate', () => {
    const clock = fixedClock(1_000_000);
    const limiter = createRateLimiter({ perSecond: 10, burst: 3 }, clock);
    expect([1, 2, 3, 4].map(() => limiter.take('k').allowed)).toEqual([true, true, true, false]);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterMs: 100 });
    clock.advance(100);
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k').allowed).toBe(false);
    clock.advance(10_000);
    expect([1, 2, 3, 4].map(() => limiter.take('k').allowed)).toEqual([true, true, true, false]);
  });

  it('keeps a bucket per key', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1 }, fixedClock(0));
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('is off at rate 0', () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 0 }, fixedClock(0));
    expect(Array.from({ length: 1000 }, () => limiter.take('k').allowed).every(Boolean)).toBe(true);
  });
});
