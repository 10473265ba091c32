/** Configuration from the environment: defaults, the store url, and one-line errors naming the bad variable. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRoleFitsStore, ConfigError, describeStoreUrl, isStoreUrl, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('uses the defaults of DESIGN.md §5 on an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      dataDir: resolve('data'),
      databaseUrl: undefined,
      storeUrl: `sqlite:${resolve('data', 'daybook.db')}`,
      logLevel: 'info',
      apiKey: undefined,
      apiKeyPepper: undefined,
      rateLimit: { perSecond: 1000, burst: 2000 },
      projectionMaxLagSeconds: 30,
      streamLimits: { perKey: 5, total: 100 },
      ledgerCache: { transfers: 50_000, entries: 10_000 },
      stripe: { port: 12111, settlementDelayMs: 172_800_000, fees: { percentBps: 290n, fixedMinor: 30n }, disputeFeeMinor: 1500n, webhooks: { privateTargets: 'test', retryScheduleMs: undefined, timeoutMs: 10_000 }, fraudEnforce: 'live' },
      audit: { keysDir: resolve('data', 'keys'), sealEveryEvents: 10_000, sealEveryMs: 60_000 },
      role: 'all',
      healthPort: undefined,
      readDatabaseUrl: undefined,
      sox: { makerChecker: true, transferThresholdMinor: 1_000_000n, approvalExpiryMs: 86_400_000, approvalsRequired: 1, requirePurpose: false, accessAuditWrite: 'sync' },
    });
  });

  it('reads maker-checker and access-audit settings, refusing bad values by name', () => {
    expect(loadConfig({
      DAYBOOK_MAKER_CHECKER: 'false', DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR: '0', DAYBOOK_APPROVAL_EXPIRY_SECONDS: '60', DAYBOOK_APPROVALS_REQUIRED: '2',
      DAYBOOK_REQUIRE_PURPOSE: 'true', DAYBOOK_ACCESS_AUDIT_WRITE: 'buffered',
    }).sox).toEqual({ makerChecker: false, transferThresholdMinor: 0n, approvalExpiryMs: 60_000, approvalsRequired: 2, requirePurpose: true, accessAuditWrite: 'buffered' });
    expect(() => loadConfig({ DAYBOOK_REQUIRE_PURPOSE: 'yes' })).toThrow(/DAYBOOK_REQUIRE_PURPOSE must be true or false/);
    expect(() => loadConfig({ DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR: '10.5' })).toThrow(/DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR/);
    expect(() => loadConfig({ DAYBOOK_APPROVALS_REQUIRED: '0' })).toThrow(/DAYBOOK_APPROVALS_REQUIRED/);
    expect(() => loadConfig({ DAYBOOK_ACCESS_AUDIT_WRITE: 'async' })).toThrow(/DAYBOOK_ACCESS_AUDIT_WRITE/);
  });

  it('reads the sealing thresholds and the key folder', () => {
    expect(loadConfig({ DAYBOOK_DATA_DIR: '/srv/d', DAYBOOK_SEAL_EVERY_EVENTS: '0', DAYBOOK_SEAL_EVERY_MS: '500' }).audit).toEqual({ keysDir: '/srv/d/keys', sealEveryEvents: 0, sealEveryMs: 500 });
    expect(loadConfig({ DAYBOOK_AUDIT_KEYS_DIR: '/srv/keys' }).audit.keysDir).toBe('/srv/keys');
    expect(() => loadConfig({ DAYBOOK_SEAL_EVERY_MS: '-1' })).toThrow(/DAYBOOK_SEAL_EVERY_MS/);
  });

  it('reads the Stripe-compatible listener settings; PORT=0 makes its default a free port too', () => {
    expect(loadConfig({ DAYBOOK_STRIPE_PORT: '0', DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0', DAYBOOK_STRIPE_FEE_PERCENT_BPS: '0', DAYBOOK_STRIPE_DISPUTE_FEE_MINOR: '2000' }).stripe)
      .toEqual({ port: 0, settlementDelayMs: 0, fees: { percentBps: 0n, fixedMinor: 30n }, disputeFeeMinor: 2000n, webhooks: { privateTargets: 'test', retryScheduleMs: undefined, timeoutMs: 10_000 }, fraudEnforce: 'live' });
    expect(loadConfig({ PORT: '0' }).stripe.port).toBe(0);
    expect(loadConfig({ PORT: '0', DAYBOOK_STRIPE_PORT: '12112' }).stripe.port).toBe(12112);
    expect(() => loadConfig({ DAYBOOK_STRIPE_PORT: '70000' })).toThrow(/DAYBOOK_STRIPE_PORT/);
  });

  it('reads the API key settings and rate limits', () => {
    const config = loadConfig({ DAYBOOK_API_KEY: 'sk_test_abcdefghijklmnop', DAYBOOK_API_KEY_PEPPER: 'x'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '5' });
    expect(config).toMatchObject({ apiKey: 'sk_test_abcdefghijklmnop', apiKeyPepper: 'x'.repeat(32), rateLimit: { perSecond: 5, burst: 10 } });
    expect(loadConfig({ DAYBOOK_RATE_LIMIT_PER_S: '0' }).rateLimit.perSecond).toBe(0);
  });

  it('reads the projection lag /readyz tolerates', () => {
    expect(loadConfig({ DAYBOOK_PROJECTION_MAX_LAG_SECONDS: '5' }).projectionMaxLagSeconds).toBe(5);
  });

  it('reads the caps on open live streams', () => {
    expect(loadConfig({ DAYBOOK_STREAM_MAX_PER_KEY: '2', DAYBOOK_STREAM_MAX_TOTAL: '7' }).streamLimits).toEqual({ perKey: 2, total: 7 });
    expect(loadConfig({ DAYBOOK_LEDGER_TRANSFER_CACHE: '4000', DAYBOOK_LEDGER_ENTRY_CACHE: '3000' }).ledgerCache).toEqual({ transfers: 4000, entries: 3000 });
  });

  it('reads the role, the health port and the read replica; refuses a replica without PostgreSQL and a split role on SQLite', () => {
    const pg = 'postgres://app:pw@db:5432/daybook';
    expect(loadConfig({ DAYBOOK_DATABASE_URL: pg, DAYBOOK_ROLE: 'api', DAYBOOK_HEALTH_PORT: '9464', DAYBOOK_READ_DATABASE_URL: 'postgres://app:pw@replica:5432/daybook' }))
      .toMatchObject({ role: 'api', healthPort: 9464, readDatabaseUrl: 'postgres://app:pw@replica:5432/daybook' });
    expect(() => loadConfig({ DAYBOOK_ROLE: 'worker' })).toThrow(/DAYBOOK_ROLE must be one of all, api, projections/);
    expect(() => loadConfig({ DAYBOOK_HEALTH_PORT: '99999' })).toThrow(/DAYBOOK_HEALTH_PORT/);
    expect(() => loadConfig({ DAYBOOK_READ_DATABASE_URL: pg })).toThrow(/DAYBOOK_READ_DATABASE_URL .*not set/);
    expect(() => loadConfig({ DAYBOOK_DATABASE_URL: pg, DAYBOOK_READ_DATABASE_URL: 'mysql://x:secret@h/d' })).toThrow(/must be a postgres.*\*\*\*/);
    expect(() => checkRoleFitsStore('api', undefined, '--role')).toThrow(/--role api needs PostgreSQL/);
    expect(() => checkRoleFitsStore('all', undefined, '--role')).not.toThrow();
    expect(() => checkRoleFitsStore('projections', pg, '--role')).not.toThrow();
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DAYBOOK_DATABASE_URL: '' }).port).toBe(4000);
  });

  it('opens PostgreSQL when DAYBOOK_DATABASE_URL is set', () => {
    const config = loadConfig({ DAYBOOK_DATABASE_URL: 'postgres://app:pw@db:5432/daybook', PORT: '0', DAYBOOK_DATA_DIR: '/srv/daybook' });
    expect(config).toMatchObject({ port: 0, dataDir: '/srv/daybook', storeUrl: 'postgres://app:pw@db:5432/daybook' });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['DAYBOOK_HOST', 'a host'],
    ['DAYBOOK_DATABASE_URL', 'mysql://db/daybook'],
    ['DAYBOOK_DATABASE_URL', 'postgres://db:notaport/daybook'],
    ['LOG_LEVEL', 'loud'],
    ['DAYBOOK_RATE_LIMIT_PER_S', '-5'],
    ['DAYBOOK_RATE_LIMIT_BURST', 'many'],
    ['DAYBOOK_PROJECTION_MAX_LAG_SECONDS', '0'],
    ['DAYBOOK_PROJECTION_MAX_LAG_SECONDS', '2.5'],
    ['DAYBOOK_STREAM_MAX_PER_KEY', '0'],
    ['DAYBOOK_STREAM_MAX_TOTAL', 'lots'],
  ])('refuses %s=%s with an error naming the variable', (variable, value) => {
    let caught: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(new RegExp(`^${variable} .*\\(got "${value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"\\)$`));
  });
});

