/**
 * Test support for the HTTP API: a real SQLite store in a temp folder, the
 * services and app as `main.ts` wires them, and one key per role and mode.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type ApiKeyMode, type Role, ROLES } from '../auth/index.ts';
import type { Logger } from '../edge/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { openShreddingStore } from '../privacy/index.ts';
import { type ApiServices, type ApiServicesOptions, openApiServices } from './apiServices.ts';
import { buildApp } from './buildApp.ts';
import type { RateLimitSettings } from './rateLimiter.ts';

export interface ApiHarness {
  dir: string;
  store: EventStore;
  services: ApiServices;
  app: FastifyInstance;
  /** Secrets by mode and role. */
  secrets: Record<ApiKeyMode, Record<Role, string>>;
  /** `{ authorization: 'Bearer …' }` for a role (test mode unless told). */
  as(role: Role, mode?: ApiKeyMode): { authorization: string };
  close(): Promise<void>;
}

export const TEST_PEPPER = 'test-pepper-'.repeat(4);

export interface ApiHarnessOptions {
  rateLimit?: RateLimitSettings;
  dir?: string;
  logger?: Logger;
  ledgerCache?: ApiServicesOptions['ledgerCache'];
  /** Maker-checker policy; off when absent, as in `openApiServices`. */
  approvals?: ApiServicesOptions['approvals'];
  clock?: ApiServicesOptions['clock'];
  accessAudit?: ApiServicesOptions['accessAudit'];
  fraudEnforce?: ApiServicesOptions['fraudEnforce'];
  reportScanBudget?: ApiServicesOptions['reportScanBudget'];
}

export async function openApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'daybook-api-'));
  const storeUrl = `sqlite:${join(dir, 'daybook.db')}`;
  // As main.ts wires it: personal data sealed per subject (crypto-shredding), keys beside the store.
  const store = await openShreddingStore(await openEventStore(storeUrl), { storeUrl, keysDir: join(dir, 'keys') });
  const services = await openApiServices(store, { dataDir: dir, pepper: TEST_PEPPER, seedApiKey: undefined, rateLimit: options.rateLimit ?? { perSecond: 0, burst: 0 }, ledgerCache: options.ledgerCache,
    approvals: options.approvals, clock: options.clock, accessAudit: options.accessAudit, fraudEnforce: options.fraudEnforce, reportScanBudget: options.reportScanBudget,
  });
  const secrets = { test: {}, live: {} } as Record<ApiKeyMode, Record<Role, string>>;
  for (const mode of ['test', 'live'] as const) {
    for (const role of ROLES) secrets[mode][role] = (await services.keys.create({ role, mode, createdBy: 'test' })).secret;
  }
  const app = await buildApp({ store, logger: options.logger, security: services.security, plugins: services.plugins });
  return {
    dir, store, services, app, secrets,
    as: (role, mode = 'test') => ({ authorization: `Bearer ${secrets[mode][role]}` }),
    close: async () => {
      await app.close();
      await services.close();
      await store.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
