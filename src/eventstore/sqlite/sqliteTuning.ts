import { DaybookError } from '../../kernel/errors.ts';

/**
 * The SQLite store's memory and layout, from configuration: what a store of
 * many millions of events needs is set here, not found by accident.
 * - `pageCacheMb`: page cache of each connection the process holds on the store
 *   (the writer thread's and the reader's), in MB. The indexes a large store
 *   touches at random (caller-sent event ids) should fit in it.
 * - `streamHeadCacheSize`: stream heads (version, hash) the writer keeps in
 *   memory; about 250 bytes each with 40-character stream ids.
 * - `pageSize`: bytes per page, used only when the store file is created
 *   (SQLite cannot change it afterwards in WAL mode).
 */
export interface SqliteTuning {
  pageCacheMb: number;
  streamHeadCacheSize: number;
  pageSize: number;
}

export const SQLITE_TUNING_DEFAULTS: SqliteTuning = { pageCacheMb: 64, streamHeadCacheSize: 100_000, pageSize: 4096 };

const ENV = {
  pageCacheMb: 'DAYBOOK_SQLITE_CACHE_MB',
  streamHeadCacheSize: 'DAYBOOK_STREAM_HEAD_CACHE',
  pageSize: 'DAYBOOK_SQLITE_PAGE_SIZE',
} as const;

/** Reads the tuning from the environment; an unset variable keeps its default, a bad one is refused. */
export function sqliteTuningFromEnv(env: NodeJS.ProcessEnv = process.env): SqliteTuning {
  const read = (key: keyof SqliteTuning, valid: (n: number) => boolean, expected: string): number => {
    const raw = env[ENV[key]];
    if (raw === undefined || raw.trim() === '') return SQLITE_TUNING_DEFAULTS[key];
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || !valid(value)) {
      throw new DaybookError('validation_failed', `${ENV[key]} must be ${expected}, got ${JSON.stringify(raw)}`, { variable: ENV[key] });
    }
    return value;
  };
  return {
    pageCacheMb: read('pageCacheMb', (n) => n >= 2 && n <= 65_536, 'a whole number of MB from 2 to 65536'),
    streamHeadCacheSize: read('streamHeadCacheSize', (n) => n >= 0 && n <= 100_000_000, 'a whole number of streams from 0 to 100000000'),
    pageSize: read('pageSize', (n) => n >= 512 && n <= 65_536 && (n & (n - 1)) === 0, 'a power of two from 512 to 65536'),
  };
}
