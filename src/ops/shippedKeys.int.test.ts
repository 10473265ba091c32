/**
 * Subject keys over a restore with shipped segments (real SQLite, shredding
 * store): the backup's key copy holds only the keys of its time, so the
 * shipper ships the key store's new rows beside the segments; a restore
 * with `--segments` reads back the personal data of a customer created after
 * the backup, and a customer erased since stays erased (the journal). The
 * key copy is hashed in the backup manifest: a changed copy is refused. A
 * shipped key line that was changed, or a shipping folder whose segments
 * hold personal data of a subject with no key anywhere, is refused too.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BankingService } from '../banking/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { ERASED_TEXT, eraseSubject, openShreddingStore } from '../privacy/index.ts';
import { backupSqliteStore, readManifest, restoreSqliteBackup, shipLog, STORE_FILE, subjectKeysBackupPath } from './index.ts';
import { SHIPPED_KEYS_FILE } from './shippedKeys.ts';

const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

async function open(dataDir: string, keysDir: string) {
  const url = `sqlite:${join(dataDir, STORE_FILE)}`;
  return openShreddingStore(await openEventStore(url), { storeUrl: url, keysDir });
}

async function piiOf(dataDir: string, keysDir: string, customerId: string): Promise<unknown> {
  const store = await open(dataDir, keysDir);
  try {
    const [registered] = await store.readStream(`customer-${customerId}`, { limit: 1 });
    return (registered!.data as { pii: unknown }).pii;
  } finally {
    await store.close();
  }
}

async function shipAll(storePath: string, dir: string): Promise<void> {
  const target = await (async () => {
    const store = await openEventStore(`sqlite:${storePath}`, { readOnly: true, migrate: false });
    try { return await store.headPosition(); } finally { await store.close(); }
  })();
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), 30_000);
  try {
    const shipped = await shipLog({ storePath, dir, signal: controller.signal, pollMs: 10, onShipped: (position) => { if (position >= target) controller.abort(); } });
    expect(shipped).toBe(target);
  } finally {
    clearTimeout(deadline);
  }
}

/** A live store with Ada before the backup, Carol and Dan after it (Dan then erased), shipped. */
async function scenario() {
  const root = mkdtempSync(join(tmpdir(), 'daybook-shipped-keys-'));
  dirs.push(root);
  const live = join(root, 'live');
  const keysDir = join(root, 'keys');
  const ship = join(root, 'ship');
  const store = await open(live, keysDir);
  const bank = await BankingService.open(store);
  const ada = await bank.registerCustomer({ pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
  const backup = join(root, 'backups', 'base.db');
  await backupSqliteStore({ storePath: join(live, STORE_FILE), file: backup });
  const carol = await bank.registerCustomer({ pii: { fullName: 'Carol Shaw', email: 'carol@example.com' } });
  const dan = await bank.registerCustomer({ pii: { fullName: 'Dan Erased', email: 'dan@example.com' } });
  await eraseSubject(store, { subject: `bankcustomer:${dan.customerId}`, actor: 'dpo' }, systemClock);
  await bank.ledger.close();
  await store.close();
  await shipAll(join(live, STORE_FILE), ship);
  return { root, keysDir, ship, backup, ada: ada.customerId, carol: carol.customerId, dan: dan.customerId };
}

describe('restore with shipped segments', () => {
  it('reads back a customer created after the backup; one erased since stays erased', async () => {
    const s = await scenario();
    const restored = join(s.root, 'restored');
    const report = await restoreSqliteBackup({ backupFile: s.backup, dataDir: restored, segmentsDir: s.ship, erasureJournalDir: s.keysDir, projections: [] });
    expect(report.shippedApplied).toBeGreaterThan(0);
    expect(await piiOf(restored, s.keysDir, s.ada)).toMatchObject({ fullName: 'Ada Lovelace' });
    expect(await piiOf(restored, s.keysDir, s.carol)).toMatchObject({ fullName: 'Carol Shaw', email: 'carol@example.com' });
    expect(await piiOf(restored, s.keysDir, s.dan)).toMatchObject({ fullName: ERASED_TEXT, email: ERASED_TEXT });
  });

  it('refuses a backup whose key copy does not match the manifest', async () => {
    const s = await scenario();
    expect((await readManifest(s.backup))?.subjectKeys?.sha256).toMatch(/^[0-9a-f]{64}$/);
    appendFileSync(subjectKeysBackupPath(s.backup), Buffer.from('tampered'));
    await expect(restoreSqliteBackup({ backupFile: s.backup, dataDir: join(s.root, 'r1'), segmentsDir: s.ship, projections: [] }))
      .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/subject key copy .* does not match the manifest/) });
    // Removed, it is refused as well: the manifest says the backup has one.
    rmSync(subjectKeysBackupPath(s.backup));
    await expect(restoreSqliteBackup({ backupFile: s.backup, dataDir: join(s.root, 'r2'), projections: [] }))
      .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/subject key copy .* is missing/) });
  });

  it('refuses a changed shipped key line, and segments whose personal data has no key', async () => {
    const s = await scenario();
    const keysFile = join(s.ship, SHIPPED_KEYS_FILE);
    const original = readFileSync(keysFile, 'utf8');
    const lines = original.trimEnd().split('\n');
    const changed = JSON.parse(lines[lines.length - 1]!) as { createdAtMs: number };
    changed.createdAtMs += 1;
    writeFileSync(keysFile, `${[...lines.slice(0, -1), JSON.stringify(changed)].join('\n')}\n`);
    await expect(restoreSqliteBackup({ backupFile: s.backup, dataDir: join(s.root, 'r1'), segmentsDir: s.ship, projections: [] }))
      .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/subject-keys\.jsonl.*line \d+ does not match its hash/) });
    // Without the shipped keys, Carol's data would be unreadable: refused, naming her.
    rmSync(keysFile);
    await expect(restoreSqliteBackup({ backupFile: s.backup, dataDir: join(s.root, 'r2'), segmentsDir: s.ship, projections: [] }))
      .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringContaining(`bankcustomer:${s.carol}`) });
  });

  it('keeps an erasure the restored log records even when the shipped key file lost its tombstone and no journal is given', async () => {
    const root = mkdtempSync(join(tmpdir(), 'daybook-shipped-keys-'));
    dirs.push(root);
    const live = join(root, 'live');
    const keysDir = join(root, 'keys');
    const ship = join(root, 'ship');
    const backup = join(root, 'backups', 'base.db');
    let store = await open(live, keysDir);
    let bank = await BankingService.open(store);
    await bank.registerCustomer({ pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    await backupSqliteStore({ storePath: join(live, STORE_FILE), file: backup });
    const dan = await bank.registerCustomer({ pii: { fullName: 'Dan Erased', email: 'dan@example.com' } });
    await bank.ledger.close();
    await store.close();
    // Dan's key is shipped while he is a customer; his erasure (its tombstone line, its event) is shipped after.
    await shipAll(join(live, STORE_FILE), ship);
    store = await open(live, keysDir);
    bank = await BankingService.open(store);
    await eraseSubject(store, { subject: `bankcustomer:${dan.customerId}`, actor: 'dpo' }, systemClock);
    await bank.ledger.close();
    await store.close();
    await shipAll(join(live, STORE_FILE), ship);
    const keysFile = join(ship, SHIPPED_KEYS_FILE);
    const lines = readFileSync(keysFile, 'utf8').trimEnd().split('\n');
    // Cut the file back to before Dan's tombstone: a prefix of the chain still checks out.
    const tombstone = lines.findIndex((line) => line.includes(dan.customerId) && line.includes('"wrappedKey":null'));
    expect(tombstone).toBe(lines.length - 1);
    writeFileSync(keysFile, `${lines.slice(0, tombstone).join('\n')}\n`);
    const restored = join(root, 'restored');
    await restoreSqliteBackup({ backupFile: backup, dataDir: restored, segmentsDir: ship, projections: [] });
    expect(await piiOf(restored, keysDir, dan.customerId)).toMatchObject({ fullName: ERASED_TEXT, email: ERASED_TEXT });
  });
});
