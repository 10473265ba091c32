/**
 * A private PostgreSQL server for tests and crash tests: its own data folder
 * under the temp folder, its own loopback port, durable settings (fsync and
 * synchronous_commit on, so a crash test finds every acknowledged write), and
 * a postmaster that can be killed with any signal and restarted in place.
 *
 * @example
 *   const server = await startPostgresServer();
 *   server.kill('SIGKILL');   // the postmaster itself, not a wrapper
 *   await server.restart();   // same port, same data
 *   await server.stop();      // fast shutdown, data folder removed
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const POSTGRES_INSTALL_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const LOG_TAIL_CHARS = 2_000;
const PORT_ATTEMPTS_MAX = 3;

export type PostgresServer = {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`, trust auth. */
  url: string;
  dataDir: string;
  port: number;
  /** The postmaster's pid, read from `<dataDir>/postmaster.pid`. */
  pid(): number;
  /** Signals the postmaster, e.g. `kill('SIGKILL')` to crash it. */
  kill(signal: NodeJS.Signals): void;
  /** Fast shutdown, then removes the temp folder. */
  stop(): Promise<void>;
  /** Starts again on the same port and data; after a crash, waits for the old backends first. */
  restart(): Promise<void>;
  /** A standby leaves recovery and takes writes (`pg_ctl promote -w`). */
  promote(): Promise<void>;
  /** The folder of the PostgreSQL binaries it runs. */
  binDir: string;
};

export type StartPostgresOptions = {
  port?: number;
  /** More `name=value` settings, after (so overriding) the defaults: e.g. `synchronous_commit=remote_apply`. */
  settings?: readonly string[];
  /**
   * Make this server a streaming standby of `standbyOf` instead of a new
   * cluster: `pg_basebackup -R` (which writes `standby.signal` and
   * `primary_conninfo`) from it, then a hot standby. `name` becomes its
   * `cluster_name`, the application name the primary's
   * `synchronous_standby_names` lists.
   */
  standbyOf?: { server: PostgresServer; name: string };
  /** Outlive this process (scripts/cluster): its own process group, no stop at exit, temp folder kept. */
  detached?: boolean;
};

/** Who runs the binaries: PostgreSQL refuses to run as root, and CI runs as root. */
type RunAs = { uid: number; gid: number } | null;

type Running = { child: ChildProcess; exited: Promise<void>; hasExited(): boolean };

type ServerConfig = {
  settings: readonly string[];
  detached: boolean;
  binDir: string;
  tempRoot: string;
  dataDir: string;
  logPath: string;
  port: number;
  url: string;
  runAs: RunAs;
};

/** The `bin` folder of the highest PostgreSQL version installed, or null. */
export function findPostgresBinDir(): string | null {
  let versions: string[];
  try {
    versions = readdirSync(POSTGRES_INSTALL_ROOT);
  } catch {
    return null;
  }
  const installed = versions.filter((version) =>
    ['initdb', 'postgres'].every((binary) => existsSync(path.join(POSTGRES_INSTALL_ROOT, version, 'bin', binary))),
  );
  installed.sort(compareVersionsDescending);
  const highest = installed[0];
  return highest === undefined ? null : path.join(POSTGRES_INSTALL_ROOT, highest, 'bin');
}

