/**
 * Property-based fuzzing of every /v1 route (GET and POST), through
 * `app.inject` on a real SQLite store (and real HTTP, bounded, for the
 * `/v1/stream` of server-sent events). fast-check generates: JSON bodies
 * shaped like each route's real body with fields mutated (wrong types,
 * huge, negative, fractional and exponent numbers, long strings, lone
 * surrogates and NUL, nested arrays and objects, __proto__ / constructor
 * keys); raw byte bodies under random content types; odd query strings
 * (metadata[k]=v, limit, cursors, as_of, repeated parameters); odd headers
 * (Idempotency-Key, X-Correlation-Id, X-Request-Id, Last-Event-ID,
 * Authorization). Path parameters are existing and unknown ids.
 *
 * For every answer: no 5xx; a 4xx is a Stripe-shaped error with a type and
 * a message; no stack trace, SQL or file path leaks; a refused request
 * writes nothing but the idempotency record of an answer given under an
 * Idempotency-Key (Stripe keeps those) and the ledger's failure record of a
 * state-dependent refusal (RECORDED_FAILURE_CODES); and the server still
 * answers a plain GET afterwards. A few valid-request properties check round trips.
 *
 * Also: several random requests at once (every ledger still balances,
 * posted and pending, in both modes); one request several times at once
 * under one Idempotency-Key (one answer); no answer or readable event holds
 * an API key's secret but the answer creating it; every unmutated template
 * is accepted.
 *
 * The seed is fixed (DAYBOOK_FC_SEED overrides it), so CI never flakes; on
 * a failure fast-check prints the seed and path to replay. DAYBOOK_FC_RUNS
 * sets numRuns (default 16; 150 takes about a minute), DAYBOOK_FC_STATS=1
 * prints how often each route answered each status and code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDED_FAILURE_CODES } from '../ledger/ledger.errors.ts';
import { withoutSecret } from './idempotency.hooks.ts';
import { IDEMPOTENCY_CATEGORY } from './idempotencyStore.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

const SEED = Number(process.env.DAYBOOK_FC_SEED ?? 20_261_126);
const RUNS = Number(process.env.DAYBOOK_FC_RUNS ?? 16);

let api: ApiHarness;
let baseUrl: string;
let spareKeyId: string;

const EXISTING: Record<string, string[]> = {
  accounts: ['a', 'b'],
  transfers: ['p', 'p2'],
  journal_entries: ['e'],
  customers: ['cus'],
  bank_accounts: ['ba', 'bb'],
  bank_transactions: [],
  api_keys: [],
  approval_requests: [],
  screening_cases: [],
  reports: ['trial-balance', 'settlement', 'audit-trail', 'ctr-candidates'],
  admin: ['bankcustomer:test.cus'],
  aml_alerts: ['al_f'],
  aml_cases: ['al_f'],
};
const UNKNOWN_IDS = ['ghost', 'key_nope', 'x'.repeat(129), 'a b', '..', 'ä', '%00', '%E0%A4%A', '__proto__', 'constructor', '0', '-1', 'a%2Fb'];

beforeAll(async () => {
  api = await openApiHarness();
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  const setup = async (url: string, payload: object): Promise<Record<string, unknown>> => {
    const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('admin') });
    expect(response.statusCode, `${url} ${response.body}`).toBe(200);
    return response.json();
  };
  await setup('/v1/accounts', { id: 'a', currency: 'USD' });
  await setup('/v1/accounts', { id: 'b', currency: 'USD' });
  await setup('/v1/accounts', { id: 'c', currency: 'USD' });
  // For the valid-request properties only: the fuzzer never names them, so never closes them.
  await setup('/v1/accounts', { id: 'v1', currency: 'USD' });
  await setup('/v1/accounts', { id: 'v2', currency: 'USD' });
  await setup('/v1/transfers', { id: 'p', debit_account_id: 'a', credit_account_id: 'b', amount: '10', pending: true });
  await setup('/v1/transfers', { id: 'p2', debit_account_id: 'a', credit_account_id: 'b', amount: '10', pending: true });
  await setup('/v1/customers', { id: 'cus', full_name: 'Ada Lovelace', email: 'ada@example.com' });
  await setup('/v1/bank_accounts', { id: 'ba', customer_id: 'cus', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '100000' });
  await setup('/v1/bank_accounts', { id: 'bb', customer_id: 'cus', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
  await setup('/v1/journal_entries', { id: 'e', postings: [{ account_id: 'a', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 'b', side: 'credit', amount: '1', currency: 'USD' }] });
  const deposit = await setup('/v1/deposits', { account_id: 'ba', amount: '5' });
  EXISTING.bank_transactions!.push(String(deposit.id));
  const spare = await setup('/v1/api_keys', { role: 'support' });
  spareKeyId = String(spare.id);
  EXISTING.api_keys!.push(spareKeyId);
  await raiseAlert('al_f');
  for (const approvalId of ['apr_f1', 'apr_f2']) {
    await askApproval(approvalId);
    EXISTING.approval_requests!.push(approvalId);
  }
  // Screening cases of a customer no other route touches (a case holds its customer's money out).
  for (const name of ['Boris Fakename', 'Olga Zanzibarova']) EXISTING.screening_cases!.push(await openScreeningCase(name));
});

/** An AML alert as the monitor appends it. */
async function raiseAlert(alertId: string): Promise<void> {
  await api.store.append({
    streamId: `amlalert-${alertId}`, expectedVersion: 'no_stream',
    events: [{ type: 'AmlAlertRaised', data: { alertId, rule: 'velocity', subjectKind: 'bank_customer', customerId: 'cus', mode: null, amountMinor: '1', currency: 'USD' } }],
  });
}

