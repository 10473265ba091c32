/** Times in queries: what `parseTimeParam` takes, and the dates it refuses instead of rolling them over. */
import { describe, expect, it } from 'vitest';
import { parseTimeParam } from './wire.ts';

describe('parseTimeParam', () => {
  it('reads Unix seconds and ISO 8601 with Z or an offset, to the millisecond', () => {
    expect(parseTimeParam('1764151200', 'as_of')).toBe(1_764_151_200_000);
    expect(parseTimeParam('2026-11-26T10:00:00Z', 'as_of')).toBe(Date.UTC(2026, 10, 26, 10));
    expect(parseTimeParam('2026-11-26T11:00:00.250+01:00', 'as_of')).toBe(Date.UTC(2026, 10, 26, 10, 0, 0, 250));
    expect(parseTimeParam('2024-02-29T00:00:00Z', 'as_of')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimeParam('1970-01-01T00:00:00Z', 'as_of')).toBe(0);
  });

  it.each([
    ['2025-02-30T00:00:00Z', 'calendar'], ['2025-02-29T00:00:00Z', 'calendar'], ['2026-04-31T00:00:00Z', 'calendar'], ['2026-13-01T00:00:00Z', 'calendar'],
    ['2026-00-10T00:00:00Z', 'calendar'], ['2026-01-00T00:00:00Z', 'calendar'], ['2026-01-01T24:00:00Z', 'calendar'], ['2026-01-01T10:60:00Z', 'calendar'],
    ['2026-01-01T10:00:60Z', 'calendar'], ['2026-01-01T10:00:00+24:00', 'calendar'], ['0000-01-01T00:00:00Z', 'represent'], ['1969-12-31T23:59:59Z', 'represent'],
    ['2026-01-01', 'ISO 8601'], ['2026-01-01T10:00:00', 'ISO 8601'], ['yesterday', 'ISO 8601'], ['99999999999999999999', 'represent'],
  ])('refuses %s, naming the parameter', (text, why) => {
    expect(() => parseTimeParam(text, 'created[gte]')).toThrow(expect.objectContaining({ code: 'validation_failed', param: 'created[gte]', message: expect.stringContaining(why) }));
  });
});
