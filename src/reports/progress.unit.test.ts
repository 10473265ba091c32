/** The progress line: drawn in place on a terminal, throttled, cleared at the end; nothing at all elsewhere. */
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.ts';

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe('createProgress', () => {
  it('writes nothing when the stream is not a terminal', () => {
    const stream = recorder(false);
    const progress = createProgress(stream, 'report x', () => 0);
    progress.update(5n, 10n);
    progress.done();
    expect(stream.writes).toEqual([]);
  });

  it('redraws one line at most every interval, always the last, then clears it', () => {
    const stream = recorder(true);
    let now = 0;
    const progress = createProgress(stream, 'report x', () => now, 200);
    progress.update(1n, 4n);
    now = 100;
    progress.update(2n, 4n); // within the interval: skipped
    now = 300;
    progress.update(3n, 4n);
    now = 310;
    progress.update(4n, 4n); // the end is always drawn
    progress.done();
    expect(stream.writes).toEqual([
      '\rreport x: 25% (1/4)\u001b[K', '\rreport x: 75% (3/4)\u001b[K', '\rreport x: 100% (4/4)\u001b[K', '\r\u001b[K',
    ]);
  });

  it('says 100% of an empty log', () => {
    const stream = recorder(true);
    createProgress(stream, 'r', () => 0).update(0n, 0n);
    expect(stream.writes).toEqual(['\rr: 100% (0/0)\u001b[K']);
  });
});
