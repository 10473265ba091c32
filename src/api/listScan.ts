import { z } from 'zod';
import { LIST_SCAN_MAX } from '../kernel/index.ts';

/**
 * A page of a filtered list under a scan budget: candidates are walked away
 * from the cursor until the page is full (and one more match says
 * `hasMore`), the candidates run out, or `budget` of them were examined. A
 * page the budget ended has `hasMore` and `resumeAfter`, the last position
 * examined: the next request continues from there (the positions between the
 * page's last row and it matched nothing), so no request examines more than
 * the budget however rare the matches are.
 *
 * @example
 * const { positions, hasMore, resumeAfter } = scanPage(candidates, 10, (position) => matches(rows[position]), false, LIST_SCAN_MAX);
 */
export interface ScannedPage {
  positions: number[];
  hasMore: boolean;
  /** Set when the budget ended the page: the last position examined, to continue after (before, backwards). */
  resumeAfter: number | null;
  /** Candidates examined, at most the budget. */
  examined: number;
}

export function scanPage(candidates: Iterable<number>, limit: number, accept: (position: number) => boolean, backwards: boolean, budget: number): ScannedPage {
  const positions: number[] = [];
  let examined = 0;
  let last: number | null = null;
  let hasMore = false;
  let resumeAfter: number | null = null;
  for (const position of candidates) {
    if (examined === budget) {
      // Candidates are left but the budget is spent: the caller continues after the last one examined.
      hasMore = true;
      resumeAfter = last;
      break;
    }
    examined += 1;
    last = position;
    if (!accept(position)) continue;
    if (positions.length === limit) { hasMore = true; break; }
    positions.push(position);
  }
  if (backwards) positions.reverse();
  return { positions, hasMore, resumeAfter, examined };
}

/** The positions of an ascending list strictly after (or, backwards, strictly before and descending) the cursor's position. */
export function* positionsBeyond(sorted: readonly number[], cursorPosition: number | null, backwards: boolean): Generator<number> {
  if (backwards) {
    const end = cursorPosition === null ? sorted.length : firstAbove(sorted, cursorPosition - 1);
    for (let index = end - 1; index >= 0; index -= 1) yield sorted[index]!;
  } else {
    for (let index = cursorPosition === null ? 0 : firstAbove(sorted, cursorPosition); index < sorted.length; index += 1) yield sorted[index]!;
  }
}

/** Index of the first element above `value` in an ascending array. */
function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** What a list's documentation says about the scan budget. */
export const SCAN_BUDGET_NOTE = `A filtered request examines at most ${LIST_SCAN_MAX.toLocaleString('en-US')} records: when that ends a page early, it has \`has_more: true\` `
  + 'and `next_cursor`, to send as `starting_after` (or `ending_before`, paging backwards) for the rest; the page may then hold fewer rows than `limit`, even none.';

export const nextCursorWire = z.string().optional()
  .meta({ description: 'Only when the scan budget ended the page: continue with `starting_after` (or `ending_before`) set to it.' });
