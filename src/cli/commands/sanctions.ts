import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { buildSanctionsScreener, readActiveSanctionsList, readSanctionsFiles, replaceActiveSanctionsList } from '../../compliance/index.ts';
import { EXIT, loadStoreConfig } from '../../edge/index.ts';
import { systemClock } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';

/**
 * `daybook sanctions load <sdn.csv> [--aliases <alt.csv>]`: replaces the
 * active sanctions list in DAYBOOK_DATA_DIR with files in OFAC's SDN CSV
 * layout. The files are parsed whole first; a malformed one is refused with
 * its line (exit 65) and the old list stays. The write is atomic (temporary
 * file, then rename). `daybook sanctions screen <name>` screens one name
 * against the active list (exit 0 with or without hits).
 */
export function registerSanctions(program: Command, run: CliRun): void {
  const sanctions = program.command('sanctions').description('load the sanctions list and screen names against it');

  sanctions.command('load')
    .description('replace the active sanctions list (OFAC SDN CSV layout; the old list stays if the new one is malformed)')
    .argument('<sdn>', 'sdn.csv: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks')
    .option('--aliases <alt>', 'alt.csv: ent_num, alt_num, alt_type, alt_name, alt_remarks')
    .option('--json', 'print what was stored as JSON')
    .action((sdn: string, options: { aliases?: string; json?: boolean }) => {
      for (const path of [sdn, options.aliases]) {
        if (path !== undefined && !existsSync(path)) throw new CliError(`no such file: ${path}`, EXIT.usage);
      }
      const { dataDir } = loadStoreConfig(run.io.env);
      const upload = readSanctionsFiles(sdn, options.aliases);
      const stored = replaceActiveSanctionsList(dataDir, upload, systemClock.nowMs());
      const aliases = stored.entries.reduce((sum, entry) => sum + entry.aliases.length, 0);
      const summary = { listVersion: stored.listVersion, entries: stored.entries.length, aliases, sources: stored.sources, dataDir };
      run.io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `loaded sanctions list ${stored.listVersion}: ${summary.entries} entries, ${aliases} aliases (into ${dataDir})\n`);
    });

  sanctions.command('screen')
    .description('screen one name against the active sanctions list')
    .argument('<name>', 'the name to screen')
    .option('--threshold <score>', 'lowest score that is a hit, in (0, 1] (default 0.88)', parseThreshold)
    .option('--json', 'print the result as JSON')
    .action((name: string, options: { threshold?: number; json?: boolean }) => {
      const list = readActiveSanctionsList(loadStoreConfig(run.io.env).dataDir);
      const { hits } = buildSanctionsScreener(list).screen(name, options.threshold === undefined ? {} : { threshold: options.threshold });
      if (options.json) {
        run.io.stdout.write(`${JSON.stringify({ listVersion: list.listVersion, hits })}\n`);
        return;
      }
      if (hits.length === 0) run.io.stdout.write(`no hits (list ${list.listVersion})\n`);
      for (const hit of hits) {
        const via = hit.matchedOn === 'alias' ? ` via alias ${JSON.stringify(hit.matchedName)}` : '';
        run.io.stdout.write(`${hit.score.toFixed(4)} ${hit.entNum} ${hit.name}${via} [${hit.programs.join(', ')}]\n`);
      }
    });
}

function parseThreshold(value: string): number {
  const threshold = Number(value);
  if (!(threshold > 0 && threshold <= 1)) throw new InvalidArgumentError('use a number in (0, 1].');
  return threshold;
}
