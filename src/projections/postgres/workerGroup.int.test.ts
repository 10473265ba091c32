/**
 * Several worker processes sharing a partitioned projection on PostgreSQL:
 * fair shares through leases, takeover of a SIGKILLed worker's partitions
 * within its lease, a graceful leave handing partitions back at once, a
 * batch rolled back when its lease lapsed, and, through all of it, every
 * event's effect exactly once (the read model equals a replay from zero).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../../test/support/postgres.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { readCheckpoint } from '../catalog.ts';
import { replayedDump, waitFor } from '../conformance/harness.ts';
import { GROUP_PARTITIONS, groupStatsProjection } from '../conformance/streamStats.projection.ts';
import { partitionOf } from '../projection.ts';
import { dumpReadModel, waitForPosition } from '../queries.ts';
import { openReadModelStore, type ReadModelStore } from '../readModelStore.ts';
import { ProjectionWorkerGroup } from '../workerGroup.ts';

const CHILD = fileURLToPath(new URL('./groupWorker.child.ts', import.meta.url));
const ALL = Array.from({ length: GROUP_PARTITIONS }, (_, index) => index);

interface Worker {
  owner: string;
  owned: number[];
  kill(): Promise<void>;
  terminate(): Promise<void>;
}

async function startWorker(url: string, owner: string, leaseMs: number, heartbeatMs: number): Promise<Worker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, url, owner, String(leaseMs), String(heartbeatMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const worker: Worker = {
    owner, owned: [],
    kill: async () => { child.kill('SIGKILL'); await exited; },
    terminate: async () => { child.kill('SIGTERM'); await exited; },
  };
  let stderr = '';
  let buffered = '';
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => { ready = resolve; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') ready();
      if (line.startsWith('owned ')) worker.owned = JSON.parse(line.slice('owned '.length)) as number[];
    }
  });
  await Promise.race([readyPromise, exited.then(() => { throw new Error(`worker ${owner} exited before it was ready: ${stderr}`); })]);
  return worker;
}

/**
 * Slack over a heartbeat for a takeover to show: the heartbeat's own queries,
 * the new runner's start, the report over stdout and the 2 ms poll, on a
 * loaded machine. A takeover a whole lease late still fails.
 */
const TAKEOVER_MARGIN_MS = 600;

/**
 * When a dead worker's leases lapse, on this process's clock: the database
 * says how long they have left (its clock decides), and the answer came
 * between `sentAt` and `receivedAt`.
 */
async function leaseLapse(readModels: ReadModelStore, owner: string): Promise<{ remainingMs: number; atEarliest: number; atLatest: number }> {
  const sentAt = Date.now();
  const [row] = await readModels.read((tx) => tx.query<{ remaining_ms: bigint | number | null }>(
    'SELECT min(expires_at) - (extract(epoch from clock_timestamp()) * 1000)::bigint AS remaining_ms FROM projection_leases WHERE owner = $1', [owner]));
  const receivedAt = Date.now();
  if (row?.remaining_ms === null || row?.remaining_ms === undefined) throw new Error(`worker ${owner} holds no lease`);
  const remainingMs = Number(row.remaining_ms);
  return { remainingMs, atEarliest: sentAt + remainingMs, atLatest: receivedAt + remainingMs };
}

const union = (workers: readonly Worker[]): number[] => [...new Set(workers.flatMap((worker) => worker.owned))].sort((a, b) => a - b);

