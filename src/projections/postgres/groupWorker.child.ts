/**
 * A worker process of the worker-group tests: joins the group of the sample
 * partitioned projection and reports, one line each, `ready` and
 * `owned <partitions as JSON>` whenever its share changes. SIGTERM leaves the
 * group gracefully; SIGKILL is what the takeover test sends.
 *
 * Usage: node --import tsx groupWorker.child.ts <url> <owner> <leaseMs> <heartbeatMs>
 */
import { openEventStore } from '../../eventstore/open.ts';
import { groupStatsProjection } from '../conformance/streamStats.projection.ts';
import { openReadModelStore } from '../readModelStore.ts';
import { ProjectionWorkerGroup } from '../workerGroup.ts';

const [url, owner, leaseMs, heartbeatMs] = process.argv.slice(2);
const store = await openEventStore(url!, { poolSize: 2, subscriptionPollMs: 50 });
const readModels = await openReadModelStore(url!, { poolSize: 3 });
const group = new ProjectionWorkerGroup({
  store, readModels, definition: groupStatsProjection(), owner: owner!, leaseMs: Number(leaseMs), heartbeatMs: Number(heartbeatMs),
  batchSize: 50, idleCheckpointMs: 20,
  onOwnedChange: (owned) => process.stdout.write(`owned ${JSON.stringify(owned)}\n`),
});
await group.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await group.stop();
    await readModels.close();
    await store.close();
    process.exit(0);
  })();
});
