/**
 * Test support for the Stripe-compatible listener: a real server
 * (`startServer`, real HTTP) on SQLite in a temp folder or on a fresh
 * PostgreSQL database, with a known admin key, and a small form-encoding
 * client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import qs from 'qs';
import type { RawEvent } from '../../eventstore/index.ts';
import { createTestDatabase } from '../../../test/support/postgres.ts';
import { createLogger, loadConfig } from '../../edge/index.ts';
import { type RunningServer, startServer } from '../../main.ts';

export const STRIPE_TEST_SECRET = `sk_test_${'s7R1pE9x'.repeat(4)}`;

export type Backend = 'sqlite' | 'postgres';

export interface StripeServer {
  server: RunningServer;
  /** `http://127.0.0.1:<port>` of the Stripe-compatible listener. */
  url: string;
  port: number;
  /** The data folder, and the PostgreSQL url on that backend (for CLI runs against the same store). */
  dataDir: string;
  databaseUrl: string | undefined;
  close(): Promise<void>;
}

export async function startStripeServer(backend: Backend, env: Record<string, string> = {}): Promise<StripeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-stripe-'));
  const db = backend === 'postgres' ? await createTestDatabase() : undefined;
  const config = loadConfig({
    PORT: '0', DAYBOOK_DATA_DIR: dir, DAYBOOK_API_KEY: STRIPE_TEST_SECRET, DAYBOOK_API_KEY_PEPPER: 'p'.repeat(32), LOG_LEVEL: 'silent',
    DAYBOOK_RATE_LIMIT_PER_S: '0', ...(db === undefined ? {} : { DAYBOOK_DATABASE_URL: db.url }), ...env,
  });
  const server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  return {
    server, url: server.stripe.url, port: Number(new URL(server.stripe.url).port), dataDir: dir, databaseUrl: db?.url,
    close: async () => {
      await server.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Answer = { status: number; body: Record<string, any>; headers: Headers };

/** Sends `params` form-encoded (Stripe's bracket style) with the test key; GET params go in the query string. */
export function stripeClient(url: string, secret = STRIPE_TEST_SECRET) {
  return async (method: 'GET' | 'POST' | 'DELETE', path: string, params?: object, headers: Record<string, string> = {}): Promise<Answer> => {
    const encoded = params === undefined ? '' : qs.stringify(params, { arrayFormat: 'brackets' });
    const withQuery = method === 'GET' && encoded !== '' ? `${path}?${encoded}` : path;
    const response = await fetch(`${url}${withQuery}`, {
      method, body: method === 'GET' ? undefined : encoded,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    return { status: response.status, body: await response.json() as Record<string, any>, headers: response.headers };
  };
}

/** The stored event rows as text: the SQLite file's `data` and `metadata` columns read directly, or PostgreSQL's raw log. */
export async function storedRows(running: StripeServer): Promise<string> {
  if (running.databaseUrl === undefined) {
    const db = new Database(join(running.dataDir, 'daybook.db'), { readonly: true });
    try {
      return (db.prepare('SELECT data, metadata FROM events').all() as Array<{ data: string; metadata: string }>).map((row) => `${row.data}\n${row.metadata}`).join('\n');
    } finally {
      db.close();
    }
  }
  const events: RawEvent[] = [];
  for (let after = 0n; ;) {
    const page = await running.server.store.readRawLog({ after, limit: 1000 });
    if (page.length === 0) return events.map((event) => `${event.dataJson}\n${event.metadataJson}`).join('\n');
    events.push(...page);
    after = page.at(-1)!.position;
  }
}
