/**
 * Seals on a real store, SQLite and PostgreSQL alike: sealing on count and on
 * time (never the last seal alone), seals chaining, a racing sealer losing
 * cleanly, the range cap; verification finding a seal by an unknown key, a
 * forged signature and a revoked key, and passing with only the public key
 * file; an exported bundle verifying with no database, and a cut-off or
 * edited one reported broken.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import {
  canonicalSealText, exportBundle, type KeyProvider, loadLocalTrustedKeys, openLocalKeyProvider, parsePublicKey, publicKeyFingerprint, type Seal, SEAL_EVENT_TYPE, SEAL_STREAM,
  Sealer, sealToData, trustedKeysFromFiles, verifyBundle, verifyStoreAudit,
} from './index.ts';

const T0 = 1_700_000_000_000;
type Fresh = { store: EventStore; dispose(): Promise<void> };

async function appendEvents(store: EventStore, count: number, stream = 'acct-1'): Promise<void> {
  for (let index = 0; index < count; index += 1) await store.append({ streamId: stream, events: [{ type: 'Touched', data: { index } }] });
}

function describeSealing(backend: string, open: () => Promise<Fresh>): void {
  describe(`sealing on ${backend}`, () => {
    let fresh: Fresh;
    let dir: string;
    let keys: KeyProvider;
    const store = (): EventStore => fresh.store;
    const trusted = () => loadLocalTrustedKeys(join(dir, 'keys'));
    beforeEach(async () => {
      fresh = await open();
      dir = mkdtempSync(join(tmpdir(), 'daybook-seal-'));
      keys = openLocalKeyProvider({ dir: join(dir, 'keys') });
    });
    afterEach(async () => {
      await fresh.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('seals on count: not before N events are unsealed, then all of them; the seal alone is not news', async () => {
      const sealer = new Sealer({ store: store(), keys, clock: fixedClock(T0), everyEvents: 10, everyMs: 0 });
      await appendEvents(store(), 9);
      expect(await sealer.sealIfDue()).toEqual({ sealed: false, reason: 'not_due' });
      await appendEvents(store(), 1);
      expect(await sealer.sealIfDue()).toMatchObject({ sealed: true, position: 11n, seal: { sequence: 1, fromPosition: 1n, toPosition: 10n, eventCount: 10n, keyId: keys.keyId } });
      expect(await sealer.sealIfDue()).toEqual({ sealed: false, reason: 'nothing_new' });
      const [event] = await store().readStream(SEAL_STREAM);
      expect(event).toMatchObject({ type: SEAL_EVENT_TYPE, position: 11n, data: { fromPosition: '1', toPosition: '10' } });
    });

    it('seals on time once something new was appended', async () => {
      const clock = fixedClock(T0);
      const sealer = new Sealer({ store: store(), keys, clock, everyEvents: 0, everyMs: 60_000 });
      await appendEvents(store(), 1);
      expect(await sealer.sealIfDue()).toEqual({ sealed: false, reason: 'not_due' });
      clock.advance(60_000);
      expect(await sealer.sealIfDue()).toMatchObject({ sealed: true, seal: { fromPosition: 1n, toPosition: 1n, sealedAtMs: T0 + 60_000 } });
      clock.advance(60_000);
      expect(await sealer.sealIfDue()).toEqual({ sealed: false, reason: 'nothing_new' });
      await appendEvents(store(), 1);
      expect(await sealer.sealIfDue()).toMatchObject({ sealed: true, seal: { sequence: 2, fromPosition: 2n, toPosition: 3n } });
    });

    it('chains seals: each starts after the last and from its digest; verify checks every one', async () => {
      const sealer = new Sealer({ store: store(), keys, clock: fixedClock(T0) });
      const seals: Seal[] = [];
      for (const count of [3, 5, 2]) {
        await appendEvents(store(), count, `acct-${count}`);
        const outcome = await sealer.sealNow();
        if (!outcome.sealed) throw new Error(`not sealed: ${outcome.reason}`);
        seals.push(outcome.seal);
      }
      expect(seals.map((seal) => [seal.sequence, seal.fromPosition, seal.toPosition])).toEqual([[1, 1n, 3n], [2, 4n, 9n], [3, 10n, 12n]]);
      expect(seals[1]!.previousDigest).toBe(seals[0]!.digest);
      expect(seals[2]!.previousDigest).toBe(seals[1]!.digest);
      expect(await verifyStoreAudit(store(), trusted())).toMatchObject({ ok: true, seals: { sealsChecked: 3, sealedFrom: 1n, sealedThrough: 12n, unsealedTail: 1n, keyIds: [keys.keyId], firstBreak: null } });
    });

    it('a racing sealer loses cleanly: one seal is written, verify passes', async () => {
      await appendEvents(store(), 4);
      const first = new Sealer({ store: store(), keys, clock: fixedClock(T0) });
      // The second sealer's append waits until the first has sealed the same range.
      const racing: EventStore = { ...store(), append: async (writes) => { await first.sealNow(); return store().append(writes); } };
      expect(await new Sealer({ store: racing, keys, clock: fixedClock(T0) }).sealNow()).toEqual({ sealed: false, reason: 'lost_race' });
      expect(await store().readStream(SEAL_STREAM)).toHaveLength(1);
      expect(await verifyStoreAudit(store(), trusted())).toMatchObject({ ok: true, seals: { sealsChecked: 1 } });
    });

    it('covers at most rangeEventsMax events a seal: a backlog takes several', async () => {
      await appendEvents(store(), 12);
      const sealer = new Sealer({ store: store(), keys, clock: fixedClock(T0), rangeEventsMax: 5 });
      const ranges: Array<[bigint, bigint]> = [];
      for (let round = 0; round < 3; round += 1) {
        const outcome = await sealer.sealNow();
        if (outcome.sealed) ranges.push([outcome.seal.fromPosition, outcome.seal.toPosition]);
      }
      // 12 events and two seals: the third covers 11..14.
      expect(ranges).toEqual([[1n, 5n], [6n, 10n], [11n, 14n]]);
      expect((await verifyStoreAudit(store(), trusted())).ok).toBe(true);
    });

    it('finds a seal by a key it does not trust', async () => {
      await appendEvents(store(), 3);
      await new Sealer({ store: store(), keys, clock: fixedClock(T0) }).sealNow();
      const other = openLocalKeyProvider({ dir: join(dir, 'other-keys') });
      await appendEvents(store(), 2);
      await new Sealer({ store: store(), keys: other, clock: fixedClock(T0) }).sealNow();
      expect(await verifyStoreAudit(store(), trusted())).toMatchObject({
        ok: false, firstBreak: null, seals: { sealsChecked: 1, firstBreak: { sequence: 2, sealPosition: 7n, reason: 'seal_key_unknown', expected: expect.stringContaining(other.keyId) } },
      });
    });

    it('finds a forged signature when the forger names the trusted key', async () => {
      await appendEvents(store(), 3);
      const other = openLocalKeyProvider({ dir: join(dir, 'other-keys') });
      const position = await forgeSeal(store(), other, keys);
      expect(await verifyStoreAudit(store(), trusted())).toMatchObject({ ok: false, seals: { sealsChecked: 0, firstBreak: { sequence: 1, sealPosition: position, reason: 'seal_signature_invalid' } } });
    });

    it('verifies with only the public key file, and reports a key revoked since before the seal', async () => {
      await appendEvents(store(), 3);
      await new Sealer({ store: store(), keys, clock: fixedClock(T0) }).sealNow();
      expect(await verifyStoreAudit(store(), trustedKeysFromFiles([publicKeyFile(dir)]))).toMatchObject({ ok: true, seals: { sealsChecked: 1 } });
      const revoked = join(dir, 'revoked');
      writeFileSync(revoked, `# rotated after the laptop was lost\n${keys.keyId} ${new Date(T0 - 1000).toISOString()} laptop lost\n`);
      expect(await verifyStoreAudit(store(), trustedKeysFromFiles([publicKeyFile(dir)], revoked))).toMatchObject({
        ok: false, seals: { firstBreak: { sequence: 1, reason: 'seal_key_revoked', actual: expect.stringContaining('laptop lost') } },
      });
      writeFileSync(revoked, `${keys.keyId} ${new Date(T0 + 1000).toISOString()}\n`);
      expect((await verifyStoreAudit(store(), trustedKeysFromFiles([publicKeyFile(dir)], revoked))).ok).toBe(true);
    });

    it('exports a bundle that verifies with no database; a cut-off or edited copy is reported broken', async () => {
      await appendEvents(store(), 6, 'acct-a');
      await new Sealer({ store: store(), keys, clock: fixedClock(T0) }).sealNow();
      await appendEvents(store(), 3, 'acct-b');
      const file = join(dir, 'bundle.jsonl');
      expect(await exportBundle(store(), file, { keys: trusted(), clock: fixedClock(T0) })).toEqual({ fromPosition: 1n, toPosition: 10n, eventCount: 10n, sealCount: 1 });
      const pinned = trustedKeysFromFiles([publicKeyFile(dir)]);
      expect(await verifyBundle(file, { keys: pinned })).toMatchObject({ ok: true, eventsChecked: 10, streamsChecked: 3, firstBreak: null, seals: { sealsChecked: 1, sealedThrough: 6n, unsealed: 4n } });
      expect((await verifyBundle(file)).seals.keysSource).toContain("bundle's own header");

      const text = readFileSync(file, 'utf8');
      writeFileSync(join(dir, 'cut.jsonl'), text.slice(0, Math.floor(text.length / 2)));
      expect(await verifyBundle(join(dir, 'cut.jsonl'), { keys: pinned })).toMatchObject({ ok: false, firstBreak: { reason: 'bundle_truncated' } });
      writeFileSync(join(dir, 'no-end.jsonl'), text.split('\n').slice(0, -2).join('\n') + '\n');
      expect(await verifyBundle(join(dir, 'no-end.jsonl'), { keys: pinned })).toMatchObject({ ok: false, firstBreak: { reason: 'bundle_truncated', expected: expect.stringContaining('end line') } });
      writeFileSync(join(dir, 'edited.jsonl'), text.replace('\\"index\\":4', '\\"index\\":40'));
      expect(await verifyBundle(join(dir, 'edited.jsonl'), { keys: pinned })).toMatchObject({ ok: false, firstBreak: { reason: 'hash_mismatch', line: 7, position: 5n, streamId: 'acct-a' } });
    });

    it('exports a range: only the seals it wholly holds come along', async () => {
      await appendEvents(store(), 4);
      await new Sealer({ store: store(), keys, clock: fixedClock(T0) }).sealNow();
      await appendEvents(store(), 4);
      await new Sealer({ store: store(), keys, clock: fixedClock(T0) }).sealNow();
      const file = join(dir, 'range.jsonl');
      expect(await exportBundle(store(), file, { fromPosition: 3n, toPosition: 10n, keys: trusted(), clock: fixedClock(T0) })).toMatchObject({ eventCount: 8n, sealCount: 1 });
      expect(await verifyBundle(file, { keys: trustedKeysFromFiles([publicKeyFile(dir)]) })).toMatchObject({ ok: true, seals: { sealsChecked: 1, sealedFrom: 5n, sealedThrough: 9n, unsealed: 3n } });
      await expect(exportBundle(store(), join(dir, 'past.jsonl'), { toPosition: 99n, keys: trusted(), clock: fixedClock(T0) })).rejects.toMatchObject({ code: 'validation_failed' });
      expect(readdirSync(dir).filter((name) => name.startsWith('past'))).toEqual([]);
    });
  });
}

function publicKeyFile(dir: string): string {
  const name = readdirSync(join(dir, 'keys')).find((file) => file.endsWith('.pub.pem'))!;
  return join(dir, 'keys', name);
}

/** A seal over the unsealed tail signed by `signer` but naming `claimed`'s key: what a forger without the key can make. */
async function forgeSeal(store: EventStore, signer: KeyProvider, claimed: KeyProvider): Promise<bigint> {
  const seals = await store.readStream(SEAL_STREAM);
  const last = seals.at(-1)?.data as { toPosition: string; digest: string } | undefined;
  const fromPosition = last === undefined ? 1n : BigInt(last.toPosition) + 1n;
  const toPosition = await store.headPosition();
  const fields = {
    sequence: seals.length + 1, fromPosition, toPosition, eventCount: toPosition - fromPosition + 1n, previousDigest: last?.digest ?? '0'.repeat(64), digest: 'a'.repeat(64),
    keyId: claimed.keyId, publicKeyFingerprint: publicKeyFingerprint(parsePublicKey(claimed.publicKey(), 'claimed')), sealedAtMs: T0,
  };
  const seal: Seal = { ...fields, signature: signer.sign(Buffer.from(canonicalSealText(fields))).toString('base64') };
  const result = await store.append({ streamId: SEAL_STREAM, expectedVersion: BigInt(seals.length), events: [{ type: SEAL_EVENT_TYPE, data: sealToData(seal) }] });
  return result.position;
}

describeSealing('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-seal-store-'));
  const store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
  return { store, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describeIfPostgres('sealing on postgres', () => {
  describeSealing('postgres', async () => {
    const db = await createTestDatabase();
    const store = await openEventStore(db.url);
    return { store, dispose: async () => { await store.close(); await db.drop(); } };
  });
});
