import { DaybookError } from '../kernel/errors.ts';
import type { LeaseClaim, PartitionLease } from './ledger.leases.ts';

/**
 * A ledger engine's hold on its partition's lease: the first claim, a
 * heartbeat every `heartbeatMs` that extends the lease (or, for a standby,
 * tries to take it), and the hand-back on close. The engine asks `owns`
 * before it decides anything; `taken` and `lost` tell it when that changes.
 * Ownership also ends locally once leaseMs passed without a successful
 * heartbeat, since by then another process may hold the lease.
 */
export class PartitionOwnership {
  private claimed: LeaseClaim | null = null;
  /** When the lease was last taken or extended (performance.now()). */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly lease: PartitionLease,
    private readonly streamId: string,
    private readonly on: { taken(): void; lost(): void },
  ) {}

  /** The first claim; without `standby`, a lease held elsewhere fails with `ledger_partition_not_owned`. */
  async claim(standby: boolean): Promise<void> {
    const started = performance.now();
    this.claimed = await this.lease.acquire();
    this.renewedAt = started;
    if (!this.claimed.held && !standby) throw this.notOwned();
  }

  get owns(): boolean {
    return this.claimed?.held === true && performance.now() - this.renewedAt < this.lease.leaseMs;
  }

  get lastClaim(): LeaseClaim | null {
    return this.claimed;
  }

  notOwned(): DaybookError {
    const claim = this.claimed;
    const holder = claim && !claim.held ? claim.owner : null;
    return new DaybookError('ledger_partition_not_owned', holder
      ? `ledger partition ${this.streamId} is owned by ${holder} (lease until ${new Date(claim!.expiresAtMs).toISOString()})`
      : `this process does not hold the lease on ledger partition ${this.streamId}`, {
      partition: this.streamId, owner: holder, expiresAtMs: claim?.expiresAtMs ?? null,
    });
  }

  startHeartbeat(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.heartbeat().finally(() => { this.beating = null; this.startHeartbeat(); });
    }, this.lease.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and hands the lease back at once, so a standby need not wait for it to lapse. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.beating;
    if (this.claimed?.held) await this.lease.release().catch(() => {});
  }

  /**
   * Extends the lease we hold, or tries to take it when we do not. A
   * heartbeat that fails (database away) changes nothing: the lease lapses
   * by itself after leaseMs.
   */
  private async heartbeat(): Promise<void> {
    const before = this.owns;
    const started = performance.now();
    try {
      if (this.claimed?.held && await this.lease.renew()) {
        this.renewedAt = started;
        return;
      }
      this.claimed = await this.lease.acquire();
      if (this.claimed.held) this.renewedAt = started;
    } catch {
      if (before && !this.owns) this.on.lost();
      return;
    }
    // Re-taken after a lapse counts as taken: someone may have written meanwhile.
    if (this.claimed.held) this.on.taken();
    else if (before) this.on.lost();
  }
}
