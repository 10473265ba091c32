/**
 * What the projection commands (`dlq`, `rebuild`, `state-at`, `replay`) share:
 * the projections the CLI knows, and opening the event store and the read-model
 * store of one URL with a projection engine over them.
 *
 * The built-in projections come from {@link builtinProjections}
 * (`banking_read_model`, `ledger_balances`); a command naming another answers
 * `projection_not_found` (exit 64) with the known names, in one line.
 */
import { existsSync } from 'node:fs';
import { EXIT, loadAuditConfig, loadStoreConfig, sqlitePathOf } from '../edge/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { isDaybookError } from '../kernel/index.ts';
import { openShreddingStore } from '../privacy/index.ts';
import { builtinProjections } from '../projections/builtin/index.ts';
import {
  createProjectionEngine, openReadModelStore, type ProjectionEngine, ProjectionRegistry, type ReadModelStore,
} from '../projections/index.ts';
import type { CliRun } from './cliIo.ts';
import { CliError } from './failure.ts';
import { storeUrlFrom } from './storeUrlOption.ts';

export { builtinProjections };

/** The registry of built-in projections: `get(name)` throws `projection_not_found` for an unknown name. */
export function projectionRegistry(): ProjectionRegistry {
  return new ProjectionRegistry(builtinProjections());
}

export interface ProjectionContext {
  store: EventStore;
  readModels: ReadModelStore;
  engine: ProjectionEngine;
}

/** Refuses a SQLite store that does not exist (these commands never create one), before anything opens. */
export function requireExistingStore(url: string): void {
  const sqlitePath = sqlitePathOf(url);
  if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
}

/**
 * Opens the store of `--database-url` (read-only on SQLite when `readOnly`, so
 * it runs beside a live server), its read-model store and an engine over the
 * built-in projections (not started), runs `action`, then closes everything.
 * With `personalData` the store opens personal data as the server does
 * (crypto-shredding, the key store beside it): for a command that renders
 * objects to send out (a webhook replay), never their ciphertext.
 */
export async function withProjections<T>(
  run: CliRun, options: { databaseUrl?: string }, action: (context: ProjectionContext) => Promise<T>, open: { readOnly?: boolean; personalData?: boolean } = {},
): Promise<T> {
  const url = storeUrlFrom(options, run.io);
  requireExistingStore(url);
  let store: EventStore;
  try {
    store = await openEventStore(url, open.readOnly ? { readOnly: true, migrate: false } : {});
  } catch (error) {
    if (isDaybookError(error, 'store_locked')) throw new CliError('the store is in use by a running server: stop it first', EXIT.tempfail);
    throw error;
  }
  try {
    if (open.personalData === true) store = await openShreddingStore(store, { storeUrl: url, keysDir: loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir).keysDir });
    const readModels = await openReadModelStore(url);
    try {
      const engine = createProjectionEngine({ store, readModels, projections: builtinProjections(store) });
      return await action({ store, readModels, engine });
    } finally {
      await readModels.close();
    }
  } finally {
    await store.close();
  }
}

/** JSON with bigints as strings (positions, versions). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), indent);
}