/** A screening case opened directly (the fuzzer runs without a sanctions list), its wire id. */
async function openScreeningCase(name: string): Promise<string> {
  const view = await api.services.compliance.cases.open({
    subjectRef: 'test.customer.fuzz-held', screenedName: name, listVersion: 'fuzz', actor: 'key_fuzz',
    hits: [{ entNum: 9001, name: 'FAKENAME, Boris Testovich', score: 0.95, matchedOn: 'name', matchedName: 'FAKENAME, Boris Testovich' }],
  });
  return view.caseId.replace(/^test\./, '');
}

/** An approval request of another person's (so the admin key may approve it): a journal entry on the fuzzer's accounts. */
async function askApproval(approvalId: string): Promise<void> {
  await api.services.approvals.service.request({
    approvalId, action: 'journal_entry', requestedBy: { keyId: 'key_maker', role: 'operator', owner: 'maker' }, mode: 'test',
    payload: { id: `e-${approvalId}`, postings: [{ account_id: 'a', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 'b', side: 'credit', amount: '1', currency: 'USD' }] },
  }, {});
}

afterAll(async () => {
  await api?.close();
});

// ---------------------------------------------------------------------------
// Valid bodies, one per POST route, that the mutations start from.

const TEMPLATES: Record<string, () => Record<string, unknown>> = {
  '/v1/accounts': () => ({ currency: 'USD', ledger: 'USD', code: 7, flags: { debits_must_not_exceed_credits: false, history: true }, overdraft_limit: '0', credit_limit: '0', user_data: 'u', metadata: { k: 'v' } }),
  '/v1/accounts/:id/close': () => ({}),
  '/v1/accounts/:id/reopen': () => ({}),
  '/v1/transfers': () => ({ debit_account_id: 'a', credit_account_id: 'b', amount: '3', code: 1, pending: false, user_data: 'x', metadata: { order: '17' } }),
  '/v1/transfers/batch': () => ({ transfers: [{ debit_account_id: 'a', credit_account_id: 'b', amount: '1' }, { debit_account_id: 'b', credit_account_id: 'c', amount: '1' }], atomic: true }),
  '/v1/transfers/:id/post': () => ({ amount: '1', user_data: 'x', metadata: { k: 'v' } }),
  '/v1/transfers/:id/void': () => ({ metadata: { k: 'v' } }),
  '/v1/journal_entries': () => ({ postings: [{ account_id: 'a', side: 'debit', amount: '2', currency: 'USD' }, { account_id: 'c', side: 'credit', amount: '2', currency: 'USD' }], metadata: { k: 'v' } }),
  '/v1/journal_entries/:id/reverse': () => ({ metadata: { k: 'v' } }),
  '/v1/customers': () => ({ kind: 'individual', full_name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 555', date_of_birth: '1906-12-09', address: 'Arlington' }),
  '/v1/customers/:id': () => ({ full_name: 'Ada King', email: 'ada@example.com', phone: null, date_of_birth: null, address: null }),
  '/v1/bank_accounts': () => ({ customer_id: 'cus', type: 'checking', currency: 'USD', regulatory_tier: 'retail', compliance_flags: { kyc_verified: true }, initial_balance: '10' }),
  '/v1/bank_accounts/:id/freeze': () => ({ reason: 'fraud check' }),
  '/v1/bank_accounts/:id/unfreeze': () => ({}),
  '/v1/bank_accounts/:id/close': () => ({ reason: 'customer_request', sweep_to_account_id: 'bb', regulator_notified: false }),
  '/v1/deposits': () => ({ account_id: 'ba', amount: '3', currency: 'USD', reference: 'r', compliance_score: 1 }),
  '/v1/withdrawals': () => ({ account_id: 'ba', amount: '1', fee: '0', currency: 'USD', reference: 'r', compliance_score: 1 }),
  '/v1/bank_transfers': () => ({ from_account_id: 'ba', to_account_id: 'bb', amount: '1', fee: '0', reference: 'r' }),
  '/v1/bank_payments': () => ({ from_account_id: 'ba', beneficiary: 'DE00 1234', amount: '1', fee: '0', reference: 'r' }),
  '/v1/api_keys': () => ({ role: 'support', livemode: false, name: 'fuzz' }),
  '/v1/api_keys/:id/revoke': () => ({}),
  '/v1/approval_requests/:id/approve': () => ({}),
  '/v1/approval_requests/:id/reject': () => ({ reason: 'not justified' }),
  '/v1/admin/erasures': () => ({ subject: 'bankcustomer:test.cus' }),
  '/v1/aml_alerts/:id/case': () => ({}),
  '/v1/aml_cases/:id/:step': () => ({ note: 'looked at the statements' }),
  '/v1/screening_cases/:id/clear': () => ({ note: 'not the listed person' }),
  '/v1/screening_cases/:id/confirm': () => ({ note: 'the listed person' }),
};

/** Query parameters each GET route knows, for the query fuzzer to start from. */
const QUERY_KEYS: Record<string, string[]> = {
  '/v1/accounts': ['limit', 'starting_after', 'ledger', 'metadata[k]'],
  '/v1/accounts/:id': [],
  '/v1/accounts/:id/balance': ['as_of'],
  '/v1/transfers': ['limit', 'starting_after', 'account_id', 'created[gt]', 'created[gte]', 'created[lt]', 'created[lte]', 'metadata[order]'],
  '/v1/transfers/:id': [],
  '/v1/journal_entries/:id': [],
  '/v1/customers/:id': [],
  '/v1/bank_accounts/:id': [],
  '/v1/bank_accounts/:id/balance': ['as_of'],
  '/v1/bank_accounts/:id/transactions': ['limit', 'cursor', 'from', 'to', 'min_amount', 'max_amount'],
  '/v1/bank_transactions/:id': [],
  '/v1/events': ['stream', 'after_version', 'limit'],
  '/v1/stream': ['category', 'types', 'after'],
  '/v1/api_keys': ['limit', 'starting_after'],
  '/v1/approval_requests': ['status', 'limit', 'starting_after'],
  '/v1/approval_requests/:id': [],
  '/v1/access_audit': ['subject', 'actor', 'from', 'to', 'limit', 'cursor'],
  '/v1/screening_cases': ['status'],
  '/v1/screening_cases/:id': [],
  '/v1/reports/:name': ['format', 'from', 'to', 'account_id'],
  '/v1/aml_alerts': ['limit', 'after'],
  '/v1/aml_alerts/:id': [],
  '/v1/admin/subjects/:subject/export': [],
};

// ---------------------------------------------------------------------------
// Arbitraries.

/** A JSON number written as raw text: exponents, precision beyond doubles, -0. */
class RawNumber {
  constructor(readonly text: string) {}
}

const oddString = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\uD800', '\uDFFF', 'x\uD83D', '\uFEFF', '💸', 'é', '\n', '\t', '\\', '"', "'", '{}', '[]', 'null', 'true',
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'ghost', 'a', 'ba', 'cus', 'USD', 'usd', 'JPY', 'XXX',
    '1', '0', '-1', '-0', '00', '01', '1.5', '1e3', '1E3', '0x10', ' 5', '5 ', '+5', 'Infinity', 'NaN', '9'.repeat(38), '9'.repeat(39), '9'.repeat(40),
    '170141183460469231731687303715884105727', '18446744073709551616', '9223372036854775807', '9223372036854775808',
    '2025-01-31T23:59:59Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-01-31T23:59:59+99:99', '1970-01-01', '-1', '9999999999999'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(1, 100, 129, 256, 1_000, 10_000, 100_000).chain((n) => fc.constantFrom('x', '9', '\u0000', 'é', '\uD800').map((c) => c.repeat(n))),
);

const oddNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, -0.5, 1.5, 65_535, 65_536, 100, 101, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e300),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom('1e999', '-1e999', '1E+400', '-0', '0.0', '1.0', '1e-400', '123456789012345678901234567890', '-123456789012345678901234567890', '1e2', '2.5e1', '0e0').map((text) => new RawNumber(text)),
);

