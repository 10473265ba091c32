/**
 * The one projections suite every backend runs, like the event store's
 * conformance suite: the same projection definition, the same tests, on
 * SQLite and on PostgreSQL. A behaviour that differs between them is a bug.
 */
import { describe } from 'vitest';
import { describeExactlyOnce } from './exactlyOnceConformance.ts';
import type { ProjectionHarnessFactory } from './harness.ts';
import { describePoison } from './poisonConformance.ts';
import { describeQueries } from './queryConformance.ts';
import { describeRebuild } from './rebuildConformance.ts';
import { describeRunner } from './runnerConformance.ts';

export type { ProjectionHarness, ProjectionHarnessFactory } from './harness.ts';

export function describeProjectionConformance(name: string, factory: ProjectionHarnessFactory): void {
  describe(`projections conformance: ${name}`, () => {
    describeRunner(factory);
    describeExactlyOnce(factory);
    describePoison(factory);
    describeRebuild(factory);
    describeQueries(factory);
  });
}