function compareVersionsDescending(a: string, b: string): number {
  const partsA = a.split('.').map(Number);
  const partsB = b.split('.').map(Number);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const difference = (partsB[i] ?? 0) - (partsA[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** A loopback port that was free a moment ago: the OS picks it when we bind port 0. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startPostgresServer(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir();
  if (binDir === null) throw new Error(`no PostgreSQL binaries under ${POSTGRES_INSTALL_ROOT}/*/bin`);
  const runAs = postgresOsUser();
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'daybook-pg-'));
  try {
    const dataDir = await createDataDir(tempRoot, runAs);
    const standby = options.standbyOf;
    const settings = [...(options.settings ?? []), ...(standby ? ['hot_standby=on', `cluster_name=${standby.name}`] : [])];
    const config = (port: number): ServerConfig => ({
      binDir, tempRoot, dataDir, port, runAs, settings, detached: options.detached === true,
      logPath: path.join(tempRoot, 'postgres.log'),
      url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    });
    if (standby) await baseBackup(binDir, dataDir, standby.server, runAs);
    else await initDataDir(binDir, dataDir, runAs);
    if (options.port !== undefined) return await startOn(config(options.port));
    return await startOnFreePort(config);
  } catch (error) {
    await rm(tempRoot, { recursive: true, force: true });
    throw error;
  }
}

/** initdb wants an empty folder, mode 0700, that the server's OS user owns. */
async function createDataDir(tempRoot: string, runAs: RunAs): Promise<string> {
  const dataDir = path.join(tempRoot, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  if (runAs !== null) {
    await chown(tempRoot, runAs.uid, runAs.gid);
    await chown(dataDir, runAs.uid, runAs.gid);
  }
  return dataDir;
}

/** A port found free can be taken before the postmaster binds it; then another one is tried. */
async function startOnFreePort(config: (port: number) => ServerConfig): Promise<PostgresServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(config(await findFreePort()));
    } catch (error) {
      const portTaken = /could not bind|Address already in use|port taken/.test((error as Error).message);
      if (!portTaken || attempt >= PORT_ATTEMPTS_MAX) throw error;
    }
  }
}

async function startOn(config: ServerConfig): Promise<PostgresServer> {
  return controlServer(config, await startWithRetry(config));
}

/** Root must hand the binaries to the `postgres` OS user, which Debian's package creates. */
function postgresOsUser(): RunAs {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, which PostgreSQL refuses, and there is no `postgres` OS user to run it as');
  }
}

async function initDataDir(binDir: string, dataDir: string, runAs: RunAs): Promise<void> {
  // --no-sync only skips initdb's own flush of the fresh cluster; the running server keeps fsync on.
  const args = ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync'];
  try {
    await promisify(execFile)(path.join(binDir, 'initdb'), args, { ...(runAs ?? {}), env: childEnv() });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`initdb failed: ${output.message}\n${output.stderr ?? ''}${output.stdout ?? ''}`);
  }
}

/** A copy of a running primary, set up to stream from it (`-R`); WAL streamed alongside (`-X stream`). */
async function baseBackup(binDir: string, dataDir: string, primary: PostgresServer, runAs: RunAs): Promise<void> {
  const args = ['-D', dataDir, '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-R', '-X', 'stream', '-c', 'fast', '--no-sync'];
  try {
    await promisify(execFile)(path.join(binDir, 'pg_basebackup'), args, { ...(runAs ?? {}), env: childEnv() });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`pg_basebackup failed: ${output.message}\n${output.stderr ?? ''}${output.stdout ?? ''}`);
  }
}

function childEnv(): NodeJS.ProcessEnv {
  // A PG* variable from the caller's shell would point the server or initdb elsewhere.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  return { ...env, LC_ALL: 'C' };
}

function controlServer(config: ServerConfig, first: Running): PostgresServer {
  let running = first;
  // If the test process dies without stop(), do not leave a server running behind it.
  const onExit = () => signalPostmaster(config, 'SIGQUIT');
  if (!config.detached) process.once('exit', onExit);
  return {
    url: config.url,
    dataDir: config.dataDir,
    port: config.port,
    binDir: config.binDir,
    promote: async () => {
      try {
        await promisify(execFile)(path.join(config.binDir, 'pg_ctl'), ['promote', '-w', '-t', '60', '-D', config.dataDir], { ...(config.runAs ?? {}), env: childEnv() });
      } catch (error) {
        const output = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`pg_ctl promote failed: ${output.message}\n${output.stderr ?? ''}${output.stdout ?? ''}`);
      }
    },
    pid: () => postmasterPid(config.dataDir),
    kill: (signal) => process.kill(postmasterPid(config.dataDir), signal),
    restart: async () => {
      await shutDown(config, running);
      running = await startWithRetry(config);
    },
    stop: async () => {
      process.removeListener('exit', onExit);
      await shutDown(config, running);
      await rm(config.tempRoot, { recursive: true, force: true });
    },
  };
}

