/** Named locks (`store.lock`): one holder per name at a time, names independent, released whatever `run` does. */
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../eventStore.ts';
import { type ConformanceFactory, useStore } from './harness.ts';

/** Runs `holders` callers of one name at once; reports the most that were ever inside together. */
export async function mostHoldersAtOnce(stores: readonly EventStore[], name: string, holders: number): Promise<number> {
  let inside = 0;
  let most = 0;
  await Promise.all(Array.from({ length: holders }, (_, i) => stores[i % stores.length]!.lock(name, async () => {
    inside += 1;
    most = Math.max(most, inside);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inside -= 1;
  })));
  return most;
}

export function describeLocks(factory: ConformanceFactory): void {
  describe('named locks', () => {
    const ctx = useStore(factory);

    it('lets one caller of a name in at a time, in arrival order, and returns what run returns', async () => {
      expect(await mostHoldersAtOnce([ctx.store], 'close:acct-1', 8)).toBe(1);
      const order: number[] = [];
      const results = await Promise.all([1, 2, 3].map((n) => ctx.store.lock('close:acct-1', async () => { order.push(n); return n * 10; })));
      expect(results).toEqual([10, 20, 30]);
      expect(order).toEqual([1, 2, 3]);
    });

    it('keeps different names independent', async () => {
      let release!: () => void;
      const held = ctx.store.lock('close:acct-1', () => new Promise<void>((resolve) => { release = resolve; }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await ctx.store.lock('close:acct-2', async () => 'other name ran')).toBe('other name ran');
      release();
      await held;
    });

    it('releases the lock when run throws, and passes the error on', async () => {
      await expect(ctx.store.lock('close:acct-1', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
      expect(await ctx.store.lock('close:acct-1', async () => 'after the failure')).toBe('after the failure');
    });

    it('refuses an empty name and works nothing once closed', async () => {
      await expect(ctx.store.lock('', async () => 1)).rejects.toMatchObject({ code: 'validation_failed', param: 'name' });
      await ctx.store.close();
      await expect(ctx.store.lock('close:acct-1', async () => 1)).rejects.toMatchObject({ code: 'store_closed' });
    });
  });
}
