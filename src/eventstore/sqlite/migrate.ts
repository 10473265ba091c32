import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { DaybookError } from '../../kernel/errors.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The numbered `.sql` files beside this module, in order. */
export function sqliteMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(MIGRATIONS_DIR + file, 'utf8') }));
}

function ensureLedgerTable(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
}

/** Versions not yet applied. */
export function pendingSqliteMigrations(db: Database.Database): Migration[] {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!hasTable) return sqliteMigrations();
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((row) => row.version));
  return sqliteMigrations().filter((migration) => !applied.has(migration.version));
}

/** Applies pending migrations, each in its own transaction. Idempotent. */
export function migrateSqlite(db: Database.Database): Migration[] {
  ensureLedgerTable(db);
  const pending = pendingSqliteMigrations(db);
  for (const migration of pending) {
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
      }).immediate();
    } catch (error) {
      throw new DaybookError('migration_failed', `migration ${migration.name} failed: ${(error as Error).message}`, { migration: migration.name });
    }
  }
  return pending;
}
