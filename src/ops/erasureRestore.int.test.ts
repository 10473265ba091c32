/**
 * An erasure stays effective after a restore of a backup taken before it:
 * the backup carries the subject keys of its time (so restored personal
 * data stays readable), the key folder's erasure journal, kept apart from
 * every backup, destroys again the key of each subject erased since, and
 * the restored log gets the erasure event it lacked. A subject not erased
 * stays readable. SQLite.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BankingService } from '../banking/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { DATA_SUBJECT_ERASED, ERASED_TEXT, eraseSubject, openShreddingStore, PRIVACY_ERASURES_STREAM, readErasureJournal } from '../privacy/index.ts';
import { builtinProjections } from '../projections/builtin/index.ts';
import { backupSqliteStore, subjectKeysBackupPath } from './backup.ts';
import { restoreErasures, restoreSqliteBackup, STORE_FILE } from './restore.ts';

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

describe('restore of a backup taken before an erasure', () => {
  it('destroys the erased subject\'s key again and records the erasure; the others stay readable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'daybook-erasure-restore-'));
    dirs.push(root);
    const live = join(root, 'live');
    const keysDir = join(root, 'keys');
    const store = await open(live, keysDir);
    const bank = await BankingService.open(store);
    const ada = await bank.registerCustomer({ pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    const grace = await bank.registerCustomer({ pii: { fullName: 'Grace Hopper', email: 'grace@example.com' } });
    await bank.ledger.close();
    await store.close();

    const backup = join(root, 'backups', 'before.db');
    await backupSqliteStore({ storePath: join(live, STORE_FILE), file: backup });
    expect(existsSync(subjectKeysBackupPath(backup))).toBe(true);

    const again = await open(live, keysDir);
    await eraseSubject(again, { subject: `bankcustomer:${ada.customerId}`, actor: 'dpo' }, systemClock);
    await again.close();
    expect(readErasureJournal(keysDir).map((tombstone) => tombstone.subject)).toEqual([`bankcustomer:${ada.customerId}`]);
    expect(await piiOf(live, keysDir, ada.customerId)).toMatchObject({ fullName: ERASED_TEXT, email: ERASED_TEXT });

    // Without the journal, the backup brings the keys of its time back: the erased data would be readable again.
    const unjournaled = join(root, 'unjournaled');
    await restoreSqliteBackup({ backupFile: backup, dataDir: unjournaled, projections: builtinProjections });
    expect(await piiOf(unjournaled, keysDir, ada.customerId)).toMatchObject({ fullName: 'Ada Lovelace' });
    // With it, the restored folder takes its place with the erasure already applied again.
    const restored = join(root, 'restored');
    const report = await restoreSqliteBackup({ backupFile: backup, dataDir: restored, projections: builtinProjections, erasureJournalDir: keysDir });
    expect(report.erasures).toEqual({ reapplied: [`bankcustomer:${ada.customerId}`], recorded: 1 });
    expect(await piiOf(restored, keysDir, ada.customerId)).toMatchObject({ fullName: ERASED_TEXT, email: ERASED_TEXT });
    expect(await piiOf(restored, keysDir, grace.customerId)).toMatchObject({ fullName: 'Grace Hopper', email: 'grace@example.com' });
    const check = await openEventStore(`sqlite:${join(restored, STORE_FILE)}`);
    try {
      expect((await check.readStream(PRIVACY_ERASURES_STREAM)).map((event) => event.type)).toEqual([DATA_SUBJECT_ERASED]);
      expect((await check.verify()).ok).toBe(true);
    } finally {
      await check.close();
    }
    // Applying the journal again changes nothing.
    expect(await restoreErasures(`sqlite:${join(restored, STORE_FILE)}`, keysDir)).toEqual({ reapplied: [], recorded: 0 });
  });
});
