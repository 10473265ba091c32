// The api bench's load generator, on its own thread: autocannon on the server's
// event loop would take its turns from the server it measures (on 2 cores the
// server and the load each get one). Plain JavaScript: worker threads load it
// without a TypeScript loader. workerData: { workload, url, seconds,
// connections, secret, accounts }; replies with autocannon's result summary.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

const { workload, url, seconds, connections, secret, accounts, batchSize = 1 } = workerData;
const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };

function options() {
  if (workload === 'hello') return { url: `${url}/hello`, duration: seconds, connections };
  if (workload === 'post-transfer') {
    let n = 0;
    return {
      url: `${url}/v1/transfers`, duration: seconds, connections, method: 'POST', headers,
      requests: [{
        method: 'POST',
        setupRequest: (request) => {
          n += 1;
          const debit = (n * 7919) % accounts;
          const credit = (debit + 1 + (n % (accounts - 1))) % accounts;
          return {
            ...request,
            headers: { ...headers, 'idempotency-key': `bench-${process.pid}-${n}` },
            body: JSON.stringify({ debit_account_id: `acct${debit}`, credit_account_id: `acct${credit}`, amount: String(1 + (n % 100)) }),
          };
        },
      }],
    };
  }
  if (workload === 'post-transfer-hot') {
    // Every transfer credits acct0 (a merchant's account, say); the debit side spreads over the others.
    let n = 0;
    return {
      url: `${url}/v1/transfers`, duration: seconds, connections, method: 'POST', headers,
      requests: [{
        method: 'POST',
        setupRequest: (request) => {
          n += 1;
          const debit = 1 + ((n * 7919) % (accounts - 1));
          return {
            ...request,
            headers: { ...headers, 'idempotency-key': `bench-hot-${process.pid}-${n}` },
            body: JSON.stringify({ debit_account_id: `acct${debit}`, credit_account_id: 'acct0', amount: String(1 + (n % 100)) }),
          };
        },
      }],
    };
  }
  if (workload === 'post-batch') {
    // Batches of `batchSize` independent transfers (atomic: false), one Idempotency-Key per batch.
    let n = 0;
    return {
      url: `${url}/v1/transfers/batch`, duration: seconds, connections, method: 'POST', headers,
      requests: [{
        method: 'POST',
        setupRequest: (request) => {
          n += 1;
          const transfers = [];
          for (let i = 0; i < batchSize; i += 1) {
            const m = n * batchSize + i;
            const debit = (m * 7919) % accounts;
            const credit = (debit + 1 + (m % (accounts - 1))) % accounts;
            transfers.push({ debit_account_id: `acct${debit}`, credit_account_id: `acct${credit}`, amount: String(1 + (m % 100)) });
          }
          return { ...request, headers: { ...headers, 'idempotency-key': `bench-batch-${process.pid}-${n}` }, body: JSON.stringify({ transfers, atomic: false }) };
        },
      }],
    };
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