const leaf = fc.oneof(
  { weight: 4, arbitrary: oddString },
  { weight: 4, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
);

const oddValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.oneof(oddString, fc.constantFrom('__proto__', 'constructor', 'prototype')), tie('value'), { maxKeys: 4 }) },
  ),
})).value;

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'valueOf', 'hasOwnProperty'];
const pollution = fc.oneof(
  fc.constantFrom(...POLLUTION_KEYS).map((key) => ({ key, value: { polluted: true } as unknown })),
  fc.constantFrom(...POLLUTION_KEYS).chain((key) => oddValue.map((value) => ({ key, value }))),
  fc.constant({ key: 'constructor', value: { prototype: { polluted: true } } as unknown }),
);

/** Every path inside a value: [] is the root, ['postings', 0, 'amount'] a leaf. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  else if (value !== null && typeof value === 'object' && !(value instanceof RawNumber)) {
    for (const key of Object.keys(value)) paths.push(...pathsOf((value as Record<string, unknown>)[key], [...prefix, key]));
  }
  return paths;
}

function setOwn(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  // defineProperty, so that `__proto__` becomes an own key that JSON.stringify writes out.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Values of the right type that the domain may still refuse: other ids, other currencies, boundary amounts and numbers. */
const NEAR_STRINGS = ['1', '2', '10', '1000', '100000000', '9'.repeat(38), '9'.repeat(39), '170141183460469231731687303715884105727', '340282366920938463463374607431768211455',
  'a', 'b', 'c', 'v1', 'ba', 'bb', 'cus', 'p', 'p2', 'e', 'ghost', 'USD', 'EUR', 'JPY', 'GBP', 'CHF', 'checking', 'savings', 'retail', 'business', 'debit', 'credit',
  'customer_request', 'fraud', 'deceased', 'individual', 'business', 'admin', 'operator', 'auditor', 'support', 'service', '1.5', '0.000001', '999999.999999', '0'];
const NEAR_NUMBERS = [0, 1, 2, 100, 65_535, 60_000, 3_600_000, 316_224_000_000, 316_224_000_001];

type Mutation =
  | { kind: 'near'; at: number; pick: number }
  | { kind: 'set'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; at: number; key: string; value: unknown }
  | { kind: 'wrap'; at: number; asArray: boolean }
  | { kind: 'pollute'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('near' as const), at: fc.nat(), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(oddString, fc.constantFrom('id', 'amount', 'metadata', 'pending', 'timeout_ms', 'ledger', 'currency', 'flags')), value: oddValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), at: fc.nat(), asArray: fc.boolean() }) },
  { weight: 2, arbitrary: pollution.chain(({ key, value }) => fc.nat().map((at) => ({ kind: 'pollute' as const, at, key, value }))) },
);

/** A deep copy (own keys kept, `__proto__` included): generated values are shared between runs and must never be mutated. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value === null || typeof value !== 'object' || value instanceof RawNumber) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(copy, key, clone((value as Record<string, unknown>)[key]));
  return copy;
}

function mutate(body: unknown, mutations: Mutation[]): unknown {
  let root: unknown = clone(body);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length]!;
    const parentPath = path.slice(0, -1);
    const key = path[path.length - 1];
    const parent = parentPath.reduce<unknown>((node, part) => (node as Record<string | number, unknown>)[part], root) as Record<string, unknown> | unknown[] | undefined;
    const current = path.reduce<unknown>((node, part) => (node as Record<string | number, unknown>)[part], root);
    const replace = (value: unknown): void => {
      if (key === undefined) root = clone(value);
      else setOwn(parent!, key, clone(value));
    };
    switch (m.kind) {
      case 'near':
        if (typeof current === 'string') replace(NEAR_STRINGS[m.pick % NEAR_STRINGS.length]);
        else if (typeof current === 'number') replace(NEAR_NUMBERS[m.pick % NEAR_NUMBERS.length]);
        else if (typeof current === 'boolean') replace(!current);
        break;
      case 'set': replace(m.value); break;
      case 'delete':
        if (key === undefined) root = undefined;
        else if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete (parent as Record<string, unknown>)[key];
        break;
      case 'add':
      case 'pollute':
        if (current !== null && typeof current === 'object' && !Array.isArray(current) && !(current instanceof RawNumber)) setOwn(current as Record<string, unknown>, m.key, clone(m.value));
        else if (Array.isArray(current)) current.push(clone(m.value));
        else replace({ [m.key]: m.value });
        break;
      case 'wrap': replace(m.asArray ? [current] : { value: current }); break;
    }
  }
  return root;
}

/** JSON text of a value, RawNumber tokens written as they are. */
function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof RawNumber) {
      raws.push(item.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return item;
  }) ?? 'null';
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_match, index: string) => raws[Number(index)]!);
}

