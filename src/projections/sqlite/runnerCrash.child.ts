/**
 * The process the SQLite crash tests kill: it runs the sample projection over
 * a store file and reports `position <checkpoint>` after each commit and
 * `caught-up` once it has reached the head. An event whose data says
 * `{ crash: true }` makes the handler SIGKILL its own process, every time.
 *
 * Usage: node --import tsx runnerCrash.child.ts <store file> <batch size> <max attempts>
 */
import { openEventStore } from '../../eventstore/open.ts';
import { referenceProjection } from '../conformance/streamStats.projection.ts';
import { openReadModelStore } from '../readModelStore.ts';
import { ProjectionRunner } from '../runner.ts';

const [path, batchSize, maxAttempts] = process.argv.slice(2);
const url = `sqlite:${path}`;
const store = await openEventStore(url);
const readModels = await openReadModelStore(url);
const base = referenceProjection();
const definition = {
  ...base,
  async handle(events: Parameters<typeof base.handle>[0], tx: Parameters<typeof base.handle>[1]) {
    await base.handle(events, tx);
    // After the writes, inside the transaction: the worst moment to die.
    if (events.some((event) => (event.data as { crash?: boolean }).crash === true)) process.kill(process.pid, 'SIGKILL');
  },
};
const runner = new ProjectionRunner({ store, readModels, definition, batchSize: Number(batchSize), maxAttempts: Number(maxAttempts), initialBackoffMs: 1 });
runner.onBatchCommitted((batch) => process.stdout.write(`position ${batch.toPosition}\n`));
await runner.start();
const head = await store.headPosition();
await runner.waitForPosition(head, 60_000);
process.stdout.write('caught-up\n');
await runner.stop();
await readModels.close();
await store.close();
