/**
 * `daybook keys create | list | revoke` on a real SQLite store in a temp data
 * folder, run in-process through `runCli`: the secret is printed once and
 * works against the same store and pepper; list never shows it; revoke
 * stops it; a bad role is a usage error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyRegistry, createApiKeyHasher, loadPepper } from '../../auth/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { runCli } from '../daybook.ts';

let dataDir: string;

beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'daybook-keys-')); });
afterEach(() => { rmSync(dataDir, { recursive: true, force: true }); });

async function daybook(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => { stdout += text; } },
    stderr: { write: (text: string) => { stderr += text; } },
    env: { DAYBOOK_DATA_DIR: dataDir },
  });
  return { code, stdout, stderr };
}

async function authenticate(secret: string) {
  const store = await openEventStore(`sqlite:${join(dataDir, 'daybook.db')}`);
  try {
    const registry = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(loadPepper(dataDir, undefined)) });
    return registry.authenticate(secret);
  } finally {
    await store.close();
  }
}

describe('daybook keys', () => {
  it('creates a key whose secret is printed once and authenticates', async () => {
    const created = await daybook(['keys', 'create', '--role', 'operator', '--mode', 'live', '--name', 'payments worker']);
    expect(created.code).toBe(0);
    const [summary, secret] = created.stdout.split('\n');
    expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    const keyId = summary!.split(' ')[0]!;
    expect(await authenticate(secret!)).toMatchObject({ keyId, role: 'operator', mode: 'live', name: 'payments worker' });

    const listed = await daybook(['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(keyId);
    expect(listed.stdout).toContain(`sk_live_****${secret!.slice(-4)}`);
    expect(listed.stdout).not.toContain(secret!);

    const revoked = await daybook(['keys', 'revoke', keyId]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked key_/);
    expect(await authenticate(secret!)).toBeUndefined();
    expect((await daybook(['keys', 'list', '--json'])).stdout).toContain('"revokedAtMs":');
  });

  it('refuses an unknown role (64) and an unknown key id (65)', async () => {
    const badRole = await daybook(['keys', 'create', '--role', 'root']);
    expect(badRole.code).toBe(64);
    expect(badRole.stderr).toContain('admin, operator, auditor, support, service');
    const unknown = await daybook(['keys', 'revoke', 'key_nope']);
    expect(unknown.code).toBe(65);
    expect(unknown.stderr).toContain('not_found');
  });
});