describe('configuration errors never echo a secret', () => {
  function messageOf(env: Record<string, string>): string {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as ConfigError).message;
    }
    throw new Error('loadConfig accepted it');
  }

  it('names the pepper variable and the reason, never the pepper', () => {
    const message = messageOf({ DAYBOOK_API_KEY_PEPPER: 'shortButSecretPepper' });
    expect(message).toBe('DAYBOOK_API_KEY_PEPPER must have at least 32 characters (the value is not shown: it is a secret)');
    expect(message).not.toContain('shortButSecretPepper');
  });

  it.each([
    ['postgres://app:hunter2secret@db:notaport/daybook', 'postgres://app:***@db:notaport/daybook'],
    ['mysql://app:hunter2secret@db/daybook?sslmode=require', 'mysql://app:***@db/daybook?…'],
    ['pg://db:5432/daybook?password=hunter2secret', 'pg://db:5432/daybook?…'],
    ['app:hunter2secret@db/daybook', '<not a url>'],
  ])('shows a rejected database url %s as %s, without its password', (value, shown) => {
    const message = messageOf({ DAYBOOK_DATABASE_URL: value });
    expect(message).toMatch(/^DAYBOOK_DATABASE_URL must be a postgres:\/\/… or postgresql:\/\/… url \(got /);
    expect(message).toContain(`(got ${JSON.stringify(shown)})`);
    expect(message).not.toContain('hunter2secret');
  });
});

describe('store urls', () => {
  it('recognises the forms openEventStore accepts', () => {
    expect(isStoreUrl('sqlite:./data/daybook.db')).toBe(true);
    expect(isStoreUrl('postgresql://localhost/daybook')).toBe(true);
    expect(isStoreUrl('sqlite:')).toBe(false);
    expect(isStoreUrl('mysql://localhost/daybook')).toBe(false);
  });

  it('prints PostgreSQL urls without password or query, and sqlite paths absolute', () => {
    expect(describeStoreUrl('postgres://app:secret@db:5432/daybook?password=secret2')).toBe('postgres://app@db:5432/daybook');
    expect(describeStoreUrl('sqlite:data/daybook.db')).toBe(`sqlite:${resolve('data/daybook.db')}`);
    expect(describeStoreUrl('sqlite:///var/daybook.db')).toBe('sqlite:/var/daybook.db');
  });
});
