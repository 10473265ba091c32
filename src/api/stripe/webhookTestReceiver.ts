/**
 * For the webhook tests: a real HTTP receiver (node:http on 127.0.0.1, port 0)
 * that keeps each request's raw body and Stripe-Signature header, and answers
 * as the test says (a status, or 'hang' to leave it unanswered).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedWebhook = { body: string; signature: string; event: { id: string; type: string; data: { object: Record<string, any> }; [key: string]: any }; receivedAtMs: number };

export interface WebhookReceiver {
  url: string;
  readonly received: ReceivedWebhook[];
  /** Resolves once `predicate` holds for the received list (polled), or rejects after `timeoutMs`. */
  waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(answer: (webhook: ReceivedWebhook) => number | 'hang' = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const webhook = { body, signature: String(request.headers['stripe-signature']), event: JSON.parse(body), receivedAtMs: Date.now() };
      received.push(webhook);
      const chosen = answer(webhook);
      if (chosen === 'hang') {
        hung.add(response);
        return;
      }
      response.writeHead(chosen, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    waitFor: async (predicate, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms; received ${received.map((item) => item.event.type).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
