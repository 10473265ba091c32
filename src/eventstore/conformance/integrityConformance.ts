/** Integrity (hash chains and verify), schema evolution (upcasters) and snapshots (DESIGN.md §3). */
import { describe, expect, it } from 'vitest';
import { newEventId } from '../../kernel/ids.ts';
import { eventHash } from '../hashChain.ts';
import type { Upcaster } from '../upcasters.ts';
import { type ConformanceFactory, event, events, everything, failure, take, useStore } from './harness.ts';

export function describeIntegrity(factory: ConformanceFactory): void {
  describeVerify(factory);
  describeUpcasters(factory);
  describeSnapshots(factory);
}

function describeVerify(factory: ConformanceFactory): void {
  describe('integrity: verify', () => {
    const ctx = useStore(factory);
    // Positions: acct-1 v1..v3 at 1..3, acct-2 v1 at 4, acct-1 v4..v5 at 5..6, acct-3 v1..v2 at 7..8.
    const seed = async (): Promise<void> => {
      await ctx.store.append({ streamId: 'acct-1', events: [event('Opened', { owner: 'Zoë 😀', limits: { b: 2, a: 1 } }), ...events(2)] });
      await ctx.store.append({ streamId: 'acct-2', events: [event('Opened', 'x', { metadata: { correlationId: newEventId(), actor: 'ä' } })] });
      await ctx.store.append({ streamId: 'acct-1', events: [event('Moved', { amount: -12.5, list: [null, true, 'a\n"b"'] }), event('Moved', null, { schemaVersion: 4 })] });
      await ctx.store.append({ streamId: 'acct-3', events: events(2) });
    };
    const breakAt = async () => {
      const report = await ctx.store.verify();
      expect(report.ok).toBe(false);
      expect(report.firstBreak).not.toBeNull();
      return report.firstBreak!;
    };

    it('reports an empty store as ok', async () => {
      expect(await ctx.store.verify()).toEqual({ ok: true, eventsChecked: 0, streamsChecked: 0, headPosition: 0n, firstBreak: null });
    });

    it('reads the log raw: JSON text exactly as hashed, by category and up to a position, within the read limits', async () => {
      await seed();
      const raw = await ctx.store.readRawLog({ after: 1n, asOfPosition: 6n, limit: 100 });
      expect(raw.map((row) => row.position)).toEqual([2n, 3n, 4n, 5n, 6n]);
      for (const row of raw) expect(eventHash(row)).toBe(row.hash);
      expect(typeof raw[3]!.dataJson).toBe('string');
      expect(JSON.parse(raw[3]!.dataJson)).toEqual({ amount: -12.5, list: [null, true, 'a\n"b"'] });
      expect(await ctx.store.readRawLog({ category: 'acct', limit: 100 })).toHaveLength(8);
      expect(await ctx.store.readRawLog({ category: 'other', limit: 100 })).toHaveLength(0);
      expect((await ctx.store.readRawLog({ limit: 2 })).map((row) => row.position)).toEqual([1n, 2n]);
      await failure(ctx.store.readRawLog({ limit: 10_001 }), 'limit_exceeded');
    });

    it('reports a healthy store as ok, counting every event and stream', async () => {
      await seed();
      expect(await ctx.store.verify()).toEqual({ ok: true, eventsChecked: 8, streamsChecked: 3, headPosition: 8n, firstBreak: null });
    });

    it('finds data edited in place: hash_mismatch at that stream and version', async () => {
      await seed();
      const original = (await ctx.store.readAll({ after: 1n, limit: 1 }))[0]!;
      await ctx.tamper(`UPDATE events SET data = '{"n":999}' WHERE position = 2`);
      expect(await breakAt()).toMatchObject({ streamId: 'acct-1', version: 2n, position: 2n, reason: 'hash_mismatch', actual: original.hash });
      expect((await breakAt()).expected).not.toBe(original.hash);
    });

    for (const [column, value] of [['metadata', `'{"actor":"mallory"}'`], ['type', `'Forged'`], ['schema_version', 'schema_version + 1']] as const) {
      it(`finds ${column} edited in place: hash_mismatch`, async () => {
        await seed();
        await ctx.tamper(`UPDATE events SET ${column} = ${value} WHERE position = 4`);
        expect(await breakAt()).toMatchObject({ streamId: 'acct-2', version: 1n, position: 4n, reason: 'hash_mismatch' });
      });
    }

    it('finds a stored hash replaced: hash_mismatch at that event', async () => {
      await seed();
      await ctx.tamper('UPDATE events SET hash = previous_hash WHERE position = 6');
      expect(await breakAt()).toMatchObject({ streamId: 'acct-1', version: 5n, reason: 'hash_mismatch' });
    });

    it('finds a previous hash edited: previous_hash_mismatch naming the expected hash', async () => {
      await seed();
      const [v2, v3] = await ctx.store.readStream('acct-1', { fromVersion: 2n, limit: 2 });
      await ctx.tamper('UPDATE events SET previous_hash = hash WHERE position = 3');
      expect(await breakAt()).toMatchObject({
        streamId: 'acct-1', version: 3n, position: 3n, reason: 'previous_hash_mismatch', expected: v2!.hash, actual: v3!.hash,
      });
    });

    it('finds a middle event of a stream deleted', async () => {
      await seed();
      await ctx.tamper('DELETE FROM events WHERE position = 3');
      const found = await breakAt();
      expect(['version_gap', 'position_gap']).toContain(found.reason);
      if (found.reason === 'version_gap') expect(found).toMatchObject({ streamId: 'acct-1', version: 4n, expected: '3', actual: '4' });
    });

    it('finds a whole one-event stream deleted from the middle of the log: position_gap', async () => {
      await seed();
      await ctx.tamper('DELETE FROM events WHERE position = 4');
      expect(await breakAt()).toMatchObject({ reason: 'position_gap', position: 4n });
    });

    it('finds the newest event deleted', async () => {
      await seed();
      await ctx.tamper('DELETE FROM events WHERE position = 8');
      await breakAt();
    });

    it('reports the first break in (stream id, version) order', async () => {
      await seed();
      await ctx.tamper(`UPDATE events SET data = '1' WHERE position = 8`);
      await ctx.tamper(`UPDATE events SET data = '1' WHERE position = 5`);
      expect(await breakAt()).toMatchObject({ streamId: 'acct-1', version: 4n, position: 5n });
    });

    it('reads tampered rows as stored: verify is the check, and it changes nothing', async () => {
      await seed();
      await ctx.tamper(`UPDATE events SET data = '{"n":999}' WHERE position = 2`);
      await breakAt();
      expect((await ctx.store.readStream('acct-1', { fromVersion: 2n, limit: 1 }))[0]!.data).toEqual({ n: 999 });
      expect(await breakAt()).toMatchObject({ position: 2n, reason: 'hash_mismatch' });
    });
  });
}

