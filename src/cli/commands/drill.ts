import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../edge/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import { type DrillReport, drillBackup, latestBackup } from '../../ops/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { builtinProjections, requireExistingStore, toJson } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook drill [--backup <file> | --dir <folder>]`: restores a backup (the
 * given one, else the newest in --dir or DAYBOOK_BACKUP_DIR) into a scratch
 * folder, verifies it, rebuilds its projections, and compares its head with
 * the live store's event at that position. Exit 65 (`backup_mismatch`) on any
 * difference; a backup that does not restore fails as the restore would.
 */
export function registerDrill(program: Command, run: CliRun): void {
  program
    .command('drill')
    .description('restore a backup into a scratch folder, verify it, and compare its head with the live store')
    .option('--backup <file>', 'the backup to drill (default: the newest in --dir)')
    .option('--dir <folder>', 'where backups are (default: DAYBOOK_BACKUP_DIR)')
    .option('--scratch <folder>', 'where the scratch restore goes (default: the system temp folder); it needs room for the whole store')
    .option('--json', 'print the report as JSON')
    .addOption(databaseUrlOption())
    .action(async (options: { backup?: string; dir?: string; scratch?: string; json?: boolean; databaseUrl?: string }) => {
      const liveUrl = storeUrlFrom(options, run.io);
      requireExistingStore(liveUrl);
      const backupFile = await chooseBackup(run, options);
      const report = await drillBackup({ backupFile, liveUrl, projections: builtinProjections, scratchParent: options.scratch === undefined ? undefined : resolve(options.scratch) });
      run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeDrill(report));
      if (!report.ok) throw new DaybookError('backup_mismatch', `drill failed: ${report.difference}`);
    });
}

async function chooseBackup(run: CliRun, options: { backup?: string; dir?: string }): Promise<string> {
  if (options.backup !== undefined) return resolve(options.backup);
  const dir = options.dir ?? run.io.env.DAYBOOK_BACKUP_DIR;
  if (dir === undefined || dir === '') throw new CliError('which backup? give --backup <file>, or --dir <folder> (or set DAYBOOK_BACKUP_DIR) for the newest there', EXIT.usage);
  return latestBackup(resolve(dir));
}

function describeDrill(report: DrillReport): string {
  const { restore, live } = report;
  return [
    `drill ${report.ok ? 'ok' : 'FAILED'}: ${report.backupFile}`,
    `  restored: ${restore.eventsKept} events, head position ${restore.headPosition}, hash ${restore.headHash || '-'}; verified; projections rebuilt: ${restore.projectionsRebuilt.join(', ') || '-'}`,
    `  live: head position ${live.headPosition}; at the backup's head: ${live.hashAtBackupHead ?? 'no event'}`,
    ...(report.difference === null ? [] : [`  difference: ${report.difference}`]),
    `  took ${report.seconds.toFixed(2)} s (restore ${restore.seconds.toFixed(2)} s)`,
    '',
  ].join('\n');
}