const CONTENT_TYPES = [
  undefined, 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'APPLICATION/JSON',
  'application/x-www-form-urlencoded', 'text/plain', 'text/plain; charset=utf-8', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/vnd.api+json', '',
  'application/json;;', 'application/json; charset=', '*/*',
];

function deep(depth: number, open: string, close: string, middle = '1'): string {
  return `${open.repeat(depth)}${middle}${close.repeat(depth)}`;
}

/** Raw bodies: bytes, truncations of a valid body, JSON oddities parsers treat differently. */
const rawBody = (template: string): fc.Arbitrary<Buffer> => fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: template.length }).map((cut) => Buffer.from(template.slice(0, cut))),
  fc.constantFrom(
    `\uFEFF${template}`, `${template}garbage`, `${template}${template}`, ` \n${template}\n `, template.replace('{', '{"a":1,"a":2,'),
    template.replace('{', '{"__proto__":{"polluted":true},'), template.replace('{', '{"constructor":{"prototype":{"polluted":true}},'),
    template.replace(/"(\d+)"/, '$1'), template.replace(/"(\d+)"/, '"$1.0"'), template.replace(/"(\d+)"/, '"\\u0031"'), template.replace(/"/, "'"),
    deep(10_000, '[', ']'), deep(10_000, '{"a":', '}'), deep(200, '[', ']'), '{"a":'.repeat(5_000), '['.repeat(50_000),
    '', ' ', 'null', 'true', '0', '1e999', '"\\ud800"', '{"\\u0000":1}', `{"amount":"${'9'.repeat(100_000)}"}`, '{}'.repeat(10),
    'a=1&a=2&amount=-1', 'metadata[__proto__][x]=1', '\u0000\u0000', '\xff\xfe{\x00}\x00',
  ).map((text) => Buffer.from(text, 'utf8')),
  fc.constantFrom(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), Buffer.from([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80])),
);

const QUERY_VALUES = fc.oneof(
  oddString.map((value) => value.slice(0, 300)),
  fc.constantFrom('0', '1', '10', '100', '101', '-1', '1.5', '1e2', '0x10', ' 1', 'abc', '', 'a', 'b', 'p', 'ghost', 'ledger-test', 'ledger', 'ba', 'cus',
    '2025-01-31T23:59:59Z', '9999999999999', '99999999999999', '2025-13-45T99:99:99Z', '2025-01-31T23:59:59.9999Z', '275760-09-13T00:00:00Z', '1e400', 'null', 'undefined',
    'AccountOpened', 'AccountOpened,TransferPosted', 'idempotency', 'apikey', 'customer-test.cus', 'ledger-test', 'ledger-live', 'ledger-banking-test', 'bad type', ',,,', '9223372036854775807', '9223372036854775808', '18446744073709551616'),
);

const queryKey = (known: string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: 4, arbitrary: known.length === 0 ? fc.constant('limit') : fc.constantFrom(...known) },
  { weight: 1, arbitrary: fc.constantFrom('metadata[k]', 'metadata[]', 'metadata[a][b]', 'metadata[__proto__]', 'metadata[constructor]', `metadata[${'k'.repeat(100)}]`, 'metadata', 'metadata[', '__proto__', 'constructor', 'bogus', '', 'limit[]', 'limit[gte]', 'toString') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);

type QueryPart = { key: string; value: string; raw: boolean };
const queryParts = (known: string[]): fc.Arbitrary<QueryPart[]> =>
  fc.array(fc.record({ key: queryKey(known), value: QUERY_VALUES, raw: fc.boolean() }), { maxLength: 5 }).chain((parts) =>
    // Repeat one parameter now and then (limit=1&limit=2).
    fc.boolean().map((repeat) => (repeat && parts.length > 0 ? [...parts, { ...parts[0]!, value: `${parts[0]!.value}2` }] : parts)));

/** `raw` sends what a sloppy client would: only unsafe characters escaped, brackets left alone, invalid escapes kept. */
function queryString(parts: QueryPart[]): string {
  const encode = (text: string, raw: boolean) => (raw ? encodeURI(text.replace(/[&=#?]/g, (c) => encodeURIComponent(c))).replace(/%25([0-9A-Fa-f]{0,2})/g, (_m, hex: string) => (hex.length === 2 ? `%25${hex}` : `%${hex}`)) : encodeURIComponent(text));
  const safe = (text: string, raw: boolean): string => {
    try {
      return encode(text, raw);
    } catch {
      // encodeURI throws on lone surrogates: send the bytes as a sloppy client might, escaped.
      return Buffer.from(text, 'utf8').toString('hex').replace(/(..)/g, '%$1');
    }
  };
  return parts.map(({ key, value, raw }) => `${safe(key, raw)}=${safe(value, raw)}`).join('&');
}

/** Header values a client could send: Latin-1 without CR, LF and NUL (the transport refuses those). */
const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'k', 'key-1', 'a'.repeat(255), 'a'.repeat(256), 'a'.repeat(10_000), ' leading', 'trailing ', 'tab\there', 'é', '\u00ff', '%00', '../../etc/passwd',
    '0', '-1', '1', '99999999999999999999', '9223372036854775807', '18446744073709551616', 'null', '__proto__', 'x'.repeat(128), 'x'.repeat(129), 'Bearer', '{}'),
  fc.string({ maxLength: 40 }).map((text) => text.replace(/[\r\n\u0000]/g, '')),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 40 }).map((text) => text.replace(/\u007f/g, '')),
);

