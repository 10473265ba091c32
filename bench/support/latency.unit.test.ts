import { describe, expect, it } from 'vitest';
import { LatencyRecorder, percentileOfSorted } from './latency.ts';

describe('LatencyRecorder', () => {
  it('gives nearest-rank percentiles of 1..1000 recorded in shuffled order', () => {
    const latency = new LatencyRecorder();
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    // Deterministic shuffle; also crosses the initial buffer growth when recorded twice below.
    for (let i = values.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    for (const value of values) latency.record(value);
    expect(latency.count).toBe(1000);
    expect(latency.summary()).toEqual({ p50_ms: 500, p99_ms: 990, p999_ms: 999, max_ms: 1000 });
  });

  it('sorts numerically, not as strings', () => {
    const latency = new LatencyRecorder();
    for (const value of [9, 10, 100, 2, 1000]) latency.record(value);
    expect(latency.percentile(50)).toBe(10);
    expect(latency.percentile(100)).toBe(1000);
    expect(latency.percentile(0)).toBe(2);
  });

  it('keeps every sample past its initial capacity and re-sorts after new records', () => {
    const latency = new LatencyRecorder();
    for (let i = 0; i < 10_000; i++) latency.record(1);
    expect(latency.percentile(100)).toBe(1);
    latency.record(50);
    expect(latency.count).toBe(10_001);
    expect(latency.percentile(100)).toBe(50);
    expect(latency.percentile(99.9)).toBe(1);
  });

  it('answers null when empty and times rejected promises too', async () => {
    const latency = new LatencyRecorder();
    expect(latency.summary()).toEqual({ p50_ms: null, p99_ms: null, p999_ms: null, max_ms: null });
    await expect(latency.time(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(latency.count).toBe(1);
  });
});

describe('percentileOfSorted', () => {
  it('takes the single sample for any percentile', () => {
    expect(percentileOfSorted([4], 0)).toBe(4);
    expect(percentileOfSorted([4], 99.9)).toBe(4);
  });

  it('rounds the rank up: p99 of 10 samples is the largest', () => {
    expect(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 51)).toBe(6);
  });

  it('refuses a percentile outside [0, 100]', () => {
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], Number.NaN)).toThrow(RangeError);
  });
});
