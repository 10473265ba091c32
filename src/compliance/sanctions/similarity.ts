/**
 * String and name similarity (pure), each from 0 (nothing alike) to 1 (equal).
 *
 * - `jaroWinkler`: typos and small spelling variants in one string, with a
 *   bonus for a shared prefix (Winkler's scale 0.1, up to 4 characters).
 * - `tokenSetSimilarity`: names as sets of tokens, each token paired with
 *   its most similar counterpart (Jaro-Winkler, one-to-one). A name wholly
 *   inside the other ("Ayman al-Zawahiri" in "AL-ZAWAHIRI, Ayman Muhammad
 *   Rabi") scores high when at least two tokens carry it; one common token
 *   alone ("Muhammad") does not.
 * - `nameSimilarity`: the token-set similarity of normalized names, or, when
 *   their token counts differ, Jaro-Winkler on the names written without
 *   spaces if that is higher (joined or split tokens).
 */
import type { NormalizedName } from './nameNormalize.ts';

/** Tokens at least this alike count as the same token. */
export const TOKEN_MATCH_MIN = 0.85;

// Scratch space for jaroWinkler's match flags: names are short, and scoring runs in tight loops.
let flagsA = new Uint8Array(64);
let flagsB = new Uint8Array(64);

export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const lengthA = a.length;
  const lengthB = b.length;
  if (lengthA === 0 || lengthB === 0) return 0;
  if (flagsA.length < lengthA) flagsA = new Uint8Array(lengthA * 2);
  if (flagsB.length < lengthB) flagsB = new Uint8Array(lengthB * 2);
  flagsA.fill(0, 0, lengthA);
  flagsB.fill(0, 0, lengthB);
  const window = Math.max(0, (Math.max(lengthA, lengthB) >> 1) - 1);
  let matches = 0;
  for (let i = 0; i < lengthA; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lengthB - 1, i + window);
    const code = a.charCodeAt(i);
    for (let j = from; j <= to; j++) {
      if (flagsB[j] === 0 && b.charCodeAt(j) === code) {
        flagsA[i] = 1;
        flagsB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let j = 0;
  for (let i = 0; i < lengthA; i++) {
    if (flagsA[i] === 0) continue;
    while (flagsB[j] === 0) j++;
    if (a.charCodeAt(i) !== b.charCodeAt(j)) transpositions++;
    j++;
  }
  return (matches / lengthA + matches / lengthB + (matches - transpositions / 2) / matches) / 3;
}

export function jaroWinkler(a: string, b: string): number {
  const similarity = jaro(a, b);
  let prefix = 0;
  const limit = Math.min(4, a.length, b.length);
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return similarity + prefix * 0.1 * (1 - similarity);
}

const totalLength = (tokens: readonly string[]): number => tokens.reduce((sum, token) => sum + token.length, 0);

/** One-to-one pairing of tokens, most similar pairs first; pairs below TOKEN_MATCH_MIN are left unpaired. */
function pairTokens(a: readonly string[], b: readonly string[]): { count: number; weightA: number; weightB: number } {
  const pairs: Array<[similarity: number, i: number, j: number]> = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const similarity = jaroWinkler(a[i]!, b[j]!);
      if (similarity >= TOKEN_MATCH_MIN) pairs.push([similarity, i, j]);
    }
  }
  pairs.sort((x, y) => y[0] - x[0]);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  let count = 0;
  let weightA = 0;
  let weightB = 0;
  for (const [similarity, i, j] of pairs) {
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
    count++;
    weightA += similarity * a[i]!.length;
    weightB += similarity * b[j]!.length;
  }
  return { count, weightA, weightB };
}

export function tokenSetSimilarity(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const { count, weightA, weightB } = pairTokens(a, b);
  if (count === 0) return 0;
  const coverA = weightA / totalLength(a);
  const coverB = weightB / totalLength(b);
  const [high, low] = coverA >= coverB ? [coverA, coverB] : [coverB, coverA];
  const coveredSide = coverA >= coverB ? a : b;
  // A name inside the other counts when two tokens or more carry it, or when both are one token;
  // otherwise the less covered side weighs most, so one shared word ("Trading") is no match.
  const subset = coveredSide.length >= 2 ? count >= 2 : a.length === 1 && b.length === 1;
  return subset ? high * (0.9 + 0.1 * low) : 0.3 * high + 0.7 * low;
}

export function nameSimilarity(a: NormalizedName, b: NormalizedName): number {
  if (a.tokens.length === 0 || b.tokens.length === 0) return 0;
  const tokenSet = tokenSetSimilarity(a.sorted, b.sorted);
  // Joined or split tokens ("alzawahiri", "al zawahiri") change the count but hardly the letters: compare the names written without spaces too.
  const [shorter, longer] = a.compact.length <= b.compact.length ? [a.compact.length, b.compact.length] : [b.compact.length, a.compact.length];
  if (a.tokens.length === b.tokens.length || shorter < 0.85 * longer) return tokenSet;
  return Math.max(tokenSet, jaroWinkler(a.compact, b.compact));
}
