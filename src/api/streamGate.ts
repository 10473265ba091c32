import { DaybookError } from '../kernel/index.ts';

/** How many `/v1/stream` connections may be open: per API key, and in all (DAYBOOK_STREAM_MAX_PER_KEY, DAYBOOK_STREAM_MAX_TOTAL). */
export interface StreamLimits {
  perKey: number;
  total: number;
}

/**
 * Counts open live streams. A stream holds a slot from its acceptance until
 * its connection closes; past either cap a new one is refused with 429
 * (`rate_limited`), since each open stream costs memory and a share of every
 * commit's fan-out for as long as it lives, which the request rate limit
 * does not see.
 *
 * @example
 * const release = gate.acquire(auth.keyId); // throws rate_limited past a cap
 * socket.once('close', release);            // releasing twice is harmless
 */
export class StreamGate {
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: StreamLimits) {}

  /** Streams open now. */
  get open(): number {
    return this.total;
  }

  /** Takes a slot for `keyId`; the returned function gives it back (once, however often it is called). */
  acquire(keyId: string): () => void {
    const held = this.perKey.get(keyId) ?? 0;
    if (held >= this.limits.perKey) {
      throw new DaybookError('rate_limited', `API key ${keyId} already has ${held} open streams, the most one key may have (${this.limits.perKey}); close one first.`, { limit: this.limits.perKey });
    }
    if (this.total >= this.limits.total) {
      throw new DaybookError('rate_limited', `This server already has ${this.total} open streams, the most it serves (${this.limits.total}); retry later.`, { limit: this.limits.total });
    }
    this.perKey.set(keyId, held + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perKey.get(keyId) ?? 1) - 1;
      if (left === 0) this.perKey.delete(keyId);
      else this.perKey.set(keyId, left);
    };
  }
}
