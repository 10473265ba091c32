/**
 * `daybook erase` and `daybook subject export` through the real
 * bin/daybook.js on a SQLite store written with encryption: the export
 * shows the decrypted personal data; erase destroys the key (exit 0), after
 * which the export and the store read "[erased]" and `daybook verify`
 * passes; erasing again (65, subject_already_erased), an unknown subject
 * (65, subject_not_found) and a malformed one (65, validation_failed) say
 * so on stderr; an export never overwrites a file and writes one 0600.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDaybookSync } from '../../../test/support/daybookProcess.ts';
import { BankingService } from '../../banking/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { openShreddingStore } from '../../privacy/index.ts';

let dir: string;
let dataDir: string;

function daybook(args: string[]) {
  return runDaybookSync(args, { cwd: dir, env: { DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_AUDIT_KEYS_DIR: '' } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-erase-'));
  dataDir = join(dir, 'data');
  const storeUrl = `sqlite:${join(dataDir, 'daybook.db')}`;
  const store = await openShreddingStore(await openEventStore(storeUrl), { storeUrl, keysDir: join(dataDir, 'keys') });
  try {
    const bank = await BankingService.open(store, { ledgerPartition: 'banking-test' });
    await bank.registerCustomer({ customerId: 'test.ada', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    await bank.openAccount({ accountId: 'test.acc1', customerId: 'test.ada', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 500n });
    await bank.ledger.close();
  } finally {
    await store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('daybook erase', () => {
  it('exports the subject decrypted before erasure', () => {
    const result = daybook(['subject', 'export', 'bankcustomer:test.ada']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'active', personalData: { fullName: 'Ada Lovelace' }, related: { bankAccounts: ['test.acc1'] } });
  });

  it('erases the subject once; the store still verifies and reads "[erased]"', () => {
    const erased = daybook(['erase', 'bankcustomer:test.ada']);
    expect(erased.stderr).toBe('');
    expect(erased.status).toBe(0);
    expect(erased.stdout).toMatch(/^erased bankcustomer:test\.ada at /);
    const out = join(dir, 'ada.json');
    const exported = daybook(['subject', 'export', 'bankcustomer:test.ada', '--out', out]);
    expect(exported.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ status: 'erased', personalData: { fullName: '[erased]', email: '[erased]', phone: null }, erasure: { type: 'DataSubjectErased' } });
    expect(report.erasure.data.actor).toMatch(/^cli:/);
    expect(daybook(['subject', 'export', 'bankcustomer:test.ada', '--out', out]).status).toBe(64);
    const verified = daybook(['verify']);
    expect(verified.status).toBe(0);
  });

  it('refuses erasing twice, unknown and malformed subjects, with clear messages', () => {
    const again = daybook(['erase', 'bankcustomer:test.ada']);
    expect(again.status).toBe(65);
    expect(again.stderr).toMatch(/bankcustomer:test\.ada was erased at .* \(subject_already_erased\)/);
    const unknown = daybook(['erase', 'pcustomer:test:cus_nobody']);
    expect(unknown.status).toBe(65);
    expect(unknown.stderr).toContain('(subject_not_found)');
    const malformed = daybook(['erase', 'ada']);
    expect(malformed.status).toBe(65);
    expect(malformed.stderr).toContain('(validation_failed)');
    expect(daybook(['subject', 'export', 'bankcustomer:test.nobody']).stderr).toContain('(subject_not_found)');
  });
});
