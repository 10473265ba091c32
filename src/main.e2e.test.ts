/**
 * The real server process, as `npm start` runs it (`node bin/daybook.js serve`):
 * it prints where it listens, answers /healthz and /readyz over real HTTP
 * (with the built-in projections it runs, also on /metrics),
 * refuses a second writer on the same data folder, and stops cleanly on
 * SIGTERM with exit 0. The admin key made on a fresh store is printed on
 * stderr, never on stdout, where the JSON logs go.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/daybook.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

let dataDir: string;
let server: ChildProcess;
let baseUrl: string;
let output = '';
/** Each stream on its own too: the JSON logs go to stdout, the bootstrap key to stderr only. */
let stdout = '';
let stderr = '';

function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_DATABASE_URL: '', LOG_LEVEL: 'info' };
}

/** Resolves with the url from the "Daybook listening on …" line; rejects if the process exits or the bound passes first. */
function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      stdout += chunk.toString('utf8');
      const match = /^Daybook listening on (http:\/\/\S+) \(store: (sqlite:\S+)\)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      stderr += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}

function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server still running ${STOP_TIMEOUT_MS} ms after SIGTERM:\n${output}`)), STOP_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'daybook-main-'));
  server = spawn(process.execPath, [BIN, 'serve'], { cwd: tmpdir(), env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  baseUrl = await waitForListening(server);
});

afterAll(async () => {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGKILL');
    await waitForExit(server);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('daybook serve', () => {
  it('prints the store as an absolute sqlite path in the data folder', () => {
    expect(output).toContain(`(store: sqlite:${join(dataDir, 'daybook.db')})`);
  });

  it('answers /healthz and /readyz over HTTP', async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready', store: { backend: 'sqlite' },
      projections: [{ name: 'banking_read_model', ready: true }, { name: 'ledger_balances', ready: true }, { name: 'payments_objects', ready: true }, { name: 'payments_events', ready: true }, { name: 'aml_monitor', ready: true }, { name: 'subject_index', ready: true }],
    });
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    // The bootstrap admin key and the banking system accounts are written at start.
    expect(metrics).toMatch(/^daybook_eventstore_head_position [1-9]\d*$/m);
    // The server runs the built-in projections.
    expect(metrics).toMatch(/^daybook_projection_checkpoint_position\{projection="ledger_balances",partition="0"\} \d+$/m);
    expect(metrics).toMatch(/^daybook_projection_ready\{projection="banking_read_model",partition="0"\} 1$/m);
  });

  it('prints the Stripe-compatible listener too, which answers with Stripe error objects', async () => {
    const match = /^Stripe-compatible API listening on (http:\/\/\S+)$/m.exec(stdout);
    expect(match).not.toBeNull();
    const answer = await fetch(`${match![1]}/v1/balance`);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
  });

  it('prints a generated admin key once, on stderr and never in the stdout log stream, and it works', async () => {
    const secret = /^Admin API key \(test mode\), shown once, store it now: (sk_test_\S+)$/m.exec(stderr)?.[1];
    expect(secret).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(output.split(secret!).length).toBe(2);
    expect(stdout).not.toContain(secret!.slice('sk_test_'.length));
    const accounts = await fetch(`${baseUrl}/v1/accounts`, { headers: { authorization: `Bearer ${secret}` } });
    expect(accounts.status).toBe(200);
    expect((await fetch(`${baseUrl}/v1/accounts`)).status).toBe(401);
  });

  it('refuses a second server on the same data folder with one line and exit 75', () => {
    const second = spawnSync(process.execPath, [BIN, 'serve'], { cwd: tmpdir(), env: serverEnv(), encoding: 'utf8', timeout: START_TIMEOUT_MS });
    expect(second.status).toBe(75);
    expect(second.stderr.trim().split('\n')).toEqual([expect.stringContaining('store_locked')]);
  });

  it('stops on SIGTERM with exit 0', async () => {
    server.kill('SIGTERM');
    const { code } = await waitForExit(server);
    expect(code).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
  });
});
