/**
 * End-to-end lag (event recorded-at → read model committed), bucketed the way
 * a Prometheus histogram is, so it can be exported as one without keeping
 * every sample.
 */
export const LAG_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];

export interface LagHistogramSnapshot {
  /** Cumulative counts: `count` samples were ≤ `leMs`. The last bucket is +Inf. */
  buckets: Array<{ leMs: number; count: number }>;
  count: number;
  sumMs: number;
}

export class LagHistogram {
  private readonly counts: number[];
  private count = 0;
  private sumMs = 0;

  constructor(private readonly bounds: readonly number[] = LAG_BUCKETS_MS) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(lagMs: number): void {
    const value = Math.max(0, lagMs);
    let index = this.bounds.findIndex((bound) => value <= bound);
    if (index === -1) index = this.bounds.length;
    this.counts[index]! += 1;
    this.count += 1;
    this.sumMs += value;
  }

  snapshot(): LagHistogramSnapshot {
    let running = 0;
    const buckets = this.counts.map((count, index) => {
      running += count;
      return { leMs: index < this.bounds.length ? this.bounds[index]! : Number.POSITIVE_INFINITY, count: running };
    });
    return { buckets, count: this.count, sumMs: this.sumMs };
  }

  /** The smallest bucket bound under which at least `quantile` of the samples fall (an upper estimate). */
  quantileMs(quantile: number): number {
    if (this.count === 0) return 0;
    const wanted = quantile * this.count;
    let running = 0;
    for (let index = 0; index < this.counts.length; index += 1) {
      running += this.counts[index]!;
      if (running >= wanted) return index < this.bounds.length ? this.bounds[index]! : Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }
}