function postmasterPid(dataDir: string): number {
  const firstLine = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '';
  const pid = Number(firstLine.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${dataDir}/postmaster.pid`);
  return pid;
}

function signalPostmaster(config: ServerConfig, signal: NodeJS.Signals): void {
  try {
    process.kill(postmasterPid(config.dataDir), signal);
  } catch {
    // Already gone, or never wrote its pid file: nothing left to signal.
  }
}

/** Fast shutdown (SIGINT) if it still runs; then waits until no process of it is left. */
async function shutDown(config: ServerConfig, running: Running): Promise<void> {
  if (!running.hasExited()) {
    running.child.kill('SIGINT');
    const exited = await waitFor(() => running.hasExited(), STOP_TIMEOUT_MS);
    if (!exited) running.child.kill('SIGKILL');
    await running.exited;
  }
  // After a SIGKILL of the postmaster its backends live on until they notice;
  // a new postmaster refuses to start while they still hold the old shared memory.
  await waitFor(() => processesInDir(config.dataDir).length === 0, STOP_TIMEOUT_MS);
}

/**
 * Pids whose working folder is `dir`: every PostgreSQL process works in its data
 * folder. Linux only; elsewhere the start retry below covers the wait.
 */
function processesInDir(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry) && cwdOf(entry) === dir).map(Number);
}

function cwdOf(pid: string): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** Starts, retrying while leftovers of a crashed postmaster still block it. */
async function startWithRetry(config: ServerConfig): Promise<Running> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      return await startOnce(config, deadline);
    } catch (error) {
      const blocked = /pre-existing shared memory block|lock file .* already exists/.test((error as Error).message);
      if (!blocked || Date.now() >= deadline) throw error;
      await sleep(POLL_INTERVAL_MS * 2);
    }
  }
}

async function startOnce(config: ServerConfig, deadline: number): Promise<Running> {
  const logOffset = logSize(config.logPath);
  const running = spawnPostmaster(config);
  try {
    await waitUntilAccepting(config.url, config.dataDir, running, deadline);
    return running;
  } catch (error) {
    if (!running.hasExited()) running.child.kill('SIGKILL');
    await running.exited;
    const log = readLog(config.logPath, logOffset).slice(-LOG_TAIL_CHARS);
    throw new Error(`PostgreSQL did not start on port ${config.port}: ${(error as Error).message}\n${log}`);
  }
}

function spawnPostmaster(config: ServerConfig): Running {
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${config.dataDir}`,
    'fsync=on',
    'synchronous_commit=on',
    'max_connections=300',
    'shared_buffers=256MB',
    ...config.settings,
  ];
  const args = ['-D', config.dataDir, '-p', String(config.port), ...settings.flatMap((s) => ['-c', s])];
  // The log goes to a file, not a pipe: a pipe nobody reads would block the server once full.
  const logFd = openSync(config.logPath, 'a');
  const child = spawn(path.join(config.binDir, 'postgres'), args, {
    ...(config.runAs ?? {}),
    env: childEnv(),
    stdio: ['ignore', logFd, logFd],
    detached: config.detached,
  });
  closeSync(logFd);
  if (config.detached) child.unref();
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const markExited = () => { exited = true; resolve(); };
    child.once('exit', markExited);
    child.once('error', markExited);
  });
  return { child, exited: exitedPromise, hasExited: () => exited };
}

/** Ready means that the server answering on our port is ours, not one that already had the port. */
async function waitUntilAccepting(url: string, dataDir: string, running: Running, deadline: number): Promise<void> {
  let lastError = 'no attempt yet';
  while (Date.now() < deadline) {
    if (running.hasExited()) throw new Error('the postmaster exited');
    try {
      if ((await dataDirectoryAt(url)) === dataDir) return;
      // Another server answers on this port: ours will fail to bind and exit.
      lastError = `port taken by another server`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`not accepting connections after ${READY_TIMEOUT_MS} ms (last error: ${lastError})`);
}

async function dataDirectoryAt(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ data_directory: string }>('SHOW data_directory');
    return result.rows[0]?.data_directory ?? '';
  } finally {
    await client.end().catch(() => {});
  }
}

function logSize(logPath: string): number {
  try {
    return statSync(logPath).size;
  } catch {
    return 0;
  }
}

function readLog(logPath: string, fromOffset: number): string {
  try {
    return readFileSync(logPath).subarray(fromOffset).toString('utf8');
  } catch {
    return '';
  }
}

/** Polls `condition` until true or `timeoutMs` passes; says which. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
