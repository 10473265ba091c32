/**
 * Latency samples in milliseconds and their percentiles by nearest rank: the
 * p-th percentile is the smallest sample with at least p% of the samples at or
 * below it, so it is always a measured value (p100 is the maximum).
 *
 * @example
 * const latency = new LatencyRecorder();
 * await latency.time(() => store.append(write));
 * latency.summary(); // { p50_ms, p99_ms, p999_ms, max_ms }
 */
export class LatencyRecorder {
  private samples = new Float64Array(4096);
  private size = 0;
  private sorted: Float64Array | null = null;

  get count(): number {
    return this.size;
  }

  record(ms: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size++] = ms;
    this.sorted = null;
  }

  /** Runs `fn` and records how long its promise took to settle (also when it rejects). */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.record(performance.now() - started);
    }
  }

  /** `p` in [0, 100]; null when nothing was recorded. */
  percentile(p: number): number | null {
    if (this.sorted === null) this.sorted = this.samples.slice(0, this.size).sort();
    return percentileOfSorted(this.sorted, p);
  }

  summary(): { p50_ms: number | null; p99_ms: number | null; p999_ms: number | null; max_ms: number | null } {
    return { p50_ms: this.percentile(50), p99_ms: this.percentile(99), p999_ms: this.percentile(99.9), max_ms: this.percentile(100) };
  }
}

/** Nearest-rank percentile of ascending `sorted`; null when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const n = sorted.length;
  if (n === 0) return null;
  // Multiply before dividing: (p * n) / 100 is exact for the percentiles used here, p / 100 * n is not.
  const rank = Math.ceil((p * n) / 100);
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!;
}
