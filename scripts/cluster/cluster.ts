/**
 * A local Daybook cluster, no containers: a PostgreSQL primary and a
 * synchronous streaming standby (Debian's binaries: initdb, pg_basebackup -R,
 * `synchronous_standby_names`, `synchronous_commit=remote_apply`) in temp
 * folders on loopback ports, then two `api` processes (the first reading
 * from the standby through DAYBOOK_READ_DATABASE_URL) and two `projections`
 * processes. Everything runs detached; the state (pids, folders, urls) is in
 * the cluster folder's `cluster.json`.
 *
 *   npx tsx scripts/cluster/cluster.ts start [--dir <folder>]   # prints the urls
 *   npx tsx scripts/cluster/cluster.ts status [--dir <folder>]
 *   npx tsx scripts/cluster/cluster.ts stop [--dir <folder>] [--keep]
 *
 * The default folder is $TMPDIR/daybook-cluster. `start.sh` and `stop.sh` beside this file run it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startReplicatedPostgres } from '../../test/support/postgresCluster.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

interface ClusterState {
  dir: string;
  adminKey: string;
  primary: { url: string; dataDir: string; pid: number };
  standby: { url: string; dataDir: string; pid: number };
  databaseUrl: string;
  readDatabaseUrl: string;
  processes: Array<{ role: 'api' | 'projections'; pid: number; url: string; stripeUrl?: string; log: string }>;
}

function statePath(dir: string): string {
  return path.join(dir, 'cluster.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `daybook serve` detached, its output in `log`; resolves once it prints `waitFor`. */
async function startDaybook(role: 'api' | 'projections', env: NodeJS.ProcessEnv, log: string, waitFor: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [BIN, 'serve', '--role', role], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true });
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const match = waitFor.exec(readFileSync(log, 'utf8'));
    if (match) return { child, match };
    if (child.exitCode !== null) throw new Error(`daybook serve --role ${role} exited with ${child.exitCode}; see ${log}`);
    if (Date.now() > deadline) throw new Error(`daybook serve --role ${role} did not start within ${START_TIMEOUT_MS} ms; see ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function start(dir: string): Promise<void> {
  if (existsSync(statePath(dir))) throw new Error(`a cluster is already described in ${statePath(dir)}: stop it first`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const postgres = await startReplicatedPostgres({ detached: true });
  const databaseUrl = await postgres.createDatabase('daybook');
  const readDatabaseUrl = postgres.onStandby(databaseUrl);
  const adminKey = `sk_test_cluster${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  const state: ClusterState = {
    dir, adminKey, databaseUrl, readDatabaseUrl, processes: [],
    primary: { url: postgres.primary.url, dataDir: postgres.primary.dataDir, pid: postgres.primary.pid() },
    standby: { url: postgres.standby.url, dataDir: postgres.standby.dataDir, pid: postgres.standby.pid() },
  };
  const common = (name: string): NodeJS.ProcessEnv => ({
    PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: path.join(dir, name), DAYBOOK_DATABASE_URL: databaseUrl, DAYBOOK_API_KEY: adminKey,
    DAYBOOK_API_KEY_PEPPER: 'cluster-pepper-'.padEnd(40, 'x'), DAYBOOK_AUDIT_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'info',
  });
  try {
    for (const [index, name] of ['api-1', 'api-2'].entries()) {
      const env = { ...common(name), ...(index === 0 ? { DAYBOOK_READ_DATABASE_URL: readDatabaseUrl } : {}) };
      const log = path.join(dir, `${name}.log`);
      const { child, match } = await startDaybook('api', env, log, /^Daybook listening on (\S+) .*\nStripe-compatible API listening on (\S+)$/m);
      state.processes.push({ role: 'api', pid: child.pid!, url: match[1]!, stripeUrl: match[2]!, log });
      writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
    }
    for (const name of ['projections-1', 'projections-2']) {
      const log = path.join(dir, `${name}.log`);
      const { child, match } = await startDaybook('projections', { ...common(name), DAYBOOK_HEALTH_PORT: '0' }, log, /^Health and metrics on (\S+)$/m);
      state.processes.push({ role: 'projections', pid: child.pid!, url: match[1]!, log });
      writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
    }
  } catch (error) {
    writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
    console.error(`start failed: ${(error as Error).message}\nstopping what started…`);
    await stop(dir, false);
    throw error;
  }
  printState(state);
}

function printState(state: ClusterState): void {
  const lines = [
    `PostgreSQL primary  ${state.databaseUrl}  (pid ${state.primary.pid}, ${alive(state.primary.pid) ? 'up' : 'DOWN'})`,
    `PostgreSQL standby  ${state.readDatabaseUrl}  (pid ${state.standby.pid}, synchronous, remote_apply; ${alive(state.standby.pid) ? 'up' : 'DOWN'})`,
    ...state.processes.map((p) => `${p.role.padEnd(11)} ${p.url}${p.stripeUrl ? `  stripe ${p.stripeUrl}` : '  (health and metrics)'}  pid ${p.pid} ${alive(p.pid) ? 'up' : 'DOWN'}  log ${p.log}`),
    `admin key (test mode): ${state.adminKey}`,
    `status: DAYBOOK_DATABASE_URL=${state.databaseUrl} DAYBOOK_READ_DATABASE_URL=${state.readDatabaseUrl} npx daybook status`,
    `stop:   scripts/cluster/stop.sh --dir ${state.dir}`,
  ];
  console.log(lines.join('\n'));
}

async function waitGone(pids: number[]): Promise<number[]> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(alive);
}

async function stop(dir: string, keep: boolean): Promise<void> {
  if (!existsSync(statePath(dir))) throw new Error(`no cluster described in ${statePath(dir)}`);
  const state = JSON.parse(readFileSync(statePath(dir), 'utf8')) as ClusterState;
  const signal = (pid: number, name: NodeJS.Signals): void => { if (alive(pid)) process.kill(pid, name); };
  // Daybook first (graceful: batches in flight commit, leases handed back), then the standby and the primary (fast shutdown).
  for (const p of state.processes) signal(p.pid, 'SIGTERM');
  for (const pid of await waitGone(state.processes.map((p) => p.pid))) signal(pid, 'SIGKILL');
  for (const pid of [state.standby.pid, state.primary.pid]) signal(pid, 'SIGINT');
  for (const pid of await waitGone([state.standby.pid, state.primary.pid])) signal(pid, 'SIGQUIT');
  rmSync(statePath(dir), { force: true });
  if (!keep) {
    for (const dataDir of [state.primary.dataDir, state.standby.dataDir]) rmSync(path.dirname(dataDir), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`stopped${keep ? ` (logs kept in ${dir})` : ''}`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const dir = path.resolve(values.dir ?? path.join(tmpdir(), 'daybook-cluster'));
  switch (positionals[0]) {
    case 'start': await start(dir); return 0;
    case 'stop': await stop(dir, values.keep ?? false); return 0;
    case 'status': {
      if (!existsSync(statePath(dir))) throw new Error(`no cluster described in ${statePath(dir)}`);
      printState(JSON.parse(readFileSync(statePath(dir), 'utf8')) as ClusterState);
      return 0;
    }
    default:
      console.error('usage: cluster.ts start|status|stop [--dir <folder>] [--keep]');
      return 64;
  }
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(`cluster: ${(error as Error).message}`);
  process.exitCode = 1;
});
