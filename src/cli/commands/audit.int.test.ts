/**
 * `daybook audit access` on a real SQLite store in a temp data folder, run
 * in-process through `runCli`: records filtered by subject, actor and
 * period, as text and as JSON lines; bad times are usage errors (64), a
 * missing store is 69.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessAuditLog, type PiiAccessedData } from '../../compliance/accessAudit/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { runCli } from '../daybook.ts';

let dataDir: string;
const NOW = Date.now();
const record = (keyId: string, subjects: string[], purpose: string | null, atMs: number): PiiAccessedData => ({
  actor: { keyId, role: 'operator', mode: 'test' }, channel: 'api', method: 'GET', route: '/v1/customers/:id', subjects, purpose,
  at: new Date(atMs).toISOString(), requestId: 'req-1', correlationId: null,
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'daybook-audit-'));
  const store = await openEventStore(`sqlite:${join(dataDir, 'daybook.db')}`);
  const log = new AccessAuditLog(store, 'sync');
  await log.record(record('key_a', ['ada'], 'ticket 1', NOW - 2 * 86_400_000));
  await log.record(record('key_b', ['ada', 'bob'], null, NOW - 60_000));
  await log.record(record('key_a', ['bob'], 'kyc', NOW - 1000));
  await log.close();
  await store.close();
});
afterAll(() => { rmSync(dataDir, { recursive: true, force: true }); });

async function daybook(args: string[], env: Record<string, string> = { DAYBOOK_DATA_DIR: dataDir }): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: { write: (text: string) => { stdout += text; } }, stderr: { write: (text: string) => { stderr += text; } }, env });
  return { code, stdout, stderr };
}

describe('daybook audit access', () => {
  it('prints the reads of a subject, oldest first, with who and why', async () => {
    const { code, stdout } = await daybook(['audit', 'access', '--subject', 'ada']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('key_a(operator,test)');
    expect(lines[0]).toContain('"ticket 1"');
    expect(lines[1]).toContain('ada,bob');
    expect(lines[1]).toContain('null');
  });

  it('filters by actor and period, as JSON lines', async () => {
    const { code, stdout } = await daybook(['audit', 'access', '--actor', 'key_a', '--from', new Date(NOW - 86_400_000).toISOString(), '--json']);
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as PiiAccessedData);
    expect(records.map((item) => [item.actor.keyId, item.subjects, item.purpose])).toEqual([['key_a', ['bob'], 'kyc']]);
  });

  it('says so when nothing was read', async () => {
    const { code, stdout, stderr } = await daybook(['audit', 'access', '--subject', 'nobody']);
    expect({ code, stdout }).toEqual({ code: 0, stdout: '' });
    expect(stderr).toContain('no reads of personal data');
  });

  it('refuses a bad time with 64 and a missing store with 69', async () => {
    expect((await daybook(['audit', 'access', '--from', 'yesterday'])).code).toBe(64);
    const missing = await daybook(['audit', 'access'], { DAYBOOK_DATA_DIR: join(dataDir, 'none') });
    expect(missing.code).toBe(69);
    expect(missing.stderr).toContain('no store at');
  });
});