type HeaderSet = Record<string, string | string[]>;
/** Each header now and then; an Idempotency-Key mostly well formed (fresh or reused), so handlers run under one. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { freq: 3, nil: undefined });
const idempotencyKey = fc.oneof(
  { weight: 3, arbitrary: fc.uuid().map((uuid) => `fz-${uuid}`) },
  { weight: 1, arbitrary: fc.constantFrom('fz-reused-1', 'fz-reused-2') },
  { weight: 2, arbitrary: fc.oneof(headerValue, fc.array(headerValue, { minLength: 2, maxLength: 2 })) },
);
const headerSet: fc.Arbitrary<HeaderSet> = fc.record({
  'idempotency-key': fc.option(idempotencyKey, { freq: 2, nil: undefined }),
  'x-correlation-id': sometimes(headerValue),
  'x-request-id': sometimes(headerValue),
  'last-event-id': sometimes(headerValue),
  accept: sometimes(fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html', '')),
}).map((headers) => Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as HeaderSet);

type Auth = 'admin' | 'operator' | 'auditor' | 'live-admin' | 'none' | 'garbage' | 'basic';
const authArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Auth>('admin') },
  { weight: 3, arbitrary: fc.constantFrom<Auth>('operator', 'auditor', 'live-admin', 'basic') },
  { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'garbage') },
);

function authHeaders(auth: Auth): Record<string, string> {
  switch (auth) {
    case 'admin': return api.as('admin');
    case 'operator': return api.as('operator');
    case 'auditor': return api.as('auditor');
    case 'live-admin': return api.as('admin', 'live');
    case 'none': return {};
    case 'garbage': return { authorization: 'Bearer sk_test_not_a_key\u00ff' };
    case 'basic': return { authorization: `Basic ${Buffer.from(`${api.secrets.test.admin}:`).toString('base64')}` };
  }
}

// ---------------------------------------------------------------------------
// Checking an answer.

const LEAKS = /\bat [^ ]+ \(|at .*\.(ts|js|mjs|cjs):\d+|\bSELECT\b|\bINSERT\b|\bUPDATE [a-z_]+ SET\b|sqlite|SQLITE_|better-sqlite|node_modules|\/work\/|\/tmp\/|[A-Za-z]:\\|TypeError|RangeError|ReferenceError|SyntaxError: Unexpected|Cannot read propert/i;

interface Sent { method: 'GET' | 'POST'; url: string; headers: Record<string, string | string[]>; body?: Buffer | string }

function describeSent(sent: Sent): string {
  const body = sent.body === undefined ? '' : ` body=${JSON.stringify(sent.body.toString().slice(0, 300))}`;
  return `${sent.method} ${sent.url.slice(0, 300)} headers=${JSON.stringify(sent.headers).slice(0, 400)}${body}`;
}

/** Secrets of keys created so far (the harness's, and those the fuzzer made): only the answer that creates a key shows its secret. */
const knownSecrets = new Set<string>();

function checkAnswer(sent: Sent, status: number, text: string): void {
  const label = describeSent(sent);
  expect(status, `${label}\n→ ${status} ${text.slice(0, 500)}`).toBeLessThan(500);
  expect(LEAKS.test(text) ? text.slice(0, 500) : 'no leak', label).toBe('no leak');
  if (knownSecrets.size === 0) for (const mode of Object.values(api.secrets)) for (const secret of Object.values(mode)) knownSecrets.add(secret);
  for (const secret of knownSecrets) expect(text.includes(secret) ? `leaks ${secret.slice(0, 12)}…` : 'no secret', label).toBe('no secret');
  const created = /"object":"api_key".*"secret":"([^"]+)"/.exec(text);
  if (created !== null) knownSecrets.add(created[1]!);
  if (status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const error = (parsed as { error?: { type?: unknown; message?: unknown; code?: unknown; param?: unknown } } | null)?.error;
    expect({ type: typeof error?.type, message: typeof error?.message }, `${label}\n→ ${status} ${text.slice(0, 500)}`).toEqual({ type: 'string', message: 'string' });
    expect(['api_error', 'card_error', 'idempotency_error', 'invalid_request_error'], label).toContain(error!.type);
    if (error!.code !== undefined) expect(typeof error!.code, label).toBe('string');
    if (error!.param !== undefined) expect(typeof error!.param, label).toBe('string');
  }
}

/**
 * Events written since `head` that a refusal may not write. It may write two
 * things: the idempotency record of its answer, and the failure record the
 * ledger keeps for a refusal that depends on state (RECORDED_FAILURE_CODES:
 * the caller's id then names that one failed attempt), under the code it
 * answered.
 */
async function writtenSince(head: bigint, answeredCode: unknown): Promise<string[]> {
  const events = await api.store.readAll({ after: head, limit: 100 });
  return events.filter((event) => {
    if (event.streamId.startsWith(`${IDEMPOTENCY_CATEGORY}-`)) return false;
    if (event.type !== 'TransferFailed' && event.type !== 'JournalEntryFailed') return true;
    const code = (event.data as { code?: unknown }).code;
    return !(RECORDED_FAILURE_CODES.has(code as never) && (code === answeredCode || answeredCode === 'linked_event_failed'));
  }).map((event) => `${event.streamId} ${event.type} ${JSON.stringify(event.data).slice(0, 200)}`);
}

async function send(sent: Sent): Promise<{ status: number; text: string }> {
  if (sent.url.startsWith('/v1/stream')) return sendStream(sent);
  const response = await api.app.inject({ method: sent.method, url: sent.url, headers: sent.headers, ...(sent.body === undefined ? {} : { payload: sent.body }) });
  return { status: response.statusCode, text: response.body };
}

