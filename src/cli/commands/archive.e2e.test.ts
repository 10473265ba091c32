/**
 * `daybook archive`, `daybook verify --archive` and `daybook retention apply`
 * through the real bin/daybook.js on a SQLite store written in January and
 * February 2025 (a hand-moved clock): archive writes two files (exit 0), a
 * second run checks and skips them; verify passes (exit 0, also pinned with
 * --public-key) and fails a truncated file or an edited manifest with exit
 * 65 and the problem on stdout; bad arguments are usage errors (64).
 * Retention: the dry run lists the old customer and erases nothing; apply
 * erases it (actor retention), the recent one stays readable.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDaybookSync } from '../../../test/support/daybookProcess.ts';
import { BankingService } from '../../banking/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/index.ts';
import { openShreddingStore } from '../../privacy/index.ts';

let dir: string;
let dataDir: string;
let storeUrl: string;

function daybook(args: string[], env: Record<string, string> = {}) {
  return runDaybookSync(args, { cwd: dir, env: { DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_AUDIT_KEYS_DIR: '', DAYBOOK_RETENTION: '', ...env } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-archive-e2e-'));
  dataDir = join(dir, 'data');
  storeUrl = `sqlite:${join(dataDir, 'daybook.db')}`;
  const clock = fixedClock(Date.UTC(2025, 0, 10));
  const store = await openShreddingStore(await openEventStore(storeUrl, { clock }), { storeUrl, keysDir: join(dataDir, 'keys'), clock });
  try {
    const bank = await BankingService.open(store, { ledgerPartition: 'banking-test', clock });
    await bank.registerCustomer({ customerId: 'test.old', pii: { fullName: 'Old Customer', email: 'old@example.com' } });
    clock.advance(30 * 86_400_000); // February
    await bank.openAccount({ accountId: 'test.acc1', customerId: 'test.old', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 500n });
    clock.advance(Date.now() - clock.nowMs() - 30 * 86_400_000);
    await bank.registerCustomer({ customerId: 'test.recent', pii: { fullName: 'Recent Customer', email: 'recent@example.com' } });
    await bank.ledger.close();
  } finally {
    await store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = () => join(dir, 'archive');
const jan = () => join(out(), 'daybook-archive-2025-01.jsonl.gz');

describe('daybook archive and verify --archive', () => {
  it('writes January and February, then skips them', () => {
    const first = daybook(['archive', '--before', '2025-03-01', '--out', out()]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/wrote +2025-01: positions 1\.\./);
    expect(first.stdout).toMatch(/wrote +2025-02: positions/);
    expect(first.stdout).toMatch(/2 period\(s\) written/);
    const again = daybook(['archive', '--before', '2025-03-01', '--out', out(), '--json']);
    expect(again.status).toBe(0);
    expect((JSON.parse(again.stdout) as { periods: Array<{ outcome: string }> }).periods.map((p) => p.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('verifies a file offline, with its own key or a pinned one', () => {
    const plain = daybook(['verify', '--archive', jan()]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/: intact/);
    const keyFile = join(dir, 'seal.pub.pem');
    writeKey(keyFile);
    const pinned = daybook(['verify', '--archive', jan(), '--public-key', keyFile, '--json']);
    expect(pinned.status).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, period: '2025-01' });
  });

  it('fails a truncated file and an edited manifest with exit 65 and the problem', () => {
    const copyDir = join(dir, 'copy');
    mkdirSync(copyDir);
    const file = join(copyDir, 'daybook-archive-2025-01.jsonl.gz');
    copyFileSync(jan(), file);
    copyFileSync(`${jan()}.manifest.json`, `${file}.manifest.json`);
    truncateSync(file, statSync(file).size - 10);
    const truncated = daybook(['verify', '--archive', file]);
    expect(truncated.status).toBe(65);
    expect(truncated.stdout).toMatch(/BROKEN: .*truncated/);
    copyFileSync(jan(), file);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${file}.manifest.json`, JSON.stringify({ ...manifest, count: 1 }));
    const edited = daybook(['verify', '--archive', file]);
    expect(edited.status).toBe(65);
    expect(edited.stdout).toMatch(/signature does not verify/);
  });

  it('refuses bad arguments as usage errors', () => {
    expect(daybook(['archive', '--before', 'last tuesday', '--out', out()])).toMatchObject({ status: 64 });
    expect(daybook(['archive', '--before', '2025-03-01', '--out', out(), '--period', 'year'])).toMatchObject({ status: 64 });
    expect(daybook(['verify', '--archive', join(dir, 'nope.gz')])).toMatchObject({ status: 69 });
  });
});

describe('daybook retention apply', () => {
  it('needs DAYBOOK_RETENTION', () => {
    const result = daybook(['retention', 'apply', '--dry-run']);
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(/DAYBOOK_RETENTION is not set/);
  });

  it('a dry run lists the old customer and changes nothing; apply erases it; the recent one stays', () => {
    const env = { DAYBOOK_RETENTION: 'customer=1y' };
    const dry = daybook(['retention', 'apply', '--dry-run'], env);
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/would erase: bankcustomer:test\.old/);
    expect(dry.stdout).not.toMatch(/test\.recent/);
    expect(dry.stdout).toMatch(/nothing was changed/);
    expect(JSON.parse(daybook(['subject', 'export', 'bankcustomer:test.old']).stdout)).toMatchObject({ personalData: { fullName: 'Old Customer' } });
    const applied = daybook(['retention', 'apply'], env);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/erased: bankcustomer:test\.old .*DataSubjectErased at position \d+/);
    expect(readFileSync(join(dataDir, 'keys', 'erasures.jsonl'), 'utf8')).toContain('bankcustomer:test.old');
    const old = daybook(['subject', 'export', 'bankcustomer:test.old']).stdout;
    expect(old).toContain('[erased]');
    expect(old).not.toContain('Old Customer');
    expect(daybook(['subject', 'export', 'bankcustomer:test.recent']).stdout).toContain('Recent Customer');
    expect(daybook(['verify']).status).toBe(0);
  });
});

/** The key folder's current public key, as an auditor would be handed it. */
function writeKey(file: string): void {
  const keysDir = join(dataDir, 'keys');
  writeFileSync(file, readFileSync(join(keysDir, `seal-${readFileSync(join(keysDir, 'current-seal-key'), 'utf8').trim()}.pub.pem`)));
}
