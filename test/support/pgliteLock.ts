/**
 * PGlite has a single database, so test files that use it take turns: a lock
 * file shared by all vitest workers, held from createTestDatabase() to drop().
 * Without it two files running in parallel would migrate and wipe the same
 * schema under each other.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Below vitest's hookTimeout (120 s), so that this message is the one shown. */
const LOCK_WAIT_MS = 110_000;
const POLL_INTERVAL_MS = 100;

export type PgliteLock = { release(): void };

let heldPath: string | null = null;

export async function acquirePgliteLock(pgliteUrl: string): Promise<PgliteLock> {
  if (heldPath !== null) {
    throw new Error('PGlite serves one test database at a time: drop() the previous one before creating another');
  }
  const lockPath = path.join(os.tmpdir(), `daybook-pglite-${new URL(pgliteUrl).port}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!tryCreate(lockPath)) {
    if (Date.now() >= deadline) {
      throw new Error(`PGlite's test database is still held by pid ${readOwner(lockPath)} after ${LOCK_WAIT_MS} ms ` +
        `(${lockPath}): does a test file miss its drop()?`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  heldPath = lockPath;
  const release = () => {
    if (heldPath !== lockPath) return;
    heldPath = null;
    rmSync(lockPath, { force: true });
    process.removeListener('exit', release);
  };
  // A worker that ends without drop() must not hold up the files after it.
  process.once('exit', release);
  return { release };
}

function tryCreate(lockPath: string): boolean {
  try {
    writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    removeIfOwnerDied(lockPath);
    return false;
  }
}

/**
 * A worker that crashed left its lock behind. Two waiters could both see it and
 * the second remove the first one's new lock; that needs a crash and a race in
 * the same millisecond, which a test run can afford.
 */
function removeIfOwnerDied(lockPath: string): void {
  const owner = readOwner(lockPath);
  // Empty: the owner is between creating the file and writing its pid.
  if (owner === null) return;
  try {
    process.kill(owner, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(lockPath, { force: true });
  }
}

function readOwner(lockPath: string): number | null {
  try {
    const owner = Number(readFileSync(lockPath, 'utf8').trim());
    return Number.isInteger(owner) && owner > 0 ? owner : null;
  } catch {
    return null;
  }
}
