import { DaybookError } from '../kernel/index.ts';

interface Waiter {
  position: bigint;
  resolve(): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

/** Callers waiting for a projection's checkpoint to reach a position, each with its own timeout. */
export class PositionWaiters {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly projection: string) {}

  /** Resolves when `resolveUpTo` reaches `position`; rejects with `projection_wait_timeout` after `timeoutMs` (`reached()` says how far it got). */
  add(position: bigint, timeoutMs: number, reached: () => bigint): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        position, resolve, reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const at = reached();
          reject(new DaybookError('projection_wait_timeout', `projection ${this.projection} did not reach position ${position} within ${timeoutMs} ms (at ${at})`,
            { projection: this.projection, position: position.toString(), reached: at.toString(), timeoutMs }));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** True when someone waits for a position at or below `position`. */
  waitingUpTo(position: bigint): boolean {
    for (const waiter of this.waiters) if (waiter.position <= position) return true;
    return false;
  }

  resolveUpTo(reached: bigint): void {
    for (const waiter of this.waiters) {
      if (waiter.position > reached) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}
