/** defineRelay's checks and what it declares: one `<name>_sent` table, the relay mark, the projection's own rules on names. */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/index.ts';
import { defineProjection } from './projection.ts';
import { defineRelay, isRelay, relayTable } from './relay.ts';

const deliver = async (): Promise<void> => {};

function codeOf(make: () => unknown): string | undefined {
  try {
    make();
  } catch (error) {
    return isDaybookError(error) ? error.code : 'other';
  }
  return undefined;
}

describe('defineRelay', () => {
  it('declares a projection with one table and the relay mark', () => {
    const relay = defineRelay({ name: 'partner_webhooks', version: 2, handles: { categories: ['payment'] }, deliver, onPoison: 'stop' });
    expect(relay).toMatchObject({ name: 'partner_webhooks', version: 2, tables: ['partner_webhooks_sent'], handles: { categories: ['payment'] }, onPoison: 'stop', relay: true });
    expect(relay.partitions).toBeUndefined();
    expect(isRelay(relay)).toBe(true);
    expect(relayTable('x')).toBe('x_sent');
  });

  it('tells a plain projection from a relay', () => {
    const plain = defineProjection({ name: 'plain', version: 1, tables: ['plain'], handles: {}, migrate: async () => {}, handle: async () => {} });
    expect(isRelay(plain)).toBe(false);
  });

  it('refuses a relay without a deliverer, and names or versions a projection may not have', () => {
    expect(codeOf(() => defineRelay({ name: 'webhooks', version: 1, handles: {}, deliver: undefined as never }))).toBe('validation_failed');
    expect(codeOf(() => defineRelay({ name: 'Webhooks', version: 1, handles: {}, deliver }))).toBe('validation_failed');
    expect(codeOf(() => defineRelay({ name: `w${'x'.repeat(40)}`, version: 1, handles: {}, deliver }))).toBe('validation_failed');
    expect(codeOf(() => defineRelay({ name: 'webhooks', version: 0, handles: {}, deliver }))).toBe('validation_failed');
    expect(codeOf(() => defineRelay({ name: 'webhooks', version: 1, handles: { types: [''] }, deliver }))).toBe('validation_failed');
    expect(codeOf(() => defineRelay({ name: 'webhooks', version: 1, handles: {}, deliver, onPoison: 'drop' as never }))).toBe('validation_failed');
  });
});
