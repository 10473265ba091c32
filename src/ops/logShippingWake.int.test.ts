/**
 * Log shipping reacts to commits instead of waiting out its poll interval
 * (real SQLite): with a poll interval far longer than the test's bound, an
 * acknowledged write is in a segment once the shipper says so, woken by the
 * store's file changing (another process's commits) or by an in-process
 * commit hook. No timing is asserted: the bound only keeps a broken shipper
 * from hanging the run, and the check is on the segment's content.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listSegments, shipLog, type ShipLogOptions } from './index.ts';
import { openTempStore, type TempStore } from './opsTestkit.ts';

const POLL_MS_NEVER = 600_000;
const BOUND_MS = 20_000;

let temp: TempStore | undefined;
afterEach(async () => {
  await temp?.cleanup();
  temp = undefined;
});

/** Starts a shipper; `shippedThrough(p)` resolves once it has shipped position p (rejects past the bound). */
function startShipper(options: Omit<ShipLogOptions, 'signal' | 'onShipped'>) {
  const controller = new AbortController();
  let shipped = 0n;
  const waiters: Array<{ target: bigint; resolve: () => void }> = [];
  const done = shipLog({
    ...options, signal: controller.signal,
    onShipped: (position) => {
      shipped = position;
      for (const waiter of waiters.filter((w) => w.target <= position)) waiter.resolve();
    },
  });
  return {
    shippedThrough(target: bigint): Promise<void> {
      if (shipped >= target) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not shipped through ${target} within the bound (shipped ${shipped})`)), BOUND_MS);
        waiters.push({ target, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    async stop(): Promise<bigint> {
      controller.abort();
      return done;
    },
  };
}

function lastShippedLine(dir: string, segments: string[]): { position: string; data: string } {
  const lines = readFileSync(segments[segments.length - 1]!, 'utf8').trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { position: string; data: string };
}

describe('log shipping wakes on commits', () => {
  it('ships an acknowledged write without waiting for the poll interval (the store file changing)', async () => {
    temp = await openTempStore();
    await temp.fill(10, 10);
    const dir = join(temp.dir, 'ship');
    const shipper = startShipper({ storePath: temp.storePath, dir, pollMs: POLL_MS_NEVER });
    try {
      await shipper.shippedThrough(10n);
      const acknowledged = await temp.store.append({ streamId: 'acct-late', events: [{ type: 'Counted', data: { n: 'last' } }] });
      await shipper.shippedThrough(acknowledged.position);
      expect(lastShippedLine(dir, await listSegments(dir))).toMatchObject({ position: acknowledged.position.toString(), data: '{"n":"last"}' });
    } finally {
      await shipper.stop();
    }
  });

  it('wakes on an in-process commit hook too', async () => {
    temp = await openTempStore();
    const store = temp.store;
    const dir = join(temp.dir, 'ship');
    const shipper = startShipper({ storePath: temp.storePath, dir, pollMs: POLL_MS_NEVER, watchStore: false, onCommit: (wake) => store.onAppended(() => wake()) });
    try {
      const acknowledged = await store.append({ streamId: 'acct-hook', events: [{ type: 'Counted', data: { n: 1 } }] });
      await shipper.shippedThrough(acknowledged.position);
      expect(lastShippedLine(dir, await listSegments(dir))).toMatchObject({ position: acknowledged.position.toString() });
    } finally {
      await shipper.stop();
    }
  });
});
