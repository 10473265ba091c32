import type { Env } from '../edge/index.ts';

/** What a command may touch of the outside world; tests and the launcher pass the real process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Env;
}

/** Shared by the commands of one run: an action that wants a non-zero exit without an error sets it. */
export interface CliRun {
  io: CliIo;
  exitCode: number;
}
