import type { Command } from 'commander';
import { describeStoreUrl } from '../../edge/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { isDaybookError } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook migrate`: applies the backend's pending numbered migrations and
 * names them. Migrations are idempotent, so running it twice is harmless; on
 * PostgreSQL several processes may run it at once (an advisory lock
 * serialises them).
 */
export function registerMigrate(program: Command, run: CliRun): void {
  program
    .command('migrate')
    .description('apply pending schema migrations to the store')
    .addOption(databaseUrlOption())
    .action(async (options: { databaseUrl?: string }) => {
      const url = storeUrlFrom(options, run.io);
      const pending = await pendingMigrations(url);
      const store = await openEventStore(url, { migrate: true });
      await store.close();
      const where = describeStoreUrl(url);
      if (pending.length === 0) run.io.stdout.write(`up to date: ${where} has no pending migrations\n`);
      else run.io.stdout.write(`applied ${pending.length} migration(s) to ${where}: ${pending.join(', ')}\n`);
    });
}

/** The store refuses to open with pending migrations when asked not to migrate, and names them: that is the list. */
async function pendingMigrations(url: string): Promise<string[]> {
  try {
    const store = await openEventStore(url, { migrate: false });
    await store.close();
    return [];
  } catch (error) {
    const pending = isDaybookError(error, 'migration_failed') ? error.details.pending : undefined;
    if (Array.isArray(pending)) return pending.map(String);
    throw error;
  }
}
