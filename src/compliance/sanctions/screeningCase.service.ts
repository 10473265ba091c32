/**
 * Screening cases on a store. One case per subject and screened name:
 * case id `<subjectRef>@<8 hex of the normalized name>`, stream
 * `screening-<caseId>`, so the same name screened again (a retry, a second
 * process) lands on the same case and writes nothing, while a rename to
 * another listed name opens a new case even when the first was cleared.
 * Whether a subject is held is answered from the store (the streams under
 * `screening-<subjectRef>@`), never from memory, so every process of a
 * PostgreSQL deployment sees an analyst's decision at once.
 *
 * @example
 * const cases = new ScreeningCaseService(store, clock);
 * await cases.open({ subjectRef: 'test.cus_1', screenedName: 'Ayman al Zawahri', hits, listVersion, actor: 'key_1' });
 * await cases.holdOf('test.cus_1'); // 'open'
 */
import { createHash } from 'node:crypto';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { type Clock, LIST_SCAN_MAX } from '../../kernel/index.ts';
import { normalizeName } from './nameNormalize.ts';
import { type RecordedHit, SCREENING_CASE_STREAM_PREFIX, type ScreeningCaseEvent, screeningCaseStreamId } from './sanctions.events.ts';
import { type ScreeningCaseCommand, screeningCaseDecider, type ScreeningCaseState, type ScreeningCaseStatus } from './screeningCase.decider.ts';

const CATEGORY = SCREENING_CASE_STREAM_PREFIX.slice(0, -1);
/** Stream ids per page when listing cases. */
const PAGE = 100;

export interface ScreeningCaseListOptions {
  readonly status?: ScreeningCaseStatus;
  /** At most this many cases in the page. */
  readonly limit: number;
  /** Only cases whose id sorts after this one (the last case of the previous page, or a `resumeAfter`). */
  readonly startingAfter?: string;
  /** Cases a filtered page examines at most (default LIST_SCAN_MAX). */
  readonly budget?: number;
}

export interface ScreeningCasePage {
  readonly views: ScreeningCaseView[];
  readonly hasMore: boolean;
  /** Set when the budget ended the page: the last case examined, to continue after. */
  readonly resumeAfter: string | null;
}

export interface ScreeningCaseView {
  readonly caseId: string;
  readonly status: ScreeningCaseStatus;
  readonly opened: Extract<ScreeningCaseState, { opened: unknown }>['opened'];
  readonly decidedBy: string | null;
}

export interface OpenScreening {
  readonly subjectRef: string;
  readonly screenedName: string;
  readonly hits: readonly RecordedHit[];
  readonly listVersion: string;
  /** Who caused the screening (the API key id), for the event's metadata. */
  readonly actor: string;
}

export function screeningCaseIdOf(subjectRef: string, screenedName: string): string {
  const normalized = normalizeName(screenedName).tokens.join(' ');
  return `${subjectRef}@${createHash('sha256').update(normalized).digest('hex').slice(0, 8)}`;
}

export class ScreeningCaseService {
  constructor(private readonly store: EventStore, private readonly clock: Clock) {}

  /** Opens (or finds) the case of this screening. */
  async open(screening: OpenScreening): Promise<ScreeningCaseView> {
    const caseId = screeningCaseIdOf(screening.subjectRef, screening.screenedName);
    const data = {
      caseId, subjectRef: screening.subjectRef, screenedName: screening.screenedName, hits: screening.hits.map((hit) => ({ ...hit })),
      listVersion: screening.listVersion, atMs: this.clock.nowMs(),
    };
    const loaded = await this.load(caseId);
    // The same name screened against another list version, or with other hits: the case opened first stands.
    if (loaded.state.status !== 'none') return viewOf(caseId, loaded.state);
    return this.decide(caseId, { type: 'OpenScreeningCase', data }, screening.actor);
  }

  async decideCase(caseId: string, decision: 'clear' | 'confirm', analyst: string, note: string): Promise<ScreeningCaseView> {
    const data = { caseId, analyst, note, atMs: this.clock.nowMs() };
    return this.decide(caseId, { type: decision === 'clear' ? 'ClearScreeningCase' : 'ConfirmScreeningCase', data }, analyst);
  }

  /** The case, or null. */
  async get(caseId: string): Promise<ScreeningCaseView | null> {
    const { state } = await this.load(caseId);
    return state.status === 'none' ? null : viewOf(caseId, state);
  }

