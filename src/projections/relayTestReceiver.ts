/**
 * For the relay tests: a real HTTP receiver (node:http on 127.0.0.1, port 0)
 * that records every request it gets and answers as the test says.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** 0 for the first request this receiver got. */
  index: number;
  idempotencyKey: string;
  eventId: string;
  position: bigint;
  signature: string;
  body: string;
  /** The status answered, or 'hung' when the receiver did not answer. */
  answer: number | 'hung';
}

/** A status to answer, or 'hang' to leave the request unanswered (until the client gives up or the receiver closes). */
export type Answer = number | 'hang';

export interface RelayReceiver {
  url: string;
  /** Every request, in the order they arrived. */
  readonly requests: ReceivedRequest[];
  /** The requests answered with a 2xx, in order. */
  acknowledged(): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startRelayReceiver(answer: (request: Omit<ReceivedRequest, 'answer'>) => Answer | Promise<Answer> = () => 200): Promise<RelayReceiver> {
  const requests: ReceivedRequest[] = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const received = {
          index: requests.length,
          idempotencyKey: String(request.headers['idempotency-key']),
          eventId: String(request.headers['daybook-event-id']),
          position: BigInt(String(request.headers['daybook-position'])),
          signature: String(request.headers['daybook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const entry: ReceivedRequest = { ...received, answer: 'hung' };
        requests.push(entry);
        const chosen = await answer(received);
        if (chosen === 'hang') {
          hung.add(response);
          return;
        }
        entry.answer = chosen;
        response.writeHead(chosen, { 'content-type': 'text/plain' }).end(chosen >= 200 && chosen < 300 ? 'ok' : 'no');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/daybook?token=not-shown`,
    requests,
    acknowledged: () => requests.filter((request) => typeof request.answer === 'number' && request.answer >= 200 && request.answer < 300),
    close: async () => {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
