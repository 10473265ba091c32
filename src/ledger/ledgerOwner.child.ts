/**
 * A ledger process of the lease tests: takes the lease on one partition,
 * opens two accounts and books one transfer, then prints `ready` and idles,
 * heartbeating, until it is killed (the takeover test sends SIGKILL).
 *
 * Usage: node --import tsx ledgerOwner.child.ts <url> <partition> <owner> <leaseMs> <heartbeatMs>
 */
import { openEventStore } from '../eventstore/open.ts';
import { PostgresPartitionLeases } from './ledger.leases.ts';
import { LedgerEngine } from './ledger.service.ts';

const [url, partition, owner, leaseMs, heartbeatMs] = process.argv.slice(2);
const store = await openEventStore(url!, { poolSize: 2 });
const leases = await PostgresPartitionLeases.open({ url: url!, owner: owner!, leaseMs: Number.parseInt(leaseMs!, 10), heartbeatMs: Number.parseInt(heartbeatMs!, 10) });
const engine = await LedgerEngine.open(store, { partition: partition!, lease: leases.lease(partition!) });
const opened = await engine.executeAll(['bank', 'alice'].map((accountId) => ({
  type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const },
})));
const moved = await engine.execute({ type: 'CreateTransfer', data: { transferId: 'child-1', debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 25n, ledger: 'usd' } });
if (!opened.every((outcome) => outcome.ok) || !moved.ok) throw new Error('the owner could not write its partition');
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