/** `/v1/stream` never ends on its own: real HTTP, and a 200 is dropped as soon as its headers arrive. */
async function sendStream(sent: Sent): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 3_000);
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(sent.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        try {
          headers.append(name, one);
        } catch {
          // fetch refuses some header values outright; leave those out.
        }
      }
    }
    const response = await fetch(`${baseUrl}${sent.url}`, { method: sent.method, headers, signal: controller.signal });
    if (response.status === 200) {
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      controller.abort();
      return { status: 200, text: '' };
    }
    return { status: response.status, text: await response.text() };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function stillServing(): Promise<void> {
  const response = await api.app.inject({ method: 'GET', url: '/v1/accounts/a', headers: api.as('admin') });
  expect(response.statusCode).toBe(200);
}

/** DAYBOOK_FC_STATS=1 prints how often each route answered each status (and code), to see what the fuzzer reaches. */
const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.DAYBOOK_FC_STATS) console.log([...stats].sort().map(([key, count]) => `${key} ${count}`).join('\n'));
});

async function exercise(sent: Sent, route: string): Promise<void> {
  const head = await api.store.headPosition();
  const { status, text } = await send(sent);
  if (process.env.DAYBOOK_FC_STATS) {
    const code = status >= 400 ? (/"code":"([a-z_]+)"/.exec(text)?.[1] ?? '') : '';
    const key = `${route} ${status} ${code}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
  }
  checkAnswer(sent, status, text);
  if (status >= 400) {
    const answeredCode = (JSON.parse(text) as { error: { code?: unknown } }).error.code;
    expect({ written: await writtenSince(head, answeredCode), request: describeSent(sent), status, answer: text.slice(0, 300) })
      .toMatchObject({ written: [] });
  }
}

// ---------------------------------------------------------------------------
// The properties.

type RouteInfo = { method: 'GET' | 'POST'; url: string };
let routes: RouteInfo[] = [];

function family(url: string): string {
  return url.split('/')[2]!;
}

const pathIds = (route: string): fc.Arbitrary<string> => {
  const existing = (): string[] => EXISTING[family(route)] ?? [];
  return fc.oneof(
    { weight: 6, arbitrary: fc.nat().map((n) => { const ids = existing(); return ids.length === 0 ? 'ghost' : ids[n % ids.length]!; }) },
    { weight: 2, arbitrary: fc.constantFrom(...UNKNOWN_IDS) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((text) => encodeURIComponent(text)) },
  );
};

const fillPath = (route: string, id: string): string => route.replace(':step', 'note').replace(/:[a-z]+/, () => (/%/.test(id) ? id : encodeURIComponent(id)));

function requestArb(route: RouteInfo): fc.Arbitrary<Sent> {
  const template = TEMPLATES[route.url];
  const body: fc.Arbitrary<{ body?: Buffer | string; contentType?: string }> = route.method === 'GET'
    ? fc.oneof({ weight: 9, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.record({ body: fc.constant('{"a":1}'), contentType: fc.constantFrom('application/json', 'text/plain') }) })
    : fc.oneof(
      // Shaped like the real body, mutated.
      { weight: 7, arbitrary: fc.array(mutation, { minLength: 0, maxLength: 2 }).map((ms) => ({ body: jsonText(mutate(template!(), ms)), contentType: 'application/json' })) },
      // Raw bytes under any content type.
      { weight: 3, arbitrary: fc.record({ body: rawBody(JSON.stringify(template!())), contentType: fc.constantFrom(...CONTENT_TYPES) }) },
      // No body at all.
      { weight: 1, arbitrary: fc.constantFrom({}, { contentType: 'application/json' }) },
    );
  return fc.record({
    id: pathIds(route.url),
    query: queryParts(QUERY_KEYS[route.url] ?? []),
    withQuery: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    body,
    headers: headerSet,
    auth: authArb,
  }).map(({ id, query, withQuery, body: { body: payload, contentType }, headers, auth }) => {
    const qs = withQuery || route.method === 'GET' ? queryString(query) : '';
    const url = `${fillPath(route.url, id)}${qs === '' ? '' : `?${qs}`}`;
    const all: Record<string, string | string[]> = { ...headers, ...authHeaders(auth) };
    if (contentType !== undefined) all['content-type'] = contentType;
    if (route.method === 'GET') delete all['idempotency-key'];
    return { method: route.method, url, headers: all, ...(payload === undefined ? {} : { body: payload }) };
  });
}

beforeAll(() => {
  routes = api.app.registeredRoutes
    .filter((route) => route.url.startsWith('/v1/') && (route.method === 'GET' || route.method === 'POST'))
    .map((route) => ({ method: route.method as 'GET' | 'POST', url: route.url }));
});

/** The routes that close or freeze what the others use go last, so the others mostly meet open accounts. */
const ENDINGS = /\/(close|freeze|revoke)$/;
const ROUTE_NAMES = [
  ...Object.keys(TEMPLATES).filter((url) => !ENDINGS.test(url)).map((url) => `POST ${url}`),
  ...Object.keys(QUERY_KEYS).map((url) => `GET ${url}`),
  ...Object.keys(TEMPLATES).filter((url) => ENDINGS.test(url)).map((url) => `POST ${url}`),
];

describe('fuzzing every /v1 route', () => {
  it('knows every registered /v1 route', () => {
    expect(routes.map((route) => `${route.method} ${route.url}`).sort()).toEqual([...ROUTE_NAMES].sort());
  });

  it.each(ROUTE_NAMES.map((name, index) => [name, index] as const))('%s: never a 5xx, a leak or a half write', async (name, index) => {
    const [method, url] = name.split(' ') as ['GET' | 'POST', string];
    const route = { method, url };
    await fc.assert(fc.asyncProperty(requestArb(route), async (sent) => {
      await exercise(sent, name);
      await stillServing();
    }), { seed: SEED + index, numRuns: method === 'POST' ? RUNS * 2 : RUNS, endOnFailure: true });
  });
});

/** Every ledger's debits equal its credits, posted and pending, over every account of a mode: no half-applied movement anywhere. */
async function expectLedgersBalanced(mode: 'test' | 'live'): Promise<void> {
  const sums = new Map<string, { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint }>();
  let cursor: string | undefined;
  for (;;) {
    const page = await api.app.inject({ method: 'GET', url: `/v1/accounts?limit=100${cursor === undefined ? '' : `&starting_after=${encodeURIComponent(cursor)}`}`, headers: api.as('admin', mode) });
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json() as { data: Array<{ id: string; ledger: string; balances: Record<string, string> }>; has_more: boolean };
    for (const account of body.data) {
      const sum = sums.get(account.ledger) ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      sum.debitsPosted += BigInt(account.balances.debits_posted!);
      sum.creditsPosted += BigInt(account.balances.credits_posted!);
      sum.debitsPending += BigInt(account.balances.debits_pending!);
      sum.creditsPending += BigInt(account.balances.credits_pending!);
      sums.set(account.ledger, sum);
    }
    if (!body.has_more || body.data.length === 0) break;
    cursor = body.data.at(-1)!.id;
  }
  for (const [ledger, sum] of sums) {
    expect({ ledger, posted: sum.debitsPosted - sum.creditsPosted, pending: sum.debitsPending - sum.creditsPending }).toEqual({ ledger, posted: 0n, pending: 0n });
  }
}

describe('concurrent fuzzing', () => {
  it('random requests to random routes, several at once: never a 5xx or a leak, and every ledger still balances', async () => {
    const concurrent = routes.filter((route) => route.url !== '/v1/stream');
    const batch = fc.array(fc.nat({ max: concurrent.length - 1 }).chain((index) => requestArb(concurrent[index]!)), { minLength: 2, maxLength: 6 });
    await fc.assert(fc.asyncProperty(batch, async (sents) => {
      const answers = await Promise.all(sents.map((sent) => send(sent)));
      answers.forEach(({ status, text }, index) => checkAnswer(sents[index]!, status, text));
      await stillServing();
      await expectLedgersBalanced('test');
      await expectLedgersBalanced('live');
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
  });

  it('the same request under one Idempotency-Key, several at once, gets one answer and one effect', async () => {
    const post = routes.filter((route) => route.method === 'POST');
    const one = fc.nat({ max: post.length - 1 }).chain((index) => requestArb(post[index]!)).chain((sent) => fc.uuid().map((uuid) => ({ ...sent, headers: { ...sent.headers, ...api.as('admin'), 'idempotency-key': `fz-same-${uuid}` } })));
    await fc.assert(fc.asyncProperty(one, fc.integer({ min: 2, max: 5 }), async (sent, copies) => {
      const answers = await Promise.all(Array.from({ length: copies }, () => send(sent)));
      answers.forEach(({ status, text }) => checkAnswer(sent, status, text));
      // The key is taken before the body is read only when the request gets that far; those that do answer alike.
      const keyed = answers.filter(({ status }) => status !== 415 && status !== 413);
      // A created API key's secret is in the first answer only; replays answer the key without it.
      for (const answer of keyed) expect({ status: answer.status, text: withoutSecret(answer.text) }, describeSent(sent)).toEqual({ status: keyed[0]!.status, text: withoutSecret(keyed[0]!.text) });
      expect(keyed.filter((answer) => answer.text !== withoutSecret(answer.text)).length, describeSent(sent)).toBeLessThanOrEqual(1);
      await expectLedgersBalanced('test');
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
  });
});

describe('valid requests', () => {
  it('a transfer between two existing accounts reads back with the same amount and moves both balances', async () => {
    await fc.assert(fc.asyncProperty(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.boolean(), async (amount, forward) => {
      const [debit, credit] = forward ? ['v1', 'v2'] : ['v2', 'v1'];
      const balance = async (id: string) => (await api.app.inject({ method: 'GET', url: `/v1/accounts/${id}/balance`, headers: api.as('admin') })).json();
      const before = [await balance(debit), await balance(credit)];
      const created = await api.app.inject({ method: 'POST', url: '/v1/transfers', payload: { debit_account_id: debit, credit_account_id: credit, amount: amount.toString() }, headers: api.as('admin') });
      expect(created.statusCode, created.body).toBe(200);
      const id = created.json().id as string;
      const read = await api.app.inject({ method: 'GET', url: `/v1/transfers/${id}`, headers: api.as('admin') });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({ id, amount: amount.toString(), debit_account_id: debit, credit_account_id: credit, status: 'posted' });
      const after = [await balance(debit), await balance(credit)];
      expect(BigInt(after[0].debits_posted) - BigInt(before[0].debits_posted)).toBe(amount);
      expect(BigInt(after[1].credits_posted) - BigInt(before[1].credits_posted)).toBe(amount);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('an account opened with metadata is found by its metadata filter, whatever the key and value', async () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !/[[\]]/.test(s));
    await fc.assert(fc.asyncProperty(text, text, fc.uuid(), async (key, value, id) => {
      const opened = await api.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id: `m-${id}`, currency: 'EUR', metadata: { [key]: value } }, headers: api.as('admin') });
      if (opened.statusCode !== 200) {
        // Metadata the ledger bounds (length) is refused with a Stripe error; anything else is a bug.
        expect(opened.statusCode, opened.body).toBe(400);
        return;
      }
      const listed = await api.app.inject({ method: 'GET', url: `/v1/accounts?limit=100&${encodeURIComponent(`metadata[${key}]`)}=${encodeURIComponent(value)}`, headers: api.as('admin') });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().data.map((account: { id: string }) => account.id)).toContain(`m-${id}`);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('the same Idempotency-Key and body replays the first answer byte for byte, and writes once', async () => {
    await fc.assert(fc.asyncProperty(fc.stringMatching(/^[!-~]{1,40}$/), fc.bigInt({ min: 1n, max: 1000n }), async (key, amount) => {
      const headers = { ...api.as('admin'), 'idempotency-key': `fz-${key}` };
      const payload = { debit_account_id: 'v1', credit_account_id: 'v2', amount: amount.toString() };
      const first = await api.app.inject({ method: 'POST', url: '/v1/transfers', payload, headers });
      const head = await api.store.headPosition();
      const second = await api.app.inject({ method: 'POST', url: '/v1/transfers', payload, headers });
      expect(second.statusCode).toBe(first.statusCode);
      expect(second.body).toBe(first.body);
      expect(await api.store.headPosition()).toBe(head);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('after the fuzzing', () => {
  it('no event an auditor can read, through /v1/events or /v1/stream, holds the secret of an API key', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/v1/api_keys', payload: { role: 'admin' }, headers: { ...api.as('admin'), 'idempotency-key': 'fz-after-key' } });
    expect(created.statusCode).toBe(200);
    knownSecrets.add(created.json().secret);
    const streams = new Set((await api.store.readAll({ limit: 10_000 })).map((event) => event.streamId));
    for (const stream of streams) {
      const read = await api.app.inject({ method: 'GET', url: `/v1/events?stream=${encodeURIComponent(stream)}&limit=100`, headers: api.as('auditor') });
      for (const secret of knownSecrets) expect(read.body.includes(secret) ? `${stream} leaks ${secret.slice(0, 12)}…` : 'no secret').toBe('no secret');
    }
    // The whole log, up to the head as it is now (the last event is always one an auditor sees: the key's record).
    const head = await api.store.headPosition();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 15_000);
    let text = '';
    try {
      const response = await fetch(`${baseUrl}/v1/stream?after=0`, { headers: api.as('auditor'), signal: controller.signal });
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        text += Buffer.from(chunk).toString('utf8');
        if (text.includes(`id: ${head}\n`)) break;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    expect(text).toContain(`id: ${head}\n`);
    for (const secret of knownSecrets) expect(text.includes(secret) ? `the stream leaks ${secret.slice(0, 12)}…` : 'no secret').toBe('no secret');
  });
});

describe('the fuzzer\'s starting points', () => {
  it('every POST route takes its unmutated template on fresh objects: never a validation error (the body shape is right)', async () => {
    const fresh = async (url: string, payload: object): Promise<void> => {
      const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('admin') });
      expect(response.statusCode, `${url} ${response.body}`).toBe(200);
    };
    await fresh('/v1/accounts', { id: 't-a', currency: 'USD' });
    await fresh('/v1/accounts', { id: 't-b', currency: 'USD' });
    await fresh('/v1/accounts', { id: 't-c', currency: 'USD' });
    await fresh('/v1/transfers', { id: 't-p', debit_account_id: 't-a', credit_account_id: 't-b', amount: '10', pending: true });
    await fresh('/v1/journal_entries', { id: 't-e', postings: [{ account_id: 't-a', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 't-b', side: 'credit', amount: '1', currency: 'USD' }] });
    await fresh('/v1/customers', { id: 't-cus', full_name: 'Ada Lovelace', email: 'ada@example.com' });
    await fresh('/v1/bank_accounts', { id: 't-ba', customer_id: 't-cus', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '1000' });
    await fresh('/v1/bank_accounts', { id: 't-bb', customer_id: 't-cus', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
    const key = await api.app.inject({ method: 'POST', url: '/v1/api_keys', payload: { role: 'support' }, headers: api.as('admin') });
    await fresh('/v1/transfers', { id: 't-p2', debit_account_id: 't-a', credit_account_id: 't-b', amount: '10', pending: true });
    const sequence: Array<[string, string?]> = [
      ['/v1/accounts'], ['/v1/accounts/:id/close', 't-c'], ['/v1/accounts/:id/reopen', 't-c'], ['/v1/transfers'], ['/v1/transfers/batch'],
      ['/v1/transfers/:id/post', 't-p'], ['/v1/transfers/:id/void', 't-p2'], ['/v1/journal_entries'], ['/v1/journal_entries/:id/reverse', 't-e'],
      ['/v1/customers'], ['/v1/customers/:id', 't-cus'], ['/v1/bank_accounts'], ['/v1/deposits'], ['/v1/withdrawals'], ['/v1/bank_transfers'], ['/v1/bank_payments'],
      ['/v1/bank_accounts/:id/freeze', 't-ba'], ['/v1/bank_accounts/:id/unfreeze', 't-ba'], ['/v1/bank_accounts/:id/close', 't-ba'],
      ['/v1/api_keys'], ['/v1/api_keys/:id/revoke', key.json().id],
      ['/v1/approval_requests/:id/approve', 'apr_t1'], ['/v1/approval_requests/:id/reject', 'apr_t2'], ['/v1/admin/erasures'],
      ['/v1/aml_alerts/:id/case', 'al_t'], ['/v1/aml_cases/:id/:step', 'al_t'],
      ['/v1/screening_cases/:id/clear', await openScreeningCase('Clear Me')], ['/v1/screening_cases/:id/confirm', await openScreeningCase('Confirm Me')],
    ];
    await raiseAlert('al_t');
    await askApproval('apr_t1');
    await askApproval('apr_t2');
    expect(sequence.map(([route]) => route).sort()).toEqual(Object.keys(TEMPLATES).sort());
    const rename = (text: string) => text.replace(/"(a|b|c|ba|bb|cus)"/g, '"t-$1"').replace('bankcustomer:test.cus"', 'bankcustomer:test.t-cus"');
    for (const [route, id] of sequence) {
      const url = route.replace(':step', 'note').replace(':id', id ?? '');
      const payload = rename(JSON.stringify(TEMPLATES[route]!()));
      const response = await api.app.inject({ method: 'POST', url, payload, headers: { ...api.as('admin'), 'content-type': 'application/json' } });
      expect({ route, status: response.statusCode, body: response.body.slice(0, 300) }).toMatchObject({ route, status: 200 });
    }
  });
});
