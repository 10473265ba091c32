/**
 * `daybook backup | restore | drill` as the real binary, beside a process that
 * keeps writing to the store: an online backup, a restore to a position that
 * `daybook verify` accepts, the refusals with their exit codes, a backup that
 * runs out of space (a file size limit) leaving nothing behind and the live
 * store untouched, drills that pass and fail, `backup --continuous` shipping
 * until SIGTERM, and `restore --database-url` cutting PostgreSQL only with --yes.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../../test/support/postgres.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { openTempStore, type TempStore } from '../../ops/opsTestkit.ts';

const BIN = fileURLToPath(new URL('../../../bin/daybook.js', import.meta.url));
let live: TempStore;
let other: TempStore;

interface Result { status: number; stdout: string; stderr: string }

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: live.dir, timeout: 120_000, env: { ...process.env, DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: join(live.dir, 'live'), ...env } },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
  });
}
const daybook = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [BIN, ...args], env);

/** Appends in the background until stopped; any append error fails the test. */
function keepWriting(store: TempStore): { stop(): Promise<number> } {
  let writing = true;
  let appended = 0;
  const loop = (async () => {
    while (writing) {
      await store.store.append({ streamId: `busy-${appended % 3}`, events: [{ type: 'Busy', data: { appended } }] });
      appended += 1;
    }
  })();
  return { async stop() { writing = false; await loop; return appended; } };
}

beforeAll(async () => {
  live = await openTempStore();
  await live.fill(20_000, 200);
  other = await openTempStore();
  await other.fill(20_000, 200);
});

afterAll(async () => {
  await live?.cleanup();
  await other?.cleanup();
});

