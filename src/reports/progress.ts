/**
 * A one-line progress indicator on a terminal: `report trial-balance: 45%
 * (12000/26000)`, redrawn in place at most every `intervalMs`, and cleared
 * at the end. Nothing at all when the stream is not a TTY (a pipe, a file,
 * CI logs), so output meant for machines stays clean.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface Progress {
  update(position: bigint, head: bigint): void;
  done(): void;
}

const NO_PROGRESS: Progress = { update: () => {}, done: () => {} };

export function createProgress(stream: ProgressStream, label: string, nowMs: () => number, intervalMs = 200): Progress {
  if (stream.isTTY !== true) return NO_PROGRESS;
  let lastDrawnMs = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(position, head) {
      const now = nowMs();
      if (now - lastDrawnMs < intervalMs && position < head) return;
      lastDrawnMs = now;
      const percent = head === 0n ? 100n : (position * 100n) / head;
      stream.write(`\r${label}: ${percent}% (${position}/${head})\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
