/** UUIDv7 generation: valid version-7 ids, strictly increasing within one process, unique. */
import { describe, expect, it } from 'vitest';
import { bytesToUuid, isUuidV7, uuidToBytes, uuidv7 } from './ids.ts';

describe('uuidv7', () => {
  it('makes valid version-7, variant-1 ids', () => {
    for (let i = 0; i < 1000; i += 1) {
      const id = uuidv7();
      expect(isUuidV7(id)).toBe(true);
      expect('89ab').toContain(id[19]);
    }
  });

  it('is strictly increasing and unique over many ids made in the same milliseconds', () => {
    const ids = Array.from({ length: 50_000 }, () => uuidv7());
    for (let i = 1; i < ids.length; i += 1) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now();
    const id = uuidv7();
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('round-trips through 16 bytes', () => {
    const id = uuidv7();
    expect(bytesToUuid(uuidToBytes(id))).toBe(id);
  });
});
