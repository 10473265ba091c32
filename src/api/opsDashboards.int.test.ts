/**
 * The Grafana dashboard (ops/grafana/daybook-dashboard.json) and the
 * Prometheus alert rules (ops/prometheus/daybook-alerts.yml) name only
 * metrics a started server exports: both files are parsed, every metric name
 * in their queries is looked up in the `# TYPE` lines of `/metrics` of a
 * server on PostgreSQL with a read replica configured (so the replica gauges
 * are there), histogram and counter sample suffixes included. The alerts
 * cover what operators must hear about.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { createLogger, loadConfig } from '../edge/index.ts';
import { type RunningServer, startServer } from '../main.ts';

const ROOT = new URL('../../', import.meta.url);
const SECRET = `sk_test_${'Dashboards0123456789abcdef'}`;
const METRIC = /\b(?:daybook|process|nodejs)_[a-z0-9_]+\b/g;

/** Sample names each `# TYPE` family exports (a histogram's _bucket, _sum and _count). */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(new URL('ops/grafana/daybook-dashboard.json', ROOT), 'utf8')) as { panels: Array<{ type: string; targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => panel.targets?.map((target) => target.expr) ?? []);
}

/** The rules file's alerts: each `- alert:` with the `expr:` that follows it. */
function alertRules(): Array<{ alert: string; expr: string }> {
  const text = readFileSync(new URL('ops/prometheus/daybook-alerts.yml', ROOT), 'utf8');
  expect(text).toMatch(/^groups:\n {2}- name: daybook\n {4}rules:\n/m);
  const rules: Array<{ alert: string; expr: string }> = [];
  for (const block of text.split(/^ {6}- alert: /m).slice(1)) {
    const alert = block.split('\n')[0]!.trim();
    const expr = /^ {8}expr: (.+)$/m.exec(block)?.[1];
    expect(expr, `alert ${alert} has an expr`).toBeDefined();
    rules.push({ alert, expr: expr! });
  }
  return rules;
}

describeIfConcurrentPostgres('ops dashboards and alerts', () => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'daybook-dashboards-'));
    // The database itself as the "replica": not a standby, so reads go to the primary, but the replica gauges are registered.
    const config = loadConfig({ PORT: '0', DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: db.url, DAYBOOK_READ_DATABASE_URL: db.url, DAYBOOK_API_KEY: SECRET, LOG_LEVEL: 'silent' });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('name only metrics the server exports', async () => {
    await fetch(`${server.url}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'a', currency: 'USD' }) });
    const exposition = await (await fetch(`${server.url}/metrics`)).text();
    const exported = exportedNames(exposition);
    const queries = [...dashboardQueries(), ...alertRules().map((rule) => rule.expr)];
    expect(queries.length).toBeGreaterThan(20);
    const referenced = new Set(queries.flatMap((query) => query.match(METRIC) ?? []));
    const unknown = [...referenced].filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
    // The gauges this issue adds are among them.
    for (const name of ['daybook_webhook_deliveries', 'daybook_audit_last_seal_ok', 'daybook_replica_lag_seconds', 'daybook_projection_seconds_behind', 'daybook_projection_dead_letters']) {
      expect(referenced).toContain(name);
    }
    expect(exposition).toMatch(/^daybook_webhook_deliveries\{status="pending"\} 0$/m);
    expect(exposition).toMatch(/^daybook_replica_up 0$/m);
  }, 60_000);

  it('alert on projection lag over 1 s, dead letters, a failed seal and replica lag', () => {
    const rules = alertRules();
    const exprOf = (name: string) => rules.find((rule) => rule.alert === name)?.expr;
    expect(exprOf('DaybookProjectionLagging')).toMatch(/daybook_projection_seconds_behind\) > 1$/);
    expect(exprOf('DaybookDeadLetters')).toMatch(/daybook_projection_dead_letters\) > 0$/);
    expect(exprOf('DaybookSealFailed')).toMatch(/daybook_audit_last_seal_ok\) == 0$/);
    expect(exprOf('DaybookReplicaLagging')).toMatch(/daybook_replica_lag_seconds\) > \d+$/);
  });
});
