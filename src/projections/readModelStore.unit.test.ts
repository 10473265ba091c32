/** The one SQL dialect of handlers: `$n` parameters, rewritten for SQLite; and the store URLs accepted. */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/index.ts';
import { openReadModelStore, toSqliteParameters } from './readModelStore.ts';

describe('toSqliteParameters', () => {
  it('rewrites $n to ? and orders (and repeats) the values to match', () => {
    expect(toSqliteParameters('UPDATE t SET a = $2 WHERE b = $1 OR c = $2')).toEqual({ text: 'UPDATE t SET a = ? WHERE b = ? OR c = ?', order: [1, 0, 1] });
    expect(toSqliteParameters('SELECT $10, $1')).toEqual({ text: 'SELECT ?, ?', order: [9, 0] });
  });

  it('leaves quoted strings and identifiers alone, with doubled quotes inside', () => {
    expect(toSqliteParameters(`SELECT '$1 it''s', "col$2" FROM t WHERE x = $1`)).toEqual({ text: `SELECT '$1 it''s', "col$2" FROM t WHERE x = ?`, order: [0] });
  });

  it('keeps a $ that is not a parameter', () => {
    expect(toSqliteParameters('SELECT a$b FROM t')).toEqual({ text: 'SELECT a$b FROM t', order: [] });
  });
});

describe('openReadModelStore', () => {
  it('refuses urls it cannot serve', async () => {
    for (const url of ['mysql://x', 'sqlite:', 'sqlite::memory:', 42 as unknown as string]) {
      const error = await openReadModelStore(url).then(() => null, (caught: unknown) => caught);
      expect(isDaybookError(error, 'validation_failed')).toBe(true);
    }
  });
});
