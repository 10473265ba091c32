/**
 * Failover drill (test/support/failoverDrill.ts): a PostgreSQL primary with a
 * synchronous standby (`synchronous_commit=remote_apply`), a Daybook server
 * on the primary taking transfers from 8 concurrent clients that record every
 * acknowledged one, kill -9 of the primary's postmaster mid-load, `pg_ctl
 * promote` of the standby, a new server pointed at it: every acknowledged
 * transfer is there (posted), and every unacknowledged one retried with its
 * Idempotency-Key lands. Prints the time from the kill to the first write the
 * new server accepted (no assertion on it: machines differ). Needs
 * PostgreSQL's binaries; under CI=true their absence fails.
 */
import { afterAll, expect, it } from 'vitest';
import { describeIfPostgresBinaries } from '../test/support/postgres.ts';
import { type FailoverDrill, runFailoverDrill } from '../test/support/failoverDrill.ts';

let drill: FailoverDrill | undefined;
afterAll(async () => {
  await drill?.stop();
});

describeIfPostgresBinaries('failover drill: synchronous standby promoted after kill -9 of the primary', () => {
  it('keeps every acknowledged write and accepts writes again on the promoted standby', async () => {
    drill = await runFailoverDrill({ clients: 8, acksBeforeKill: 200 });
    console.log(`failover: ${drill.acknowledged.size} acknowledged writes; kill -9 of the primary → first accepted write ${(drill.killToFirstWriteMs / 1000).toFixed(2)} s (promote ${(drill.promoteMs / 1000).toFixed(2)} s)`);
    expect(drill.acknowledged.size).toBeGreaterThanOrEqual(200);
    for (const n of drill.acknowledged) {
      const response = await fetch(`${drill.serverUrl}/v1/transfers/t-${n}`, { headers: drill.headers });
      expect(response.status, `acknowledged transfer t-${n}`).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe('posted');
    }
    for (const n of drill.unacknowledged) expect((await drill.postTransfer(n)).status).toBe(200);
  }, 240_000);
});
