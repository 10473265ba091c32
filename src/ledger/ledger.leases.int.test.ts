/**
 * Partition ownership through leases on PostgreSQL: a second engine on an
 * owned partition refuses commands with `ledger_partition_not_owned` (or
 * fails to open without `standby`), still serves fresh reads, and takes the
 * partition over once the owner's lease lapses: after a graceful close at
 * its next heartbeat, after a SIGKILL of the owning process once the lease
 * expired (never before: the takeover time is checked against the killed
 * owner's expiry by the database's clock). Writes after a takeover build on
 * everything the old owner wrote.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { isDaybookError } from '../kernel/errors.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { PostgresPartitionLeases } from './ledger.leases.ts';
import { LedgerEngine } from './ledger.service.ts';
import { bankToAlice, waitUntil } from './ledger.testkit.ts';

const CHILD = fileURLToPath(new URL('./ledgerOwner.child.ts', import.meta.url));



async function startOwner(url: string, partition: string, owner: string, leaseMs: number, heartbeatMs: number): Promise<{ kill(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, url, partition, owner, String(leaseMs), String(heartbeatMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(); });
  });
  await Promise.race([ready, exited.then(() => { throw new Error(`owner ${owner} exited before it was ready: ${stderr}`); })]);
  return { kill: async () => { child.kill('SIGKILL'); await exited; } };
}

describeIfConcurrentPostgres('ledger partition leases (PostgreSQL, several processes)', () => {
  let database: TestDatabase;
  let store: EventStore;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openEventStore(database.url, { poolSize: 3 });
  });
  afterAll(async () => { await store?.close(); await database?.drop(); });
  afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); });

  async function leasesFor(owner: string, leaseMs = 5000, heartbeatMs = 100): Promise<PostgresPartitionLeases> {
    const leases = await PostgresPartitionLeases.open({ url: database.url, owner, leaseMs, heartbeatMs });
    cleanups.push(() => leases.close());
    return leases;
  }

  async function engine(leases: PostgresPartitionLeases, partition: string, standby = false): Promise<LedgerEngine> {
    const opened = await LedgerEngine.open(store, { partition, lease: leases.lease(partition), standby });
    cleanups.push(() => opened.close());
    return opened;
  }

  it('a second engine refuses commands with ledger_partition_not_owned, naming the owner; the owner\'s close hands the partition over', async () => {
    const owner = await engine(await leasesFor('owner-a', 5000, 100), 'graceful');
    const standbyLeases = await leasesFor('owner-b', 5000, 100);
    await expect(LedgerEngine.open(store, { partition: 'graceful', lease: standbyLeases.lease('graceful') }))
      .rejects.toMatchObject({ code: 'ledger_partition_not_owned', details: { owner: 'owner-a' } });
    const standby = await engine(standbyLeases, 'graceful', true);
    expect(owner.ownsPartition).toBe(true);
    expect(standby.ownsPartition).toBe(false);
    await owner.executeAll(['bank', 'alice'].map((accountId) => ({ type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const } })));
    expect((await owner.execute(bankToAlice('g1', 3n))).ok).toBe(true);
    const refused = await standby.execute(bankToAlice('g2', 4n)).catch((error: unknown) => error);
    expect(isDaybookError(refused, 'ledger_partition_not_owned')).toBe(true);
    expect(refused).toMatchObject({ details: { owner: 'owner-a' } });
    await standby.catchUp();
    expect(standby.state.account('alice')!.balances.creditsPosted).toBe(3n);
    // A graceful close releases the lease: the standby need not wait the 5 s lease out.
    await owner.close();
    await waitUntil('the standby to take the partition', () => standby.ownsPartition);
    expect((await standby.execute(bankToAlice('g2', 4n))).ok).toBe(true);
    expect(standby.state.account('alice')!.balances.creditsPosted).toBe(7n);
    expect(await store.streamVersion(standby.streamId)).toBe(4n);
  });

  it('a SIGKILLed owner process\'s partition is taken over once its lease lapsed, and the new owner writes on top of its events', async () => {
    // Long enough that a starved (shared) machine does not let the live child's lease lapse before the kill.
    const leaseMs = 5000;
    const child = await startOwner(database.url, 'killed', 'child-owner', leaseMs, 100);
    let killed = false;
    cleanups.push(async () => { if (!killed) await child.kill(); });
    const standby = await engine(await leasesFor('survivor', leaseMs, 100), 'killed', true);
    expect(standby.ownsPartition).toBe(false);
    expect(standby.leaseHolder).toMatchObject({ held: false, owner: 'child-owner' });
    await expect(standby.execute(bankToAlice('s1', 1n))).rejects.toMatchObject({ code: 'ledger_partition_not_owned' });
    await child.kill();
    killed = true;
    // The child's last heartbeat set this expiry; the takeover may not come before it.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    cleanups.push(() => client.end());
    const before = await client.query<{ owner: string; expires_at: string }>("SELECT owner, expires_at::text FROM daybook.ledger_leases WHERE partition = 'killed'");
    const lastExpiry = before.rows[0]!.owner === 'child-owner' ? Number(before.rows[0]!.expires_at) : null;
    await waitUntil('the survivor to take the partition over', () => standby.ownsPartition);
    const after = await client.query<{ owner: string; acquired_at: string }>("SELECT owner, acquired_at::text FROM daybook.ledger_leases WHERE partition = 'killed'");
    expect(after.rows[0]!.owner).toBe('survivor');
    if (lastExpiry !== null) expect(Number(after.rows[0]!.acquired_at)).toBeGreaterThanOrEqual(lastExpiry);
    const outcome = await standby.execute(bankToAlice('s1', 10n));
    expect(outcome.ok).toBe(true);
    expect(standby.state.account('alice')!.balances.creditsPosted).toBe(35n);
    expect(standby.state.transfer('child-1')).toMatchObject({ status: 'applied', amountMinor: 25n });
    expect(await store.streamVersion(standby.streamId)).toBe(4n);
  });

  it('an owner whose lease was taken from it refuses new commands; the store would refuse its stale writes anyway', async () => {
    const owner = await engine(await leasesFor('slow-owner', 5000, 100), 'stolen');
    await owner.executeAll(['bank', 'alice'].map((accountId) => ({ type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const } })));
    // As if the owner had paused past its lease: another process holds the row now, far into the future.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    cleanups.push(() => client.end());
    await client.query("UPDATE daybook.ledger_leases SET owner = 'thief', expires_at = expires_at + 600000 WHERE partition = 'stolen'");
    await waitUntil('the owner to notice it lost the lease', () => !owner.ownsPartition);
    await expect(owner.execute(bankToAlice('late', 1n))).rejects.toMatchObject({ code: 'ledger_partition_not_owned', details: { owner: 'thief' } });
    expect(await store.streamVersion(owner.streamId)).toBe(2n);
  });
});
