/**
 * Covers what the test harness does when its private PostgreSQL server is
 * missing or does not start: under CI=true the run fails with the reason;
 * with DAYBOOK_TEST_POSTGRES=server there is no PostgreSQL (suites skip,
 * loudly); otherwise PGlite, with a warning. The decision is a pure function;
 * findTestPostgres is also driven through it with a server that fails to
 * start, so the wiring is covered too (no PGlite is started here).
 */
import { describe, expect, it } from 'vitest';
import { findTestPostgres, serverFallback } from './findTestPostgres.ts';

const FAILURE = 'PostgreSQL from /usr/lib/postgresql/15/bin did not start: initdb failed: out of disk';
const failingStart = () => Promise.reject(new Error('initdb failed: out of disk'));

describe('serverFallback', () => {
  it('fails the run under CI, with the reason', () => {
    const fallback = serverFallback({ ci: true, forcedServer: false, failure: FAILURE });
    expect(fallback.action).toBe('fail');
    expect(fallback.message).toContain(FAILURE);
    expect(fallback.message).toContain('CI=true');
  });

  it('fails under CI even when the server route was forced', () => {
    expect(serverFallback({ ci: true, forcedServer: true, failure: FAILURE }).action).toBe('fail');
  });

  it('falls back to PGlite elsewhere, saying why and what will be skipped', () => {
    const fallback = serverFallback({ ci: false, forcedServer: false, failure: FAILURE });
    expect(fallback.action).toBe('pglite');
    expect(fallback.message).toMatch(/^!! /);
    expect(fallback.message).toContain(FAILURE);
    expect(fallback.message).toContain('SKIPPED');
  });

  it('gives no PostgreSQL when the server route was forced, saying why', () => {
    const fallback = serverFallback({ ci: false, forcedServer: true, failure: FAILURE });
    expect(fallback.action).toBe('none');
    expect(fallback.message).toContain(FAILURE);
  });
});

describe('findTestPostgres when the private server does not start', () => {
  const options = (env: NodeJS.ProcessEnv) => ({ env, findBinDir: () => '/usr/lib/postgresql/15/bin', startServer: failingStart });

  it('rejects under CI=true with the start error', async () => {
    await expect(findTestPostgres(options({ CI: 'true' }))).rejects.toThrow(FAILURE);
  });

  it('rejects under CI=true when the binaries are missing too', async () => {
    await expect(findTestPostgres({ env: { CI: 'true' }, findBinDir: () => null, startServer: failingStart }))
      .rejects.toThrow(/no PostgreSQL binaries.*CI=true/);
  });

  it('without CI, with the server route forced, answers no PostgreSQL with the reason and a warning', async () => {
    const found = await findTestPostgres(options({ DAYBOOK_TEST_POSTGRES: 'server' }));
    expect(found).toMatchObject({ kind: 'none', url: '', reason: FAILURE });
    expect(found.warning).toContain(FAILURE);
    await found.stop();
  });
});