/** Money moved from a float `amount` (v1) to integer `amountMinor` (v2) to `{ minor, currency }` (v3). */
const PAID_UPCASTERS: Upcaster[] = [
  { type: 'Paid', fromSchemaVersion: 1, toSchemaVersion: 2, upcast: (data) => ({ amountMinor: Math.round((data as { amount: number }).amount * 100) }) },
  {
    type: 'Paid', fromSchemaVersion: 2, toSchemaVersion: 3,
    upcast: (data, metadata) => ({ money: { minor: (data as { amountMinor: number }).amountMinor, currency: metadata.tenant === 'eu' ? 'EUR' : 'USD' } }),
  },
];

function describeUpcasters(factory: ConformanceFactory): void {
  describe('schema evolution: upcasters', () => {
    const ctx = useStore(factory, { upcasters: PAID_UPCASTERS });
    const seed = async (): Promise<void> => {
      await ctx.store.append({
        streamId: 'pay-1',
        events: [
          event('Paid', { amount: 12.34 }, { schemaVersion: 1, metadata: { tenant: 'eu' } }),
          event('Paid', { amountMinor: 500 }, { schemaVersion: 2 }),
          event('Paid', { money: { minor: 7, currency: 'GBP' } }, { schemaVersion: 3 }),
          event('Refunded', { amount: 1.5 }, { schemaVersion: 1 }),
        ],
      });
    };
    const expected = [
      { schemaVersion: 3, data: { money: { minor: 1234, currency: 'EUR' } } },
      { schemaVersion: 3, data: { money: { minor: 500, currency: 'USD' } } },
      { schemaVersion: 3, data: { money: { minor: 7, currency: 'GBP' } } },
      { schemaVersion: 1, data: { amount: 1.5 } },
    ];

    it('upcasts old schema versions step by step on readStream, readAll and streamAll; other types stay as written', async () => {
      await seed();
      expect(await ctx.store.readStream('pay-1')).toMatchObject(expected);
      expect(await ctx.store.readAll()).toMatchObject(expected);
      expect(await everything(ctx.store)).toMatchObject(expected);
      expect(await ctx.store.readStream('pay-1', { direction: 'backwards' })).toMatchObject([...expected].reverse());
    });

    it('upcasts events delivered by subscriptions', async () => {
      await seed();
      const subscription = ctx.store.subscribe({ types: ['Paid'] });
      try {
        expect(await take(subscription, 3)).toMatchObject(expected.slice(0, 3));
      } finally {
        subscription.close();
      }
    });

    it('never changes stored bytes: the hashes still verify and stay those of the events as written', async () => {
      await seed();
      const before = (await ctx.store.readAll()).map((e) => e.hash);
      expect(await ctx.store.verify()).toMatchObject({ ok: true, eventsChecked: 4 });
      await ctx.store.append({ streamId: 'pay-1', expectedVersion: 4n, events: [event('Paid', { amount: 1 }, { schemaVersion: 1 })] });
      expect((await ctx.store.readAll()).slice(0, 4).map((e) => e.hash)).toEqual(before);
      expect((await ctx.store.readStream('pay-1', { fromVersion: 5n }))[0]).toMatchObject({ schemaVersion: 3, data: { money: { minor: 100 } } });
      expect((await ctx.store.verify()).ok).toBe(true);
    });
  });
}