  /** The subject's strongest unresolved case: 'confirmed' over 'open'; null when it has none (or all were cleared). */
  async holdOf(subjectRef: string): Promise<{ status: 'open' | 'confirmed'; caseId: string } | null> {
    let hold: { status: 'open' | 'confirmed'; caseId: string } | null = null;
    for (const caseId of await this.caseIdsOf(subjectRef)) {
      const view = await this.get(caseId);
      if (view === null || view.opened.subjectRef !== subjectRef || view.status === 'cleared') continue;
      if (view.status === 'confirmed') return { status: 'confirmed', caseId };
      hold ??= { status: 'open', caseId };
    }
    return hold;
  }

  /**
   * One page of the cases whose subject starts with `subjectPrefix` (a
   * mode), in case id order, strictly after `startingAfter` (a case id).
   * Unfiltered, a page reads `limit + 1` cases (the one more says
   * `hasMore`). Filtered by status, it examines at most `budget` cases: when
   * that ends the page early, `hasMore` is set and `resumeAfter` is the last
   * case examined (those after the page's last row matched nothing), to
   * continue from, so no request reads every case stream however rare the
   * status is.
   */
  async list(subjectPrefix: string, options: ScreeningCaseListOptions): Promise<ScreeningCasePage> {
    const { status, limit, budget = LIST_SCAN_MAX } = options;
    const prefix = `${SCREENING_CASE_STREAM_PREFIX}${subjectPrefix}`;
    const views: ScreeningCaseView[] = [];
    let examined = 0;
    let lastExamined: string | null = null;
    let after = options.startingAfter === undefined ? prefix : screeningCaseStreamId(options.startingAfter);
    for (;;) {
      const ids = await this.store.listStreams({ category: CATEGORY, after, limit: PAGE });
      const mine = ids.filter((id) => id.startsWith(prefix));
      for (const id of mine) {
        const caseId = id.slice(SCREENING_CASE_STREAM_PREFIX.length);
        if (examined === budget) return { views, hasMore: true, resumeAfter: lastExamined };
        examined += 1;
        lastExamined = caseId;
        const view = await this.get(caseId);
        if (view === null || (status !== undefined && view.status !== status)) continue;
        if (views.length === limit) return { views, hasMore: true, resumeAfter: null };
        views.push(view);
      }
      if (ids.length < PAGE || mine.length < ids.length) return { views, hasMore: false, resumeAfter: null };
      after = ids[ids.length - 1]!;
    }
  }

  private async caseIdsOf(subjectRef: string): Promise<string[]> {
    const prefix = screeningCaseStreamId(`${subjectRef}@`);
    const found: string[] = [];
    let after = prefix;
    for (;;) {
      const ids = await this.store.listStreams({ category: CATEGORY, after, limit: PAGE });
      const mine = ids.filter((id) => id.startsWith(prefix));
      found.push(...mine.map((id) => id.slice(SCREENING_CASE_STREAM_PREFIX.length)));
      if (ids.length < PAGE || mine.length < ids.length) return found;
      after = ids[ids.length - 1]!;
    }
  }

  private async load(caseId: string): Promise<{ state: ScreeningCaseState; version: bigint }> {
    // A case has one to two events: the whole stream is one page.
    const events: RecordedEvent[] = await this.store.readStream(screeningCaseStreamId(caseId), { limit: 10 });
    const state = events.reduce((current, event) => screeningCaseDecider.evolve(current, event as unknown as ScreeningCaseEvent), screeningCaseDecider.initialState());
    return { state, version: BigInt(events.length) };
  }

  private async decide(caseId: string, command: ScreeningCaseCommand, actor: string): Promise<ScreeningCaseView> {
    const loaded = await this.load(caseId);
    const events = screeningCaseDecider.decide(command, loaded.state);
    if (events.length > 0) {
      await this.store.append({
        streamId: screeningCaseStreamId(caseId), expectedVersion: loaded.version === 0n ? 'no_stream' : loaded.version,
        events: events.map((event) => ({ type: event.type, data: event.data, metadata: { actor } })),
      });
    }
    const state = events.reduce(screeningCaseDecider.evolve, loaded.state);
    if (state.status === 'none') throw new Error(`screening case ${caseId} has no state after ${command.type}`);
    return viewOf(caseId, state);
  }
}

function viewOf(caseId: string, state: Exclude<ScreeningCaseState, { status: 'none' }>): ScreeningCaseView {
  return { caseId, status: state.status, opened: state.opened, decidedBy: state.decidedBy };
}
