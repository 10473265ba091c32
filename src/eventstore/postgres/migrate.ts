import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { DaybookError } from '../../kernel/errors.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** Serializes migrations across processes that start together. */
const MIGRATION_LOCK = 7_356_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function postgresMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(MIGRATIONS_DIR + file, 'utf8') }));
}

export async function pendingPostgresMigrations(pool: pg.Pool): Promise<Migration[]> {
  const exists = await pool.query("SELECT to_regclass('daybook.schema_migrations') IS NOT NULL AS present");
  if (!exists.rows[0].present) return postgresMigrations();
  const applied = await pool.query<{ version: number }>('SELECT version FROM daybook.schema_migrations');
  const done = new Set(applied.rows.map((row) => Number(row.version)));
  return postgresMigrations().filter((migration) => !done.has(migration.version));
}

/** Applies pending migrations, each in its own transaction, under an advisory lock. Idempotent and safe to run from several processes at once. */
export async function migratePostgres(pool: pg.Pool): Promise<Migration[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE SCHEMA IF NOT EXISTS daybook');
    await client.query('CREATE TABLE IF NOT EXISTS daybook.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const pending = await pendingPostgresMigrations(pool);
    for (const migration of pending) {
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO daybook.schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new DaybookError('migration_failed', `migration ${migration.name} failed: ${(error as Error).message}`, { migration: migration.name });
      }
    }
    return pending;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
