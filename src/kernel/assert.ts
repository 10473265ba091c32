/**
 * Programmer errors fail an assertion: they are bugs, not operating errors, and
 * are never caught to be turned into a business answer. Assertions stay on in
 * production.
 */
export class AssertionFailed extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionFailed';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

export function assertNever(value: never): never {
  throw new AssertionFailed(`unexpected value ${JSON.stringify(value)}`);
}
