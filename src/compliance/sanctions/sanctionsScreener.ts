/**
 * Screening names against a sanctions list (pure). The list is indexed
 * once: every name and alias normalized, and each token filed under two
 * keys, its first three letters and its phonetic key. A screened name is
 * then scored only against the names sharing a key with one of its tokens,
 * so one name against 10,000 entries scores tens or hundreds of candidates,
 * not all. Keys shared by very many names (a word like TRADING, a name like
 * MOHAMMED) say little: they are consulted only when the screened name has
 * no other key. A name whose every token is misspelled both in its first
 * three letters and in its sound is missed: the price of not scoring the
 * whole list.
 *
 * @example
 * const screener = buildSanctionsScreener(list);
 * screener.screen('Ayman al Zawahri');
 * // { hits: [{ entNum: 6366, name: 'AL-ZAWAHIRI, Ayman', score: 0.95, matchedOn: 'name', matchedName: 'AL-ZAWAHIRI, Ayman', … }] }
 */
import { DaybookError } from '../../kernel/errors.ts';
import { SCREENING_NAME_LENGTH_MAX } from '../../kernel/limits.ts';
import { normalizeName, phoneticKey, type NormalizedName } from './nameNormalize.ts';
import type { SanctionsEntry, SanctionsEntryType, SanctionsList } from './sdnCsv.ts';
import { nameSimilarity } from './similarity.ts';

/** Scores at or above this are hits unless the caller says otherwise. */
export const SCREENING_THRESHOLD_DEFAULT = 0.88;

export interface ScreeningHit {
  readonly entNum: number;
  /** The entry's primary name. */
  readonly name: string;
  readonly score: number;
  /** Whether the primary name or an alias matched best… */
  readonly matchedOn: 'name' | 'alias';
  /** …and which one. */
  readonly matchedName: string;
  readonly type: SanctionsEntryType;
  readonly programs: readonly string[];
}

export interface ScreeningResult {
  /** Best first (score, then ent_num); one per entry. */
  readonly hits: readonly ScreeningHit[];
}

export interface SanctionsScreener {
  readonly entries: number;
  /** Names indexed: primary names and aliases. */
  readonly names: number;
  screen(name: string, options?: { threshold?: number }): ScreeningResult;
}

type IndexedName = { readonly entry: number; readonly normalized: NormalizedName; readonly matchedOn: 'name' | 'alias'; readonly text: string };

function keysOf(tokens: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const token of tokens) {
    // Initials and one-letter tokens would file a name under nearly everything.
    if (token.length < 2) continue;
    keys.add(`p${token.slice(0, 3)}`);
    if (token.length >= 3) keys.add(`f${phoneticKey(token)}`);
  }
  return [...keys];
}

function indexNames(entries: readonly SanctionsEntry[]): IndexedName[] {
  const names: IndexedName[] = [];
  entries.forEach((entry, index) => {
    names.push({ entry: index, normalized: normalizeName(entry.name), matchedOn: 'name', text: entry.name });
    for (const alias of entry.aliases) names.push({ entry: index, normalized: normalizeName(alias.name), matchedOn: 'alias', text: alias.name });
  });
  return names;
}

/** A key filed under more names than this is common: consulted only when the screened name has no other. */
function commonBucketSize(names: number): number {
  return Math.max(500, Math.ceil(names / 20));
}

type Buckets = { readonly specific: Map<string, Int32Array>; readonly common: Map<string, Int32Array> };

function buildBuckets(names: readonly IndexedName[]): Buckets {
  const lists = new Map<string, number[]>();
  names.forEach((name, index) => {
    for (const key of keysOf(name.normalized.tokens)) {
      const list = lists.get(key);
      if (list) list.push(index);
      else lists.set(key, [index]);
    }
  });
  const limit = commonBucketSize(names.length);
  const buckets: Buckets = { specific: new Map(), common: new Map() };
  for (const [key, list] of lists) (list.length > limit ? buckets.common : buckets.specific).set(key, Int32Array.from(list));
  return buckets;
}

/** The buckets to score for a query: its specific keys, or its common ones when it has no specific key. */
function bucketsFor(keys: readonly string[], buckets: Buckets): Int32Array[] {
  const specific = keys.map((key) => buckets.specific.get(key)).filter((bucket) => bucket !== undefined);
  if (specific.length > 0 || keys.every((key) => !buckets.common.has(key))) return specific;
  return keys.map((key) => buckets.common.get(key)).filter((bucket) => bucket !== undefined);
}

function checkedQuery(name: string, threshold: number): NormalizedName {
  if (!(threshold > 0 && threshold <= 1)) throw new DaybookError('validation_failed', `threshold ${threshold} is not within (0, 1]`, {}, 'threshold');
  if (name.length > SCREENING_NAME_LENGTH_MAX) throw new DaybookError('limit_exceeded', `the name is longer than ${SCREENING_NAME_LENGTH_MAX} characters`, {}, 'name');
  const normalized = normalizeName(name);
  if (normalized.tokens.length === 0) throw new DaybookError('validation_failed', `the name ${JSON.stringify(name)} has no letters or digits`, {}, 'name');
  return normalized;
}

export function buildSanctionsScreener(list: SanctionsList): SanctionsScreener {
  const entries = list.entries;
  const names = indexNames(entries);
  const buckets = buildBuckets(names);
  // Which names this screening has scored already: stamped with a counter, never cleared.
  const seen = new Uint32Array(names.length);
  let stamp = 0;

  function screen(name: string, options: { threshold?: number } = {}): ScreeningResult {
    const threshold = options.threshold ?? SCREENING_THRESHOLD_DEFAULT;
    const query = checkedQuery(name, threshold);
    stamp = stamp === 0xffffffff ? (seen.fill(0), 1) : stamp + 1;
    const best = new Map<number, { score: number; name: IndexedName }>();
    for (const bucket of bucketsFor(keysOf(query.tokens), buckets)) {
      for (const index of bucket) {
        if (seen[index] === stamp) continue;
        seen[index] = stamp;
        const candidate = names[index]!;
        const score = nameSimilarity(query, candidate.normalized);
        const kept = best.get(candidate.entry);
        if (score >= threshold && (kept === undefined || score > kept.score)) best.set(candidate.entry, { score, name: candidate });
      }
    }
    const hits = [...best].map(([entry, { score, name: matched }]) => hitOf(entries[entry]!, score, matched));
    hits.sort((x, y) => y.score - x.score || x.entNum - y.entNum);
    return { hits };
  }

  return { entries: entries.length, names: names.length, screen };
}

function hitOf(entry: SanctionsEntry, score: number, matched: IndexedName): ScreeningHit {
  return {
    entNum: entry.entNum, name: entry.name, score: Math.round(score * 10_000) / 10_000, matchedOn: matched.matchedOn, matchedName: matched.text,
    type: entry.type, programs: entry.programs,
  };
}
