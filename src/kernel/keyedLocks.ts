/**
 * Keyed mutual exclusion within one process: callers of one key run one
 * after another, in arrival order; different keys run side by side. A
 * failing caller does not hold up the next.
 *
 * @example
 * const locks = new KeyedLocks();
 * await Promise.all([locks.run('acct-1', closeIt), locks.run('acct-1', freezeIt)]); // one, then the other
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, run: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    const mine = (async () => {
      if (before !== undefined) await before.catch(() => undefined);
      return run();
    })();
    this.tails.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }
}
