/**
 * Covers the rule that no floating point touches money in banking: its
 * source must not parse, format or round amounts as floats, nor convert
 * them with Number().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const folder = new URL('./', import.meta.url).pathname;
const FORBIDDEN = ['parseFloat', 'toFixed', 'toPrecision', 'Number(', 'Math.round'];
const sources = () => readdirSync(folder).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts')).map((name) => join(folder, name));

describe('the banking code', () => {
  it('is scanned', () => expect(sources().length).toBeGreaterThan(10));
  it.each(sources())('%s uses no floating point on amounts', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(FORBIDDEN.filter((word) => text.includes(word)), file).toEqual([]);
  });
});
