/**
 * Covers the rule that no floating point touches money: the ledger's source
 * and the kernel's money and decimal modules must not use float parsing,
 * float formatting, float rounding or number conversion of amounts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;
const FORBIDDEN = ['parseFloat', 'toFixed', 'toPrecision', 'Number(', 'Math.round'];
// The scan's own list of words would match itself: test files are left out.
const isScanned = (name: string) => name.endsWith('.ts') && !name.endsWith('.test.ts');

function sources(): string[] {
  const ledger = readdirSync(join(root, 'ledger')).filter(isScanned).map((name) => join(root, 'ledger', name));
  return [...ledger, join(root, 'kernel', 'money.ts'), join(root, 'kernel', 'decimal.ts')];
}

const offending = (text: string) => FORBIDDEN.filter((word) => text.includes(word));

describe('the money code', () => {
  it('scans the ledger and the kernel money modules', () => {
    expect(sources().length).toBeGreaterThan(10);
    expect(sources().some((file) => file.endsWith('money.ts'))).toBe(true);
  });
  it('would catch each forbidden word', () => {
    expect(offending('const a = Number(x); b.toFixed(2); parseFloat(c); Math.round(d); e.toPrecision(3)')).toEqual(FORBIDDEN);
  });
  it.each(sources())('%s uses no floating point on amounts', (file) => {
    const text = readFileSync(file, 'utf8');
    const found = offending(text);
    expect(found, `${file} contains ${found.join(', ')}`).toEqual([]);
  });
});
