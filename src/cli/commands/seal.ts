import type { Command } from 'commander';
import { openLocalKeyProvider, rotateLocalSigningKey, Sealer } from '../../audit/index.ts';
import { EXIT, loadAuditConfig, loadStoreConfig } from '../../edge/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { isDaybookError, systemClock } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';
import { toJson } from './verifyReport.ts';

/**
 * `daybook seal [--rotate-key]`: seals every unsealed event now, with the
 * signing key of DAYBOOK_AUDIT_KEYS_DIR (default `<data>/keys`, made on first
 * use). `--rotate-key` first makes a new signing key current; old seals keep
 * verifying with the old public key, which stays in the folder. On SQLite
 * the running server holds the store (and seals by itself): stop it first.
 */
export function registerSeal(program: Command, run: CliRun): void {
  program
    .command('seal')
    .description('seal the unsealed tail of the log now (a signed digest over its events)')
    .addOption(databaseUrlOption())
    .option('--rotate-key', 'make a new signing key current first (old seals keep verifying)')
    .option('--json', 'print the seal as JSON')
    .action(async (options: { databaseUrl?: string; rotateKey?: boolean; json?: boolean }) => {
      const url = storeUrlFrom(options, run.io);
      const { keysDir } = loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir);
      if (options.rotateKey) run.io.stdout.write(`new signing key ${rotateLocalSigningKey(keysDir)}\n`);
      const keys = openLocalKeyProvider({ dir: keysDir });
      const store = await openStore(url);
      try {
        const outcome = await new Sealer({ store, keys, clock: systemClock }).sealNow();
        if (!outcome.sealed) {
          if (outcome.reason === 'lost_race') throw new CliError('another process sealed at the same time: run daybook seal again', EXIT.tempfail);
          run.io.stdout.write(options.json ? `${toJson(outcome)}\n` : 'nothing to seal: every event is sealed\n');
          return;
        }
        const { seal, position } = outcome;
        run.io.stdout.write(options.json ? `${toJson({ ...seal, position })}\n`
          : `sealed positions ${seal.fromPosition}..${seal.toPosition} (${seal.eventCount} event${seal.eventCount === 1n ? '' : 's'}): seal ${seal.sequence} at position ${position}, key ${seal.keyId}\n`);
      } finally {
        await store.close();
      }
    });
}

async function openStore(url: string): Promise<EventStore> {
  try {
    return await openEventStore(url);
  } catch (error) {
    if (isDaybookError(error, 'store_locked')) throw new CliError('the store is in use by a running server, which seals by itself: stop it to seal from here', EXIT.tempfail);
    throw error;
  }
}
