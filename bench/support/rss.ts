import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MB = 1024 * 1024;
const POLL_MS = 50;

/**
 * Peak resident set size during a workload: `process.memoryUsage.rss()` polled
 * every 50 ms, plus explicit `sample()` calls from loops that block the event
 * loop. Includes worker threads (the SQLite writer), not the PostgreSQL server.
 */
export class RssSampler {
  private startBytes = 0;
  private peakBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.startBytes = process.memoryUsage.rss();
    this.peakBytes = this.startBytes;
    this.timer = setInterval(() => this.sample(), POLL_MS);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  stop(): { startMb: number; peakMb: number } {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return { startMb: this.startBytes / MB, peakMb: this.peakBytes / MB };
  }
}

/** The process's lifetime peak RSS in MB (`process.resourceUsage().maxRSS`, kilobytes on Linux). */
export function lifetimeMaxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

let gcFunction: (() => void) | null | undefined;

/**
 * Full garbage collection, so that a memory measurement starts from live data
 * only and not from what the previous workload left behind. The flag can be
 * set at run time; `gc` then appears in contexts created afterwards.
 */
export function collectGarbage(): void {
  if (gcFunction === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  gcFunction?.();
}
