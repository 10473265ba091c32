import { CommanderError } from 'commander';
import { ConfigError, ERROR_TABLE, EXIT, type ExitCode } from '../edge/index.ts';
import { isDaybookError } from '../kernel/index.ts';
import type { CliIo } from './cliIo.ts';

/** A failure of the CLI itself (not of the store), with its sysexits code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * Turns anything a command throws into one line on stderr and a sysexits code:
 * usage errors 64, a bad environment 78, operating errors by ERROR_TABLE, the
 * operating system's refusals (EADDRINUSE, EACCES, …) 69, and anything else (a
 * bug) 70.
 */
export function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    // `daybook` alone: commander has printed the help to stderr already.
    if (error.code === 'commander.help') return EXIT.usage;
    io.stderr.write(`daybook: ${oneLine(error.message.replace(/^error: /, ''))} (see daybook --help)\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    io.stderr.write(`daybook: configuration error: ${oneLine(error.message)}\n`);
    return EXIT.config;
  }
  if (error instanceof CliError) {
    io.stderr.write(`daybook: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  if (isDaybookError(error)) {
    io.stderr.write(`daybook: ${oneLine(error.message)} (${error.code})\n`);
    return ERROR_TABLE[error.code].exit;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isSystemError(error)) {
    // The machine refused (port in use, folder not writable): not a bug, nothing to retry blindly.
    io.stderr.write(`daybook: ${oneLine(message)}\n`);
    return EXIT.unavailable;
  }
  io.stderr.write(`daybook: unexpected error: ${oneLine(message)}\n`);
  return EXIT.software;
}

/** Node's errors from a system call carry `syscall` and an `E…` code. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const candidate = error as { code?: unknown; syscall?: unknown } | null;
  return typeof candidate?.code === 'string' && /^E[A-Z]+$/.test(candidate.code) && typeof candidate.syscall === 'string';
}