describe('backup and restore beside a writer', () => {
  let backup: string;

  it('backs up online while the store is written, and reports what it copied', async () => {
    const writer = keepWriting(live);
    backup = join(live.dir, 'backups', 'first.db');
    const result = await daybook(['backup', backup]);
    await writer.stop();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^backup: .*first\.db\n {2}bytes: \d+ .*\n {2}events: \d+, head position \d+, head hash [0-9a-f]{64}\n/);
    expect(result.stdout).toMatch(/MB\/s/);
    expect(readdirSync(join(live.dir, 'backups')).sort()).toEqual(['first.db', 'first.db.manifest.json']);
  });

  it('restores to a position into a new folder that daybook verify accepts', async () => {
    const target = join(live.dir, 'restored');
    const result = await daybook(['restore', backup, '--data', target, '--to-position', '12345']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('head: position 12345');
    expect(result.stdout).toMatch(/projections rebuilt: banking_read_model, ledger_balances, payments_objects, payments_events/);
    const verify = await daybook(['verify', '--database-url', `sqlite:${join(target, 'daybook.db')}`]);
    expect(verify.status).toBe(0);
    expect(verify.stdout.split('\n')[0]).toBe('ok: 12345 events in 7 streams');
  });

  it('refuses a folder that is not empty (exit 73), a position past the head (65), and a truncated backup (65)', async () => {
    const full = await daybook(['restore', backup, '--data', join(live.dir, 'live')]);
    expect(full.status).toBe(73);
    expect(full.stderr).toMatch(/is not empty: restore into a new or empty folder \(restore_target_not_empty\)/);

    const past = await daybook(['restore', backup, '--data', join(live.dir, 'r2'), '--to-position', '99999999']);
    expect(past.status).toBe(65);
    expect(past.stderr).toMatch(/position 99999999 is past the backup's head \d+/);

    const copy = join(live.dir, 'backups', 'cut.db');
    copyFileSync(backup, copy);
    copyFileSync(`${backup}.manifest.json`, `${copy}.manifest.json`);
    truncateSync(copy, 4096 * 3);
    const truncated = await daybook(['restore', copy, '--data', join(live.dir, 'r3')]);
    expect(truncated.status).toBe(65);
    expect(truncated.stderr).toMatch(/does not match its manifest's sha256 \(truncated: 12288 bytes/);
    expect(['r2', 'r3'].filter((name) => existsSync(join(live.dir, name)))).toEqual([]);
  });

  it('refuses bad points as usage errors', async () => {
    expect((await daybook(['restore', backup, '--data', join(live.dir, 'r4'), '--to-time', 'yesterday'])).status).toBe(64);
    expect((await daybook(['restore', backup, '--data', join(live.dir, 'r4'), '--to-position', '-3'])).status).toBe(64);
    expect((await daybook(['restore', backup])).status).toBe(64);
  });
});

describe('a backup that runs out of space', () => {
  it('fails with a clear message, leaves no file, and the live store goes on', async () => {
    const dir = join(live.dir, 'small');
    mkdirSync(dir);
    const file = join(dir, 'full.db');
    const writer = keepWriting(live);
    // ulimit -f (1 KiB blocks in bash): writes past 512 KiB fail with EFBIG (Node ignores SIGXFSZ).
    const result = await run('bash', ['-c', `ulimit -f 512 && exec "${process.execPath}" "${BIN}" backup "${file}"`]);
    const appended = await writer.stop();
    expect(result.status).toBe(74);
    expect(result.stderr).toMatch(/backup to .*full\.db failed: (no space left for it|could not write the copy \(SQLite: disk I\/O error\): is the disk full, or a file size limit \(ulimit -f\) reached\?); nothing was left behind and the live store is untouched \(backup_failed\)/);
    expect(readdirSync(dir)).toEqual([]);
    expect(appended).toBeGreaterThan(0);
    expect((await live.store.verify()).ok).toBe(true);
  });
});

describe('drill', () => {
  it('passes for a backup of the live store, by --dir (the newest backup there)', async () => {
    const dir = join(live.dir, 'drill-backups');
    expect((await daybook(['backup', join(dir, 'a.db')])).status).toBe(0);
    await live.fill(100);
    expect((await daybook(['backup', join(dir, 'b.db')])).status).toBe(0);
    await live.fill(100);
    const result = await daybook(['drill', '--dir', dir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^drill ok: .*b\.db\n/);
  });

  it('fails (exit 65) when the live store disagrees with the backup', async () => {
    // A backup of another store of the same shape: the live store has an event at its head position, with another hash.
    const file = join(other.dir, 'other.db');
    expect((await daybook(['backup', file, '--database-url', other.url])).status).toBe(0);
    const result = await daybook(['drill', '--backup', file]);
    expect(result.status).toBe(65);
    expect(result.stdout).toMatch(/^drill FAILED/);
    expect(result.stderr).toMatch(/drill failed: the event at position 20000 differs: backup hash [0-9a-f]{64}, live hash [0-9a-f]{64} \(backup_mismatch\)/);
  });

  it('fails (exit 65) when the live store is behind the backup', async () => {
    const result = await daybook(['drill', '--backup', join(live.dir, 'drill-backups', 'b.db'), '--database-url', other.url]);
    expect(result.status).toBe(65);
    expect(result.stderr).toMatch(/drill failed: the live store has no event at the backup's head position \d+ \(its head is 20000\) \(backup_mismatch\)/);
  });

  it('fails (exit 65) for a tampered backup', async () => {
    const file = join(live.dir, 'drill-backups', 'a.db');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('tampered'), 0, 8, Math.floor(statSync(file).size / 2));
    closeSync(fd);
    const result = await daybook(['drill', '--backup', file]);
    expect(result.status).toBe(65);
    expect(result.stderr).toMatch(/does not match its manifest's sha256 .*\(backup_invalid\)/);
  });
});

describe('backup --continuous', () => {
  it('ships the log while it is written, and stops on SIGTERM saying how far it shipped', async () => {
    const dir = join(live.dir, 'ship');
    const child = spawn(process.execPath, [BIN, 'backup', '--continuous', dir, '--poll-ms', '20'], {
      cwd: live.dir, env: { ...process.env, DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: join(live.dir, 'live') },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await live.fill(500);
    const head = await live.store.headPosition();
    const shippedThrough = (): bigint => {
      if (!existsSync(dir)) return 0n;
      const lines = readdirSync(dir).sort().flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));
      return lines.length === 0 ? 0n : BigInt((JSON.parse(lines[lines.length - 1]!) as { position: string }).position);
    };
    for (let waited = 0; shippedThrough() < head && waited < 60_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(shippedThrough()).toBe(head);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toBe(`stopped: shipped through position ${head} to ${dir}\n`);
  });
});

describeIfPostgres('restore --database-url on PostgreSQL', () => {
  it('cuts in place only with --yes, and never prints the password', async () => {
    const db = await createTestDatabase();
    try {
      const store = await openEventStore(db.url);
      for (let i = 0; i < 10; i += 1) await store.append({ streamId: `acct-${i % 3}`, events: [{ type: 'Counted', data: { i } }] });
      await store.close();
      const unconfirmed = await daybook(['restore', '--database-url', db.url, '--to-position', '4']);
      expect(unconfirmed.status).toBe(64);
      expect(unconfirmed.stderr).toMatch(/deletes every event after the restore point .* run again with --yes/);
      const cut = await daybook(['restore', '--database-url', db.url, '--to-position', '4', '--yes']);
      expect(cut.stderr).toBe('');
      expect(cut.status).toBe(0);
      expect(cut.stdout).toMatch(/events kept: 4, cut: 6/);
      const password = new URL(db.url).password;
      if (password) expect(cut.stdout).not.toContain(password);
      const verify = await daybook(['verify', '--database-url', db.url]);
      expect(verify.status).toBe(0);
      expect(verify.stdout.split('\n')[0]).toBe('ok: 4 events in 3 streams');
    } finally {
      await db.drop();
    }
  });
});
