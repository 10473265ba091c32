/**
 * The process the relay crash test kills: it runs a relay of every event of
 * the store to an HTTP receiver, and prints `caught-up` once its checkpoint
 * has reached the head (then stops cleanly and exits 0).
 *
 * Usage: DAYBOOK_RELAY_SECRET=… node --import tsx relayCrash.child.ts <store url> <receiver url> <batch size>
 * (the secret in the environment, not the arguments, which `ps` shows).
 */
import { openEventStore } from '../eventstore/open.ts';
import { openReadModelStore } from './readModelStore.ts';
import { defineRelay } from './relay.ts';
import { createHttpDeliverer } from './relayHttp.ts';
import { ProjectionRunner } from './runner.ts';

const [url, receiverUrl, batchSize] = process.argv.slice(2);
const secret = process.env.DAYBOOK_RELAY_SECRET;
if (url === undefined || receiverUrl === undefined || batchSize === undefined || secret === undefined) {
  process.stderr.write('usage: DAYBOOK_RELAY_SECRET=… relayCrash.child.ts <store url> <receiver url> <batch size>\n');
  process.exit(64);
}
const store = await openEventStore(url);
const readModels = await openReadModelStore(url);
const definition = defineRelay({
  name: 'crash_relay', version: 1, handles: {},
  deliver: createHttpDeliverer({ url: receiverUrl, secret, timeoutMs: 10_000 }),
});
const runner = new ProjectionRunner({ store, readModels, definition, batchSize: Number(batchSize), initialBackoffMs: 1 });
await runner.start();
await runner.waitForPosition(await store.headPosition(), 60_000);
process.stdout.write('caught-up\n');
await runner.stop();
await readModels.close();
await store.close();
