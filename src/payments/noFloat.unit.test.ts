/**
 * Covers the rule that no floating point touches money in payments: its
 * source (domain and application) must not parse, format or round amounts
 * as floats, nor convert them with Number().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('./', import.meta.url).pathname;
const FORBIDDEN = ['parseFloat', 'toFixed', 'toPrecision', 'Number(', 'Math.round'];
const sources = () => ['domain', 'app'].flatMap((folder) =>
  readdirSync(join(root, folder)).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts')).map((name) => join(root, folder, name)));

describe('the payments code', () => {
  it('is scanned', () => expect(sources().length).toBeGreaterThan(10));
  it.each(sources())('%s uses no floating point on amounts', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(FORBIDDEN.filter((word) => text.includes(word)), file).toEqual([]);
  });
  it('keeps the domain pure: no node:*, clock or randomness', () => {
    for (const name of readdirSync(join(root, 'domain')).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))) {
      const text = readFileSync(join(root, 'domain', name), 'utf8');
      expect(['node:', 'Date.now', 'Math.random', 'new Date'].filter((word) => text.includes(word)), name).toEqual([]);
    }
  });
});
