import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { systemClock } from '../../kernel/index.ts';
import { eraseSubject } from '../../privacy/index.ts';
import type { CliRun } from '../cliIo.ts';
import { openPrivacyStore } from '../privacyStore.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook erase <subject>`: GDPR erasure by crypto-shredding. Destroys the
 * subject's data key and appends `DataSubjectErased` (actor `cli:<user>`);
 * from then on its personal data reads `"[erased]"` everywhere, and the log
 * still verifies. Unknown subject: exit 65 (`subject_not_found`); erased
 * before: exit 65 (`subject_already_erased`). On SQLite the running server
 * holds the store: stop it, or use `POST /v1/admin/erasures`.
 */
export function registerErase(program: Command, run: CliRun): void {
  program
    .command('erase')
    .description('erase a data subject: destroy its data key, so its personal data reads "[erased]" for good')
    .argument('<subject>', 'bankcustomer:<mode>.<id>, pcustomer:<mode>:<cus_…> (with its payment methods and intents), paccount:<mode>:<acct_…>, pmethod:<mode>:<pm_…>, pintent:<mode>:<pi_…> or ppayout:<mode>:<po_…>')
    .addOption(databaseUrlOption())
    .option('--json', 'print the result as JSON')
    .action(async (subject: string, options: { databaseUrl?: string; json?: boolean }) => {
      const store = await openPrivacyStore(run, storeUrlFrom(options, run.io), { readOnly: false, use: 'erase with POST /v1/admin/erasures and an admin key' });
      try {
        const result = await eraseSubject(store, { subject, actor: `cli:${userName()}` }, systemClock);
        run.io.stdout.write(options.json
          ? `${JSON.stringify({ subject: result.subject, erasedAt: result.erasedAt, position: result.position.toString(), linked: result.linked })}\n`
          : `erased ${result.subject} at ${result.erasedAt} (event at position ${result.position})${result.linked.length === 0 ? '' : ` with ${result.linked.join(', ')}`}; its personal data now reads "[erased]"\n`);
      } finally {
        await store.close();
      }
    });
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
