import type { Command } from 'commander';
import { EXIT, loadRetentionConfig, retentionCutoffMs } from '../../edge/index.ts';
import { systemClock } from '../../kernel/index.ts';
import { applyRetention, type RetentionReport } from '../../ops/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { openPrivacyStore } from '../privacyStore.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook retention apply [--dry-run]`: erases, by crypto-shredding (actor
 * `retention`), every subject whose latest activity (its stream, its
 * accounts' and transactions', its payments': see ops/retention.ts) is older than its
 * category's DAYBOOK_RETENTION rule (`customer=7y,pcustomer=7y`); prints
 * each subject and what was done. The `DataSubjectErased` events are the
 * audit trail. `--dry-run` lists and changes nothing. On SQLite the running
 * server holds the store (stop it first; a dry run runs beside it).
 */
export function registerRetention(program: Command, run: CliRun): void {
  const retention = program.command('retention').description('retention of personal data (DAYBOOK_RETENTION)');
  retention
    .command('apply')
    .description('erase (crypto-shred) the subjects past their category\'s retention; --dry-run only lists them')
    .option('--dry-run', 'list what would be erased; change nothing')
    .option('--json', 'print the report as JSON')
    .addOption(databaseUrlOption())
    .action(async (options: { dryRun?: boolean; json?: boolean; databaseUrl?: string }) => {
      const rules = loadRetentionConfig(run.io.env);
      if (rules.length === 0) throw new CliError('DAYBOOK_RETENTION is not set: nothing has a retention period (e.g. DAYBOOK_RETENTION=customer=7y,pcustomer=7y)', EXIT.config);
      const nowMs = systemClock.nowMs();
      const policies = rules.map((rule) => ({ category: rule.category, cutoffMs: retentionCutoffMs(rule, nowMs), text: rule.text }));
      const dryRun = options.dryRun === true;
      const store = await openPrivacyStore(run, storeUrlFrom(options, run.io), { readOnly: dryRun, use: 'run it with the server stopped' });
      let report: RetentionReport;
      try {
        report = await applyRetention(store, policies, systemClock, { dryRun });
      } finally {
        await store.close();
      }
      run.io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describeRetention(report));
    });
}

function describeRetention(report: RetentionReport): string {
  const lines = report.policies.map((policy) => `${policy.category}: keep ${policy.retention} after the latest activity (before ${policy.cutoff} is past it); ${policy.streamsChecked} streams checked`);
  const verb = { erased: 'erased', would_erase: 'would erase', already_erased: 'already erased', no_key: 'no encrypted data (nothing to erase)' } as const;
  for (const action of report.actions) {
    lines.push(`${verb[action.outcome]}: ${action.subject} (latest activity ${action.lastEventAt} in ${action.lastEventStreamId})${action.position === undefined ? '' : `, DataSubjectErased at position ${action.position}`}`);
  }
  const count = report.actions.filter((action) => action.outcome === (report.dryRun ? 'would_erase' : 'erased')).length;
  lines.push(report.dryRun ? `dry run: ${count} subject(s) would be erased; nothing was changed` : `${count} subject(s) erased by crypto-shredding (actor retention); history is unchanged`);
  return `${lines.join('\n')}\n`;
}
