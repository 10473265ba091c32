/**
 * Child process for the crash tests: 64 concurrent appenders, each reporting
 * every acknowledged (durable) append on stdout as one line, until killed.
 * Usage: node --import tsx test/crash/appender.ts <store url> <run tag>
 */
import { openEventStore } from '../../src/eventstore/open.ts';

const [url, tag] = process.argv.slice(2);
if (!url || !tag) {
  console.error('usage: appender.ts <store url> <run tag>');
  process.exit(64);
}
const APPENDERS = 64;
const store = await openEventStore(url);
process.stdout.write('ready\n');

async function appender(index: number): Promise<void> {
  // Half the appenders extend one stream with exact versions, half open new streams.
  const ownStream = `crash-${tag}-${index}`;
  let version = await store.streamVersion(ownStream);
  for (let i = 0; ; i += 1) {
    const extend = index % 2 === 0;
    const streamId = extend ? ownStream : `crash-${tag}-${index}x${i}`;
    const events = Array.from({ length: 1 + (i % 3) }, (_, n) => ({ type: 'CrashTested', data: { index, i, n } }));
    try {
      const result = await store.append({ streamId, expectedVersion: extend ? version : 'no_stream', events });
      if (extend) version = result.streams[0]!.version;
      for (const event of result.events) process.stdout.write(`ack ${event.eventId} ${event.streamId} ${event.version} ${event.position}\n`);
    } catch (error) {
      // The database went away (postmaster killed): report and keep trying until killed.
      process.stdout.write(`err ${(error as { code?: string }).code ?? 'unknown'}\n`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (extend) version = await store.streamVersion(ownStream).catch(() => version);
    }
  }
}

await Promise.all(Array.from({ length: APPENDERS }, (_, index) => appender(index)));
