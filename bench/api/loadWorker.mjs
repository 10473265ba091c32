// The api bench's load generator, on its own thread: autocannon on the server's
// event loop would take its turns from the server it measures (on 2 cores the
// server and the load each get one). Plain JavaScript: worker threads load it
// without a TypeScript loader. workerData: { workload, url, seconds,
// connections, secret, accounts, batchSize }; replies with autocannon's result summary.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

const { workload, url, seconds, connections, secret, accounts, batchSize = 1 } = workerData;
const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };

/** Spread transfers: the n-th one's accounts, from all `accounts`, never the same account on both sides. */
function spread(n) {
  const debit = (n * 7919) % accounts;
  return { debit_account_id: `acct${debit}`, credit_account_id: `acct${(debit + 1 + (n % (accounts - 1))) % accounts}`, amount: String(1 + (n % 100)) };
}

/** Every transfer credits acct0 (a merchant's account, say); the debit side spreads over the others. */
function ontoHotAccount(n) {
  return { debit_account_id: `acct${1 + ((n * 7919) % (accounts - 1))}`, credit_account_id: 'acct0', amount: String(1 + (n % 100)) };
}

/** A POST load: the n-th request's body from `bodyOf(n)`, with an Idempotency-Key of its own. */
function posting(path, keyPrefix, bodyOf) {
  let n = 0;
  return {
    url: `${url}${path}`, duration: seconds, connections, method: 'POST', headers,
    requests: [{
      method: 'POST',
      setupRequest: (request) => {
        n += 1;
        return { ...request, headers: { ...headers, 'idempotency-key': `${keyPrefix}-${process.pid}-${n}` }, body: JSON.stringify(bodyOf(n)) };
      },
    }],
  };
}

function options() {
  if (workload === 'hello') return { url: `${url}/hello`, duration: seconds, connections };
  if (workload === 'post-transfer') return posting('/v1/transfers', 'bench', spread);
  if (workload === 'post-transfer-hot') return posting('/v1/transfers', 'bench-hot', ontoHotAccount);
  if (workload === 'post-batch') {
    // Batches of `batchSize` independent transfers (atomic: false), one Idempotency-Key per batch.
    return posting('/v1/transfers/batch', 'bench-batch', (n) => ({ transfers: Array.from({ length: batchSize }, (_, i) => spread(n * batchSize + i)), atomic: false }));
  }
  if (workload === 'get-balance') {
    let m = 0;
    return {
      url: `${url}/v1/accounts/acct0/balance`, duration: seconds, connections, headers,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/v1/accounts/acct${(m++) % accounts}/balance` }) }],
    };
  }
  throw new Error(`unknown workload ${workload}`);
}

// On a worker thread autocannon hands back raw histograms (it expects to be one of its own workers): aggregate them here.
const opts = options();
const raw = await autocannon(opts);
const result = autocannon.aggregateResult([raw], opts);
parentPort.postMessage({
  requestsPerS: Math.round(raw.totalCompletedRequests / raw.duration),
  p50: result.latency.p50, p99: result.latency.p99, p999: result.latency.p99_9 ?? result.latency.p99,
  errors: result.errors + result.timeouts, non2xx: result.non2xx,
});
