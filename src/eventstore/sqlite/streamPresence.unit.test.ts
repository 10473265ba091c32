import { describe, expect, it } from 'vitest';
import { StreamPresence } from './streamPresence.ts';

describe('stream presence: memory follows distinct streams, not appends', () => {
  it('appending to the same streams again and again grows no filter', () => {
    const presence = new StreamPresence(1);
    const filters = (presence as unknown as { filters: unknown[] }).filters;
    // A ledger partition and a few accounts written 300K times: three times the first filter's capacity in appends, 4 streams.
    for (let i = 0; i < 300_000; i += 1) presence.add(i % 4 === 0 ? 'ledger-main' : `account-${i % 3}`);
    expect(filters).toHaveLength(1);
    (presence as unknown as { ready: boolean }).ready = true;
    expect(presence.mayExist('ledger-main')).toBe(true);
    expect(presence.mayExist('account-2')).toBe(true);
  });
});
