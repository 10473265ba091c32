/**
 * `node bin/daybook.js …` as a child process for e2e tests: started, its
 * output collected, resolved once a line matches (e.g. the listening line),
 * and killed by the caller (SIGKILL for crash tests) or by `killAll` after the
 * file.
 *
 * @example
 * const api = await spawnDaybook(['serve', '--role', 'api'], env, /^Daybook listening on (\S+)/m);
 * await fetch(`${api.match[1]}/readyz`);
 * api.child.kill('SIGKILL');
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const DAYBOOK_BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface DaybookProcess {
  child: ChildProcess;
  /** The match of the awaited line. */
  match: RegExpExecArray;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal) once it exits. */
  exited: Promise<number | NodeJS.Signals | null>;
}

const started: ChildProcess[] = [];

export function spawnDaybook(args: readonly string[], env: NodeJS.ProcessEnv, waitFor: RegExp): Promise<DaybookProcess> {
  const child = spawn(process.execPath, [DAYBOOK_BIN, ...args], { cwd: tmpdir(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daybook ${args.join(' ')}: no line matching ${waitFor} within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const look = (): void => {
      const match = waitFor.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output, exited });
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); look(); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); look(); });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`daybook ${args.join(' ')} exited with ${code}:\n${output}`)); });
  });
}

/** Runs a daybook command to its end: exit code and output. */
export function runDaybook(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [DAYBOOK_BIN, ...args], { cwd: tmpdir(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** SIGKILLs every child still running (for afterAll). */
export function killAllDaybooks(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Polls `check` until it is true; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs `daybook <args>` to its end (synchronously) in `cwd`, with `env` over
 * this process's environment: what the CLI end-to-end tests assert on.
 */
export function runDaybookSync(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [DAYBOOK_BIN, ...args], { cwd: options.cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...options.env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
