/** `--database-url`: a refused url is one usage line (exit 64) that names the option and never shows the password. */
import { describe, expect, it } from 'vitest';
import { runCli } from './daybook.ts';

async function daybook(args: string[]): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const io = { stdout: { write: () => true }, stderr: { write: (text: string) => { stderr += text; return true; } }, env: {} };
  const status = await runCli(args, io);
  return { status, stderr };
}

describe('--database-url', () => {
  it.each([
    ['mysql://app:hunter2secret@db/daybook', 'mysql://app:***@db/daybook'],
    ['postgres://app:hunter2secret@db:notaport/daybook?sslmode=require', 'postgres://app:***@db:notaport/daybook?…'],
  ])('refuses %s with exit 64, showing it as %s', async (url, shown) => {
    const { status, stderr } = await daybook(['verify', '--database-url', url]);
    expect(status).toBe(64);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('--database-url')]);
    expect(stderr).toContain(shown);
    expect(stderr).not.toContain('hunter2secret');
  });
});
