/**
 * The real `bin/daybook.js` on seals and audit bundles, as an operator and an
 * auditor use it: `daybook seal` (and `--rotate-key`), `daybook verify` with
 * seals and with only a public key file, `--export` of a bundle (never over
 * an existing file) and `--bundle` verifying it with no database; a cut-off
 * bundle and a seal by an untrusted key exit 65 with a message, bad options
 * exit 64, a missing bundle 69. Nothing crashes (stderr stays empty on findings).
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDaybookSync } from '../../test/support/daybookProcess.ts';
import { openEventStore } from '../eventstore/open.ts';

let dir: string;
let dataDir: string;

function daybook(args: string[]) {
  return runDaybookSync(args, { cwd: dir, env: { DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_AUDIT_KEYS_DIR: '' } });
}

const publicKeyFiles = (): string[] => readdirSync(join(dataDir, 'keys')).filter((name) => name.endsWith('.pub.pem')).map((name) => join(dataDir, 'keys', name));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-audit-cli-'));
  dataDir = join(dir, 'data');
  const store = await openEventStore(`sqlite:${join(dataDir, 'daybook.db')}`);
  for (let index = 0; index < 12; index += 1) await store.append({ streamId: `acct-${index % 3}`, events: [{ type: 'Touched', data: { index } }] });
  await store.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('daybook seal and verify', () => {
  it('seals the log, then verifies chains and seal, the seal being the unsealed tail', () => {
    const sealed = daybook(['seal']);
    expect(sealed.stderr).toBe('');
    expect(sealed.status).toBe(0);
    expect(sealed.stdout).toMatch(/^sealed positions 1\.\.12 \(12 events\): seal 1 at position 13, key ed25519-[0-9a-f]{16}\n$/);
    const verified = daybook(['verify']);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('ok: 13 events in 4 streams');
    expect(verified.stdout).toContain('seals: 1 checked, positions 1..12');
    expect(verified.stdout).toContain('unsealed tail: 1 event (after position 12)');
    const json = JSON.parse(daybook(['verify', '--json']).stdout) as { ok: boolean; seals: { sealsChecked: number; unsealedTail: string } };
    expect(json).toMatchObject({ ok: true, seals: { sealsChecked: 1, unsealedTail: '1' } });
  });

  it('verifies with only the public key file, and fails on a key it was not given', () => {
    expect(daybook(['verify', '--public-key', publicKeyFiles()[0]!]).status).toBe(0);
    const stranger = join(dir, 'stranger.pub.pem');
    writeFileSync(stranger, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const refused = daybook(['verify', '--public-key', stranger]);
    expect(refused.stderr).toBe('');
    expect(refused.status).toBe(65);
    expect(refused.stdout).toContain('broken: seal 1 (its event at position 13): seal_key_unknown');
  });

  it('rotates the key: both seals verify with the folder, and with both public key files', () => {
    const rotated = daybook(['seal', '--rotate-key']);
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/^new signing key ed25519-[0-9a-f]{16}\nsealed positions 13\.\.13 \(1 event\): seal 2/);
    expect(daybook(['verify']).stdout).toContain('seals: 2 checked, positions 1..13');
    const files = publicKeyFiles();
    expect(files).toHaveLength(2);
    expect(daybook(['verify', ...files.flatMap((file) => ['--public-key', file])]).status).toBe(0);
    expect(daybook(['verify', '--public-key', files[0]!]).status).toBe(65);
  });
});

describe('daybook verify --export and --bundle', () => {
  it('exports a bundle, refuses to overwrite it, and verifies it with no database', () => {
    const file = join(dir, 'audit.jsonl');
    const exported = daybook(['verify', '--export', file]);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toContain(`exported positions 1..14 (14 events, 2 seals) to ${file}`);
    const again = daybook(['verify', '--export', file]);
    expect(again.status).toBe(64);
    expect(again.stderr).toContain('exists');
    rmSync(dataDir, { recursive: true, force: true });
    const bundle = daybook(['verify', '--bundle', file, ...publicKeyFilesOf(file).flatMap((pem) => ['--public-key', pem])]);
    expect(bundle.stderr).toBe('');
    expect(bundle.status).toBe(0);
    expect(bundle.stdout).toContain('ok: bundle of positions 1..14: 14 events in 4 streams');
    expect(bundle.stdout).toContain('seals: 2 checked, positions 1..13');
    expect(bundle.stdout).toContain('unsealed: 1 event of the bundle covered by no seal in it');
  });

  it('reports a cut-off bundle with exit 65 and a clear line', () => {
    const text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text.slice(0, text.length - 200));
    const result = daybook(['verify', '--bundle', cut]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(65);
    expect(result.stdout).toMatch(/^broken: bundle line \d+: bundle_truncated\n/);
  });

  it('refuses bad options (64) and a missing bundle (69)', () => {
    expect(daybook(['verify', '--bundle', join(dir, 'nope.jsonl')])).toMatchObject({ status: 69, stderr: expect.stringContaining('no bundle at') });
    expect(daybook(['verify', '--bundle', join(dir, 'audit.jsonl'), '--export', join(dir, 'x.jsonl')]).status).toBe(64);
    expect(daybook(['verify', '--export', join(dir, 'y.jsonl'), '--from-position', '0']).status).toBe(64);
    expect(daybook(['verify', '--from-position', '2']).status).toBe(64);
    expect(existsSync(join(dir, 'y.jsonl'))).toBe(false);
  });
});

/** The public keys an auditor was handed: saved from the bundle's own header here, as if sent apart. */
function publicKeyFilesOf(bundle: string): string[] {
  const header = JSON.parse(readFileSync(bundle, 'utf8').split('\n')[0]!) as { publicKeys: Array<{ keyId: string; pem: string }> };
  return header.publicKeys.map(({ keyId, pem }) => {
    const file = join(dir, `${keyId}.pub.pem`);
    writeFileSync(file, pem);
    return file;
  });
}
