import { existsSync } from 'node:fs';
import { EXIT, loadAuditConfig, loadStoreConfig, sqlitePathOf } from '../edge/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { isDaybookError } from '../kernel/index.ts';
import { openShreddingStore, type ShreddingEventStore } from '../privacy/index.ts';
import type { CliRun } from './cliIo.ts';
import { CliError } from './failure.ts';

/**
 * The store as the server sees it, for `erase` and `subject export`: with
 * crypto-shredding around it (the key store beside it, the master key of
 * DAYBOOK_AUDIT_KEYS_DIR). `readOnly` (an export) runs beside a live
 * SQLite server; a writer (an erasure) needs the server stopped there.
 */
export async function openPrivacyStore(run: CliRun, url: string, options: { readOnly: boolean; use: string }): Promise<ShreddingEventStore> {
  const sqlitePath = sqlitePathOf(url);
  if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
  const { keysDir } = loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir);
  let raw;
  try {
    raw = await openEventStore(url, options.readOnly ? { readOnly: true, migrate: false } : {});
  } catch (error) {
    if (isDaybookError(error, 'store_locked')) throw new CliError(`the store is in use by a running server: stop it, or ${options.use}`, EXIT.tempfail);
    throw error;
  }
  try {
    return await openShreddingStore(raw, { storeUrl: url, keysDir });
  } catch (error) {
    await raw.close();
    throw error;
  }
}
