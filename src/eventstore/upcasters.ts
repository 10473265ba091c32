import type { EventMetadata } from './eventStore.ts';
import { assert } from '../kernel/assert.ts';

/**
 * Turns data of one (type, schema version) into the next schema version's
 * shape. Applied on read only: stored bytes never change.
 */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  toSchemaVersion: number;
  upcast(data: unknown, metadata: EventMetadata): unknown;
}

export interface Upcasters {
  apply(type: string, schemaVersion: number, data: unknown, metadata: EventMetadata): { data: unknown; schemaVersion: number };
}

/** Chains the registered upcasters: v1 → v2 → v3 … until none is registered for the current version. */
export function createUpcasters(list: readonly Upcaster[] = []): Upcasters {
  const byKey = new Map<string, Upcaster>();
  for (const upcaster of list) {
    assert(upcaster.toSchemaVersion > upcaster.fromSchemaVersion, `upcaster for ${upcaster.type} must raise the schema version`);
    const key = `${upcaster.type}@${upcaster.fromSchemaVersion}`;
    assert(!byKey.has(key), `two upcasters registered for ${key}`);
    byKey.set(key, upcaster);
  }
  return {
    apply(type, schemaVersion, data, metadata) {
      if (byKey.size === 0) return { data, schemaVersion };
      let current = data;
      let version = schemaVersion;
      for (let next = byKey.get(`${type}@${version}`); next; next = byKey.get(`${type}@${version}`)) {
        current = next.upcast(current, metadata);
        version = next.toSchemaVersion;
      }
      return { data: current, schemaVersion: version };
    },
  };
}
