/**
 * The erasure journal: every erasure, as a line `{"subject","erasedAtMs"}`
 * appended (and fsynced) to `<keys folder>/erasures.jsonl` before the
 * subject's key is destroyed. It lives beside the master key, apart from the
 * event store and its key store, so a backup of those (or a PostgreSQL
 * point-in-time restore of the database) taken before an erasure cannot
 * bring the erased data back: `daybook restore` reads the journal and
 * destroys again the keys of every subject it names (`reapplyErasures`),
 * then records the erasures the restored log lacks. The journal holds
 * subject ids and times only, never personal data.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from '../kernel/privateFiles.ts';
import type { Tombstone } from './subjectKeyStore.ts';

export const ERASURE_JOURNAL_FILE = 'erasures.jsonl';

export function erasureJournalPath(keysDir: string): string {
  return join(keysDir, ERASURE_JOURNAL_FILE);
}

/** Appends one erasure and makes it durable before returning. */
export function appendErasureJournal(keysDir: string, tombstone: Tombstone): void {
  ensurePrivateDir(keysDir);
  const path = erasureJournalPath(keysDir);
  ensurePrivateFile(path);
  appendFileSync(path, `${JSON.stringify({ subject: tombstone.subject, erasedAtMs: tombstone.erasedAtMs })}\n`, { mode: 0o600 });
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every erasure the journal holds (a torn last line, from a crash while appending, is skipped: its erasure had not happened). */
export function readErasureJournal(keysDir: string): Tombstone[] {
  const path = erasureJournalPath(keysDir);
  if (!existsSync(path)) return [];
  const tombstones: Tombstone[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    try {
      const parsed = JSON.parse(line) as { subject?: unknown; erasedAtMs?: unknown };
      if (typeof parsed.subject === 'string' && typeof parsed.erasedAtMs === 'number') tombstones.push({ subject: parsed.subject, erasedAtMs: parsed.erasedAtMs });
    } catch (error) {
      if (index < lines.length - 1 && lines.slice(index + 1).some((rest) => rest !== '')) throw new Error(`${path}: line ${index + 1} is not an erasure record: ${(error as Error).message}`);
    }
  }
  return tombstones;
}
