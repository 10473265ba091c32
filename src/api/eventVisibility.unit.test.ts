/** Which key sees which event: by stream, metadata or id prefix; system events for admins and auditors only; categories per role. */
import { describe, expect, it } from 'vitest';
import { mayStreamCategory } from '../auth/index.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { eventToWire, modeOfEvent } from './eventVisibility.ts';

const event = (streamId: string, metadata: Record<string, unknown> = {}, data: unknown = {}) => ({ streamId, metadata, data });

describe('modeOfEvent', () => {
  it('reads the mode from ledger partitions, prefixed banking streams, metadata and data ids', () => {
    expect(modeOfEvent(event('ledger-test'))).toBe('test');
    expect(modeOfEvent(event('ledger-banking-live'))).toBe('live');
    expect(modeOfEvent(event('customer-test.ada'))).toBe('test');
    expect(modeOfEvent(event('idempotency-abc', { mode: 'live' }))).toBe('live');
    expect(modeOfEvent(event('banktxn-tx123', {}, { fromAccountId: 'live.chk', toAccountId: null }))).toBe('live');
  });

  it('gives an API key\'s creation its key\'s mode, also one written without a mode in its metadata (the CLI\'s, the bootstrap\'s)', () => {
    expect(modeOfEvent(event('apikey-key_1', { actor: 'cli' }, { keyId: 'key_1', mode: 'live' }))).toBe('live');
    expect(modeOfEvent(event('apikey-key_2', { actor: 'bootstrap' }, { keyId: 'key_2', mode: 'test' }))).toBe('test');
    expect(modeOfEvent(event('apikey-key_3', {}, { keyId: 'key_3', mode: 'sideways' }))).toBeUndefined();
  });

  it('gives a ledger partition\'s snapshot digests the partition\'s mode', () => {
    expect(modeOfEvent(event('ledgersnapshot-live', { actor: 'ledger-engine' }, { streamId: 'ledger-live' }))).toBe('live');
    expect(modeOfEvent(event('ledgersnapshot-banking-test', { actor: 'ledger-engine' }, { streamId: 'ledger-banking-test' }))).toBe('test');
    expect(modeOfEvent(event('ledgersnapshot-main'))).toBeUndefined();
    // A live key made (or revoked) by a test key under an earlier build: its events carry the actor's mode in their metadata, the key's in its data.
    expect(modeOfEvent(event('apikey-key_1', { mode: 'test' }, { mode: 'live', keyId: 'key_1' }))).toBe('live');
    expect(modeOfEvent(event('apikey-key_1', { mode: 'test' }, { keyId: 'key_1' }))).toBeUndefined();
    // The lookup markers of a partition, and the payments partitions, belong to their mode too.
    expect(modeOfEvent(event('ledgerindex-test', { actor: 'ledger-engine' }))).toBe('test');
    expect(modeOfEvent(event('ledgerindex-banking-live', { actor: 'ledger-engine' }))).toBe('live');
    expect(modeOfEvent(event('ledger-payments-live', { actor: 'ledger-engine' }))).toBe('live');
    expect(modeOfEvent(event('ledgerindex-payments-test', { actor: 'ledger-engine' }))).toBe('test');
  });

  it('leaves system events without a mode', () => {
    expect(modeOfEvent(event('apikey-key_1'))).toBeUndefined();
    expect(modeOfEvent(event('ledger-main'))).toBeUndefined();
    expect(modeOfEvent(event('ledger-test-extra'))).toBeUndefined();
  });
});

describe('categories per role', () => {
  it('keeps personal data from support and system categories from all but admins and auditors', () => {
    expect(mayStreamCategory('support', 'customer')).toBe(false);
    expect(mayStreamCategory('support', 'banktxn')).toBe(true);
    expect(mayStreamCategory('operator', 'customer')).toBe(true);
    // Connected accounts hold personal data (an individual's name, birth date, address): like customers.
    expect(mayStreamCategory('support', 'paccount')).toBe(false);
    expect(mayStreamCategory('operator', 'paccount')).toBe(true);
    // Payment methods, intents and payouts hold billing details, receipt emails, shipping, descriptions and metadata: like customers.
    for (const category of ['pmethod', 'pintent', 'ppayout']) {
      expect(mayStreamCategory('support', category)).toBe(false);
      expect(mayStreamCategory('operator', category)).toBe(true);
    }
    // Webhook endpoints hold signing secrets: never on the business feed.
    expect(mayStreamCategory('operator', 'pwebhook')).toBe(false);
    expect(mayStreamCategory('operator', 'apikey')).toBe(false);
    expect(mayStreamCategory('auditor', 'apikey')).toBe(true);
  });
});

describe('eventToWire', () => {
  const recorded = (type: string, data: unknown): RecordedEvent => ({
    eventId: 'e1', streamId: 'idempotency-abc', version: 1n, position: 7n, type, schemaVersion: 1, data, metadata: {},
    recordedAt: new Date(0), hash: 'h', previousHash: null,
  } as unknown as RecordedEvent);

  it('redacts an API key secret kept in an old idempotency record, and drops key hashes', () => {
    const body = JSON.stringify({ object: 'api_key', id: 'key_1', secret: 'sk_live_AbC123def456ghi789jkl' });
    const wire = eventToWire(recorded('IdempotentResponseRecorded', { route: '/v1/api_keys', statusCode: 200, body }));
    expect(JSON.stringify(wire)).not.toContain('sk_live_AbC123');
    expect(JSON.parse((wire.data as { body: string }).body)).toEqual({ object: 'api_key', id: 'key_1', secret: '[redacted]' });
    expect(eventToWire(recorded('ApiKeyCreated', { keyId: 'key_1', secretHash: 'deadbeef', role: 'admin' })).data).toEqual({ keyId: 'key_1', role: 'admin' });
  });

  it('leaves other records as they are', () => {
    const data = { route: '/v1/transfers', statusCode: 200, body: '{"object":"transfer","id":"t1"}' };
    expect(eventToWire(recorded('IdempotentResponseRecorded', data)).data).toBe(data);
  });
});
