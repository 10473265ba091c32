/**
 * fast-check parameters for property tests: a fixed seed per test file, so
 * every machine runs the same cases and CI never fails on a rare one found by
 * chance (a failure prints its seed and path, to replay). DAYBOOK_FC_SEED
 * explores another seed; DAYBOOK_FC_RUNS sets the number of runs.
 *
 * @example
 * const PROPERTY = propertyParameters(20_261_127);
 * fc.assert(fc.property(fc.bigInt(), (n) => { ... }), PROPERTY);
 */
export function propertyParameters(defaultSeed: number, defaultRuns = 100): { seed: number; numRuns: number } {
  return { seed: integerFromEnv('DAYBOOK_FC_SEED') ?? defaultSeed, numRuns: integerFromEnv('DAYBOOK_FC_RUNS') ?? defaultRuns };
}

function integerFromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}