describeIfConcurrentPostgres('projection worker group (PostgreSQL, several processes)', () => {
  let database: TestDatabase;
  let store: EventStore;
  let readModels: ReadModelStore;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(async () => { await database?.drop(); });

  beforeEach(async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('DROP SCHEMA IF EXISTS daybook CASCADE');
    await client.end();
    store = await openEventStore(database.url, { subscriptionPollMs: 50 });
    readModels = await openReadModelStore(database.url);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await readModels.close();
    await store.close();
  });

  it('three processes share the partitions; a SIGKILLed one is taken over within its lease, and no effect is applied twice', async () => {
    const leaseMs = 2000;
    const heartbeatMs = 200;
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((owner) => startWorker(database.url, owner, leaseMs, heartbeatMs)));
    cleanups.push(async () => { await Promise.all(workers.map((worker) => worker.kill())); });
    await waitFor(() => union(workers).length === GROUP_PARTITIONS && workers.every((worker) => worker.owned.length === 2), 20_000, 'a fair share each');

    let appending = true;
    let appended = 0;
    const appender = (async () => {
      while (appending) {
        await store.append({ streamId: `acct-${appended % 40}`, events: [{ type: 'Deposited', data: { n: appended } }, { type: 'Noted', data: {} }] });
        appended += 1;
      }
    })();
    await waitFor(() => appended > 150, 20_000, 'appends under way');

    const [victim, ...survivors] = workers as [Worker, ...Worker[]];
    const orphaned = [...victim.owned];
    const killedAt = Date.now();
    await victim.kill();
    const lapse = await leaseLapse(readModels, victim.owner);
    expect(lapse.remainingMs).toBeGreaterThan(0);
    expect(lapse.remainingMs).toBeLessThanOrEqual(leaseMs);
    // Not before the victim's lease lapses: no survivor may report one of its partitions earlier.
    let takenEarly: string | null = null;
    await waitFor(() => {
      const taken = union(survivors).filter((partition) => orphaned.includes(partition));
      if (taken.length > 0 && Date.now() < lapse.atEarliest) takenEarly ??= `partitions ${taken.join(', ')} taken ${lapse.atEarliest - Date.now()} ms before the lease lapsed`;
      return union(survivors).length === GROUP_PARTITIONS;
    }, 10_000, `takeover of partitions ${orphaned.join(', ')}`);
    const takenAt = Date.now();
    expect(takenEarly).toBeNull();
    // Within the lease: it lapses at most leaseMs after the kill, and each survivor takes its part at its next heartbeat.
    expect(takenAt - lapse.atLatest).toBeLessThanOrEqual(heartbeatMs + TAKEOVER_MARGIN_MS);
    expect(takenAt - killedAt).toBeLessThanOrEqual(leaseMs + heartbeatMs + TAKEOVER_MARGIN_MS);
    console.log(`takeover of ${orphaned.length} partitions after SIGKILL: ${takenAt - killedAt} ms, ${takenAt - lapse.atLatest} ms after the lease lapsed (lease ${leaseMs} ms, heartbeat ${heartbeatMs} ms)`);
    await waitFor(() => appended > 400, 20_000, 'appends after the takeover');
    appending = false;
    await appender;

    const head = await store.headPosition();
    await waitForPosition(readModels, 'group_stats', head, 30_000);
    expect(await dumpReadModel(readModels, groupStatsProjection())).toBe(await replayedDump(store, groupStatsProjection(), head));

    // A graceful leave hands its partitions back at once, without waiting for the lease to lapse.
    const [leaving, staying] = survivors as [Worker, Worker];
    await leaving.terminate();
    await waitFor(() => staying.owned.length === GROUP_PARTITIONS, leaseMs - heartbeatMs, 'the last worker holding everything before a lease could lapse');
    const more = (await store.append({ streamId: 'acct-7', events: [{ type: 'Deposited', data: {} }] })).position;
    await waitForPosition(readModels, 'group_stats', more, 10_000);
    expect(await dumpReadModel(readModels, groupStatsProjection())).toBe(await replayedDump(store, groupStatsProjection(), more));
    await staying.terminate();
    expect(await readModels.read((tx) => tx.query('SELECT * FROM projection_leases'))).toEqual([]);
  });

  it('a worker whose lease lapsed rolls its batch back and gives the partition up; the next holder applies it once', async () => {
    const definition = groupStatsProjection();
    // Heartbeats far apart: nothing extends or retakes a lease during the test unless it says so.
    const a = new ProjectionWorkerGroup({ store, readModels, definition, owner: 'a', leaseMs: 120_000, heartbeatMs: 60_000, idleCheckpointMs: 10 });
    cleanups.push(() => a.stop());
    await a.start();
    expect(a.owned()).toEqual(ALL);
    const streamId = 'acct-lapsed';
    const partition = partitionOf(streamId, GROUP_PARTITIONS);
    const first = (await store.append({ streamId, events: [{ type: 'Deposited', data: {} }] })).position;
    await waitForPosition(readModels, 'group_stats', first, 10_000);

    // As if a's process had stalled past its lease: the leases lapse and its membership is gone.
    await readModels.transaction(async (tx) => {
      await tx.execute("UPDATE projection_leases SET expires_at = 0 WHERE owner = 'a'");
      await tx.execute("DELETE FROM projection_workers WHERE owner = 'a'");
    });
    const second = (await store.append({ streamId, events: [{ type: 'Deposited', data: {} }] })).position;
    const runner = a.runnersHere().find((candidate) => candidate.partition === partition)!;
    await waitFor(() => runner.state === 'stopped', 10_000, 'the runner gave the partition up');
    expect((await runner.status()).failure).toMatchObject({ code: 'projection_lease_lost' });
    expect(await readModels.read((tx) => readCheckpoint(tx, 'group_stats', 1, partition))).toBeLessThan(second);

    const b = new ProjectionWorkerGroup({ store, readModels, definition, owner: 'b', leaseMs: 120_000, heartbeatMs: 60_000, idleCheckpointMs: 10 });
    cleanups.push(() => b.stop());
    await b.start();
    expect(b.owned()).toEqual(ALL);
    await waitForPosition(readModels, 'group_stats', second, 10_000);
    expect(await dumpReadModel(readModels, definition)).toBe(await replayedDump(store, groupStatsProjection(), second));
  });
});
