// The payments bench's load generator, on its own thread (as bench/api's):
// autocannon on the server's event loop would take its turns from the server
// it measures. Plain JavaScript: worker threads load it without a TypeScript
// loader. Bodies are form-encoded, as Stripe's clients send them.
// workerData: { workload, url, seconds, connections, secret, intents };
// replies with autocannon's figures.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

const { workload, url, seconds, connections, secret, intents } = workerData;
const form = { authorization: `Bearer ${secret}`, 'content-type': 'application/x-www-form-urlencoded' };
const key = (n) => `bench-${workload}-${process.pid}-${Date.now()}-${n}`;

/** A POST whose body and Idempotency-Key change with every request (the SDK sends a fresh key on every POST). */
function posts(path, bodyOf) {
  let n = 0;
  return {
    url: `${url}${path}`, duration: seconds, connections, method: 'POST', headers: form,
    requests: [{
      method: 'POST',
      setupRequest: (request) => {
        n += 1;
        return { ...request, headers: { ...form, 'idempotency-key': key(n) }, body: bodyOf(n) };
      },
    }],
  };
}

function options() {
  switch (workload) {
    case 'hello':
      return { url: `${url}/hello`, duration: seconds, connections };
    case 'create-confirm':
      return posts('/v1/payment_intents', (n) => `amount=${2000 + (n % 100)}&currency=usd&payment_method=pm_card_visa&confirm=true`);
    case 'refund':
      // One minor unit each, round-robin over intents captured beforehand (each has far more to refund than the run takes).
      return posts('/v1/refunds', (n) => `payment_intent=${intents[n % intents.length]}&amount=1`);
    case 'list-charges':
      return { url: `${url}/v1/charges?limit=10`, duration: seconds, connections, headers: form };
    case 'mock-charge':
      return posts('/v1/charges', (n) => `amount=${2000 + (n % 100)}&currency=usd&source=tok_visa`);
    default:
      throw new Error(`unknown workload ${workload}`);
  }
}

// On a worker thread autocannon hands back raw histograms (it expects to be one of its own workers): aggregate them here.
const opts = options();
const raw = await autocannon(opts);
const result = autocannon.aggregateResult([raw], opts);
parentPort.postMessage({
  requestsPerS: Math.round(raw.totalCompletedRequests / raw.duration),
  completed: raw.totalCompletedRequests,
  p50: result.latency.p50, p99: result.latency.p99, p999: result.latency.p99_9 ?? result.latency.p99,
  errors: result.errors + result.timeouts, non2xx: result.non2xx,
});
