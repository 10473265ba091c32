import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../../edge/index.ts';
import { systemClock } from '../../kernel/index.ts';
import { PRIVATE_FILE_MODE } from '../../kernel/privateFiles.ts';
import { exportSubject } from '../../privacy/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { openPrivacyStore } from '../privacyStore.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook subject export <subject> [--out <file>]`: a subject access
 * request. Writes everything held about the subject as JSON (its personal
 * data decrypted, its events with positions, types and times, related
 * objects' ids, its key's status) to stdout or to a new file (0600: it holds
 * personal data). Opens SQLite read-only, so it runs beside the server.
 */
export function registerSubject(program: Command, run: CliRun): void {
  const subject = program.command('subject').description('data subjects: subject access requests');
  subject.command('export')
    .description('write everything held about a data subject as JSON (personal data decrypted)')
    .argument('<subject>', 'bankcustomer:<mode>.<id>, pcustomer:<mode>:<cus_…> or paccount:<mode>:<acct_…>')
    .option('--out <file>', 'write to this new file (0600) instead of stdout')
    .addOption(databaseUrlOption())
    .action(async (subjectId: string, options: { out?: string; databaseUrl?: string }) => {
      if (options.out !== undefined && existsSync(options.out)) throw new CliError(`${options.out} exists: an export is never written over a file`, EXIT.usage);
      const store = await openPrivacyStore(run, storeUrlFrom(options, run.io), { readOnly: true, use: 'export with GET /v1/admin/subjects/{subject}/export' });
      try {
        const report = await exportSubject(store, subjectId, systemClock);
        const text = `${JSON.stringify(report, null, 2)}\n`;
        if (options.out === undefined) run.io.stdout.write(text);
        else {
          writeFileSync(options.out, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
          run.io.stdout.write(`wrote ${report.events.length} events of ${report.subject} (${report.status}) to ${options.out}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
