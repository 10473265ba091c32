/** The end-to-end lag histogram: cumulative buckets as Prometheus has them, and quantile estimates. */
import { describe, expect, it } from 'vitest';
import { LagHistogram } from './lagHistogram.ts';

describe('LagHistogram', () => {
  it('counts samples into cumulative buckets, the last one +Inf', () => {
    const histogram = new LagHistogram([10, 100]);
    for (const lag of [0, 5, 10, 11, 99, 1000, -3]) histogram.observe(lag);
    expect(histogram.snapshot()).toEqual({
      buckets: [{ leMs: 10, count: 4 }, { leMs: 100, count: 6 }, { leMs: Number.POSITIVE_INFINITY, count: 7 }],
      count: 7,
      sumMs: 1125,
    });
  });

  it('estimates quantiles by bucket bound', () => {
    const histogram = new LagHistogram([1, 2, 5, 10]);
    for (let index = 0; index < 99; index += 1) histogram.observe(1);
    histogram.observe(7);
    expect(histogram.quantileMs(0.5)).toBe(1);
    expect(histogram.quantileMs(0.99)).toBe(1);
    expect(histogram.quantileMs(1)).toBe(10);
    expect(new LagHistogram().quantileMs(0.99)).toBe(0);
  });
});
