/** Which key sees which event: by stream, metadata or id prefix; system events for admins and auditors only; categories per role. */
import { describe, expect, it } from 'vitest';
import { mayStreamCategory } from '../auth/index.ts';
import { modeOfEvent } from './eventVisibility.ts';

const event = (streamId: string, metadata: Record<string, unknown> = {}, data: unknown = {}) => ({ streamId, metadata, data });

describe('modeOfEvent', () => {
  it('reads the mode from ledger partitions, prefixed banking streams, metadata and data ids', () => {
    expect(modeOfEvent(event('ledger-test'))).toBe('test');
    expect(modeOfEvent(event('ledger-banking-live'))).toBe('live');
    expect(modeOfEvent(event('customer-test.ada'))).toBe('test');
    expect(modeOfEvent(event('idempotency-abc', { mode: 'live' }))).toBe('live');
    expect(modeOfEvent(event('banktxn-tx123', {}, { fromAccountId: 'live.chk', toAccountId: null }))).toBe('live');
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
    expect(mayStreamCategory('operator', 'apikey')).toBe(false);
    expect(mayStreamCategory('auditor', 'apikey')).toBe(true);
  });
});
