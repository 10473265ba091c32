/**
 * Child process of the recovery benchmark: opens the store and appends with
 * 64 concurrent appenders until killed. Reports on stdout, in ms since this
 * process started: `boot <ms>` when this script starts running (Node and tsx
 * are up), `opened <ms>` once Daybook is imported and the store is open,
 * `first <ms> <peak RSS MB>` when the first append is durable, then
 * `acked <n>` every 1000 appends.
 * Usage: node --import tsx bench/support/recoveryChild.ts <store url>
 */
process.stdout.write(`boot ${performance.now().toFixed(1)}\n`);

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: recoveryChild.ts <store url>');
  process.exit(64);
}
const APPENDERS = 64;
// Imported here, not statically, so that `boot` excludes loading Daybook: a restart pays for it, and it is in `opened`.
const { openEventStore } = await import('../../src/index.ts');
const store = await openEventStore(url);
process.stdout.write(`opened ${performance.now().toFixed(1)}\n`);

let acked = 0;
async function appender(index: number): Promise<void> {
  for (let i = 0; ; i++) {
    await store.append({
      streamId: `recovery-p${process.pid}x${index}x${i}`,
      expectedVersion: 'no_stream',
      events: [{ type: 'RecoveryTested', data: { index, i }, metadata: { actor: 'bench' } }],
    });
    acked += 1;
    if (acked === 1) process.stdout.write(`first ${performance.now().toFixed(1)} ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
    if (acked % 1000 === 0) process.stdout.write(`acked ${acked}\n`);
  }
}

await Promise.all(Array.from({ length: APPENDERS }, (_, index) => appender(index)));
