/**
 * Structural equality for plain data (what events and commands are made of):
 * primitives by `Object.is` (so bigints by value), arrays element-wise, plain
 * objects key-wise with `undefined`-valued keys treated as absent, as vitest's
 * `toEqual` does. Maps and Sets compare by entries in insertion order.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => deepEqual(item, b[index]));
  }
  if (a instanceof Map || b instanceof Map || a instanceof Set || b instanceof Set) {
    if (a.constructor !== b.constructor) return false;
    return deepEqual([...(a as Map<unknown, unknown>).entries()], [...(b as Map<unknown, unknown>).entries()]);
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysOf = (value: object) => Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined).sort();
  const keysA = keysOf(a);
  const keysB = keysOf(b);
  if (!deepEqual(keysA, keysB)) return false;
  return keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
