/**
 * `daybook`: the operations CLI (commander). One file per command under
 * `commands/`; this file wires them and maps every failure to one line on
 * stderr and a sysexits code (see `failure.ts`). `bin/daybook.js` runs it.
 *
 * @example
 * process.exitCode = await runCli(['verify', '--json']);
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CliIo, CliRun } from './cliIo.ts';
import { registerArchive } from './commands/archive.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBackup } from './commands/backup.ts';
import { registerBench } from './commands/bench.ts';
import { registerDrill } from './commands/drill.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerErase } from './commands/erase.ts';
import { registerKeys } from './commands/keys.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerRebuild } from './commands/rebuild.ts';
import { registerReplay } from './commands/replay.ts';
import { registerSeal } from './commands/seal.ts';
import { registerSanctions } from './commands/sanctions.ts';
import { registerRestore } from './commands/restore.ts';
import { registerReport } from './commands/report.ts';
import { registerRetention } from './commands/retention.ts';
import { registerServe } from './commands/serve.ts';
import { registerStateAt } from './commands/stateAt.ts';
import { registerSubject } from './commands/subject.ts';
import { registerStatus } from './commands/status.ts';
import { registerVerify } from './commands/verify.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { reportFailure } from './failure.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(run: CliRun): Command {
  const program = new Command('daybook')
    .description('Daybook: an event-sourced financial core. The event log is the source of truth.')
    .version(PACKAGE.version)
    // Set before any subcommand exists: `.command()` copies these settings to each.
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => run.io.stdout.write(text),
      writeErr: (text) => run.io.stderr.write(text),
      // Errors are printed once, as one line, by reportFailure.
      outputError: () => {},
    });
  registerServe(program, run);
  registerMigrate(program, run);
  registerVerify(program, run);
  registerSeal(program, run);
  registerKeys(program, run);
  registerDlq(program, run);
  registerRebuild(program, run);
  registerStateAt(program, run);
  registerReplay(program, run);
  registerBackup(program, run);
  registerRestore(program, run);
  registerDrill(program, run);
  registerArchive(program, run);
  registerRetention(program, run);
  registerBench(program, run);
  registerWebhooks(program, run);
  registerSanctions(program, run);
  registerReport(program, run);
  registerErase(program, run);
  registerSubject(program, run);
  registerStatus(program, run);
  registerAudit(program, run);
  return program;
}

/** Runs one command line (without `node` and the script) and resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const run: CliRun = { io, exitCode: 0 };
  try {
    await buildProgram(run).parseAsync([...args], { from: 'user' });
    return run.exitCode;
  } catch (error) {
    return reportFailure(error, io);
  }
}