function describeSnapshots(factory: ConformanceFactory): void {
  describe('snapshots', () => {
    const ctx = useStore(factory);

    it('saves and loads a snapshot by stream and schema version', async () => {
      const state = { balance: { minor: 1234, currency: 'EUR' }, lines: ['a', 'b'], open: true };
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 7n, schemaVersion: 2, state });
      expect(await ctx.store.loadSnapshot('acct-1', 2)).toEqual({ streamId: 'acct-1', version: 7n, schemaVersion: 2, state });
    });

    it('saves a state the caller serialized (stateJson) and loads it parsed; refuses empty text', async () => {
      const state = { accounts: [[0, 'a', '12']], lastEventId: 'e-1' };
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 4n, schemaVersion: 1, stateJson: JSON.stringify(state) });
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toEqual({ streamId: 'acct-1', version: 4n, schemaVersion: 1, state });
      expect(await ctx.store.loadSnapshotText('acct-1', 1)).toEqual({ streamId: 'acct-1', version: 4n, schemaVersion: 1, stateJson: JSON.stringify(state) });
      expect(await ctx.store.loadSnapshotText('acct-2', 1)).toBeNull();
      await expect(ctx.store.saveSnapshot({ streamId: 'acct-1', version: 5n, schemaVersion: 1, stateJson: '' })).rejects.toMatchObject({ code: 'validation_failed', param: 'stateJson' });
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toMatchObject({ version: 4n });
    });

    it('returns null when there is none for the stream', async () => {
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 1n, schemaVersion: 1, state: {} });
      expect(await ctx.store.loadSnapshot('acct-2', 1)).toBeNull();
    });

    it('ignores a snapshot of a stale schema version (null), and keeps schema versions apart', async () => {
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 3n, schemaVersion: 1, state: { old: true } });
      expect(await ctx.store.loadSnapshot('acct-1', 2)).toBeNull();
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 2n, schemaVersion: 2, state: { fresh: true } });
      expect(await ctx.store.loadSnapshot('acct-1', 2)).toMatchObject({ version: 2n, state: { fresh: true } });
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toMatchObject({ version: 3n, state: { old: true } });
    });

    it('a newer version replaces an older one; an older version does not overwrite a newer one', async () => {
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 5n, schemaVersion: 1, state: { at: 5 } });
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 9n, schemaVersion: 1, state: { at: 9 } });
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toMatchObject({ version: 9n, state: { at: 9 } });
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 6n, schemaVersion: 1, state: { at: 6 } });
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toMatchObject({ version: 9n, state: { at: 9 } });
    });

    it('is never the source of truth: saving one writes no event', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(2) });
      await ctx.store.saveSnapshot({ streamId: 'acct-1', version: 2n, schemaVersion: 1, state: { n: 2 } });
      expect(await ctx.store.headPosition()).toBe(2n);
      expect((await ctx.store.verify()).ok).toBe(true);
    });

    it('refuses a snapshot with a bad version or schema version', async () => {
      await failure(ctx.store.saveSnapshot({ streamId: 'acct-1', version: 0n, schemaVersion: 1, state: {} }), 'validation_failed');
      await failure(ctx.store.saveSnapshot({ streamId: 'acct-1', version: 1n, schemaVersion: 0, state: {} }), 'validation_failed');
      await failure(ctx.store.saveSnapshot({ streamId: 'acct-1', version: 1n, schemaVersion: 1, state: { big: 1n } }), 'validation_failed');
      expect(await ctx.store.loadSnapshot('acct-1', 1)).toBeNull();
    });
  });
}
