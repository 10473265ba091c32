/**
 * Seeded random numbers and a Zipf sampler, so that every run of a mixed
 * workload draws the same sequence of streams.
 */

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ranks 0..n-1 with P(k) proportional to 1 / (k + 1)^s: rank 0 is the hottest.
 * Inverse transform over the cumulative distribution, by binary search.
 */
export class ZipfSampler {
  private readonly cumulative: Float64Array;

  constructor(readonly n: number, readonly s: number, private readonly random: () => number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    this.cumulative = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) {
      total += 1 / Math.pow(k + 1, s);
      this.cumulative[k] = total;
    }
    for (let k = 0; k < n; k++) this.cumulative[k]! /= total;
  }

  /** Probability of rank `k`. */
  probability(k: number): number {
    return this.cumulative[k]! - (k === 0 ? 0 : this.cumulative[k - 1]!);
  }

  next(): number {
    const u = this.random();
    let low = 0;
    let high = this.n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle]! > u) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
