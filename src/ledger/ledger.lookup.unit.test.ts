import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { ledgerEventId } from './ledger.lookup.ts';

describe('ledgerEventId', () => {
  it('is the RFC 9562 version-5 UUID of the partition and key, as the uuid package makes it, for any name length and script', () => {
    const namespace = '6f1d7c1e-3b0a-5d6e-9a51-d4b1c0a7e2f3';
    for (const [partition, key] of [['ledger-test', 't:tr_1'], ['ledger-live', `e:${'x'.repeat(128)}`], ['ledger-ü', 't:日本語-ids'], ['ledger-big', `t:${'é'.repeat(3000)}`]] as const) {
      const id = ledgerEventId(partition, key);
      expect(id).toBe(uuidv5(`${partition}\n${key}`, namespace));
      expect(id[14]).toBe('5');
    }
  });

  it('differs by partition and by key, and is the same every time', () => {
    expect(ledgerEventId('ledger-test', 't:a')).toBe(ledgerEventId('ledger-test', 't:a'));
    expect(ledgerEventId('ledger-test', 't:a')).not.toBe(ledgerEventId('ledger-live', 't:a'));
    expect(ledgerEventId('ledger-test', 't:a')).not.toBe(ledgerEventId('ledger-test', 'e:a'));
  });
});
