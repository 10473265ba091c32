/** Projection definitions: what is refused where it is declared, filters, and the registry's answer to an unknown name. */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/index.ts';
import { defineProjection, matchesFilter, type ProjectionDefinition, ProjectionRegistry, storeFilter, versionedTable } from './projection.ts';

const valid: ProjectionDefinition = {
  name: 'balances', version: 2, tables: ['balances'], handles: { categories: ['acct'] },
  migrate: async () => {}, handle: async () => {},
};

function refusal(definition: unknown): string {
  try {
    defineProjection(definition as ProjectionDefinition);
  } catch (error) {
    if (isDaybookError(error, 'validation_failed')) return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('defineProjection', () => {
  it('accepts a well-formed definition as it is', () => {
    expect(defineProjection(valid)).toBe(valid);
  });

  it('refuses bad names, versions, tables, policies and handlers', () => {
    expect(refusal({ ...valid, name: 'Balances' })).toMatch(/name must match/);
    expect(refusal({ ...valid, name: 'a'.repeat(41) })).toMatch(/name must match/);
    expect(refusal({ ...valid, version: 0 })).toMatch(/version must be/);
    expect(refusal({ ...valid, version: 1.5 })).toMatch(/version must be/);
    expect(refusal({ ...valid, tables: [] })).toMatch(/at least one/);
    expect(refusal({ ...valid, tables: ['balances; DROP TABLE events'] })).toMatch(/must match/);
    expect(refusal({ ...valid, tables: ['a', 'a'] })).toMatch(/must not repeat/);
    expect(refusal({ ...valid, onPoison: 'ignore' })).toMatch(/onPoison/);
    expect(refusal({ ...valid, handle: undefined })).toMatch(/functions/);
    expect(refusal({ ...valid, handles: { types: [''] } })).toMatch(/non-empty strings/);
  });

  it('suffixes tables with the generation', () => {
    expect(versionedTable('balances', 3)).toBe('balances_v3');
  });
});

describe('filters', () => {
  it('matches categories and types, and treats absent or empty lists as all', () => {
    const event = { streamId: 'acct-42', type: 'Opened' };
    expect(matchesFilter({}, event)).toBe(true);
    expect(matchesFilter({ categories: [], types: [] }, event)).toBe(true);
    expect(matchesFilter({ categories: ['acct'] }, event)).toBe(true);
    expect(matchesFilter({ categories: ['pay'] }, event)).toBe(false);
    expect(matchesFilter({ categories: ['acct'], types: ['Closed'] }, event)).toBe(false);
    expect(matchesFilter({ categories: ['acct', 'pay'], types: ['Opened'] }, event)).toBe(true);
  });

  it('lets the store filter one category and any types, and leaves several categories to memory', () => {
    expect(storeFilter({ categories: ['acct'], types: ['Opened'] })).toEqual({ category: 'acct', types: ['Opened'] });
    expect(storeFilter({ categories: ['acct', 'pay'] })).toEqual({});
    expect(storeFilter({})).toEqual({});
  });
});

describe('ProjectionRegistry', () => {
  it('answers an unknown name with projection_not_found, listing the known ones', () => {
    const registry = new ProjectionRegistry([valid]);
    expect(registry.get('balances')).toBe(valid);
    try {
      registry.get('balance');
      throw new Error('found');
    } catch (error) {
      expect(isDaybookError(error, 'projection_not_found')).toBe(true);
      expect((error as Error).message).toMatch(/known: balances/);
    }
  });

  it('refuses the same name twice, and two projections naming the same table', () => {
    expect(() => new ProjectionRegistry([valid, { ...valid }])).toThrow(/registered twice/);
    expect(() => new ProjectionRegistry([valid, { ...valid, name: 'other', tables: ['ledger', 'balances'] }])).toThrow(/both name table\(s\) balances/);
  });
});
