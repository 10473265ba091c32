/**
 * Compliance in the request path: sanctions screening of customers' names
 * when they are created or renamed, the hold on money out while a customer
 * has an unresolved screening case, and fraud scoring of native transfers
 * and bank movements before they execute. All synchronous: the case exists
 * (and the verdict is recorded) before the answer leaves.
 *
 * The active sanctions list is the data folder's `sanctions-list.json`
 * (`daybook sanctions load`): read at start, and read again when its
 * modification time or size changes (checked with one `stat` per
 * screening, so a load is seen by the next request of every process on the
 * machine, without watchers or signals). No file: no screening, logged
 * once.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSanctionsScreener, createFraudChecker, demoFraudModel, type FraudChecker, fraudCheckCompleted, fraudCheckStreamId, readActiveSanctionsList,
  SANCTIONS_LIST_FILE, type SanctionsScreener, ScreeningCaseService, type ScreeningCaseView,
} from '../compliance/index.ts';
import type { Logger } from '../edge/index.ts';
import type { EventStore, StreamWrite } from '../eventstore/index.ts';
import { type Clock, CURRENCY_EXPONENT, DaybookError, isDaybookError } from '../kernel/index.ts';

/** A banking customer as a screening subject: `test.cus_1` is `test.customer.cus_1` (the mode first, so a mode's cases list together). */
export function bankCustomerSubject(internalCustomerId: string): string {
  return internalCustomerId.replace(/^(test|live)\./, '$1.customer.');
}

export type FraudEnforce = 'live' | 'all' | 'none';

export interface ComplianceOptions {
  dataDir: string;
  /** DAYBOOK_FRAUD_ENFORCE: where a `block` refuses (default `live`: live-mode keys only, as on the Stripe listener). */
  fraudEnforce?: FraudEnforce;
  /** Scores at or above this are sanctions hits (the screener's default when absent). */
  screeningThreshold?: number;
  logger?: Logger;
}

type ActiveList = { screener: SanctionsScreener; listVersion: string; stamp: string };

export interface ComplianceApi {
  readonly cases: ScreeningCaseService;
  /** Screens a subject's name; opens (or finds) a case on a hit. Null without a list or without hits. */
  screen(subjectRef: string, name: string | null, actor: string): Promise<ScreeningCaseView | null>;
  /** Refuses with `compliance_review_pending` while the subject has an open or confirmed case. */
  assertNotHeld(subjectRef: string, what: string): Promise<void>;
  /**
   * Scores a payment out before it executes. A block where enforced is
   * recorded (`FraudCheckCompleted` on `fraudcheck-<ref>`) and refused with
   * `fraud_blocked`; any other verdict is recorded by `record()` once the
   * payment was executed, so a request refused for another reason (an
   * unknown account, a zero amount) writes nothing. Or, for a route that
   * commits it with the payment itself (the ledger's transfers), `write` is
   * the verdict's append, to attach to the payment's own (one durable write,
   * and no payment without its verdict after a crash).
   *
   * `isRepeat` is asked only when the verdict would block: a payment the log
   * records already (a retry of one that went through) is answered as a
   * repeat, never blocked later; it then scores nothing (`null`). The common
   * case, a new payment that passes, costs no read.
   */
  checkFraud(input: FraudCheckInput, isRepeat?: () => Promise<boolean>): Promise<FraudCheck | null>;
}

export interface FraudCheckInput { ref: string; amountMinor: bigint; currency: string | null; mode: 'test' | 'live'; actor: string }

/** A verdict that let the payment through, not yet recorded: `record()` on its own, or `write` attached to the payment's append. */
export interface FraudCheck {
  record(): Promise<void>;
  readonly write: StreamWrite;
}

function fileStamp(path: string): string | null {
  try {
    const stats = statSync(path);
    return `${stats.mtimeMs}:${stats.size}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function openComplianceApi(store: EventStore, clock: Clock, options: ComplianceOptions): ComplianceApi {
  const cases = new ScreeningCaseService(store, clock);
  const checker: FraudChecker = createFraudChecker({ model: demoFraudModel() });
  const enforce = options.fraudEnforce ?? 'live';
  const path = join(options.dataDir, SANCTIONS_LIST_FILE);
  let active: ActiveList | null = null;
  let missingLogged = false;

  const currentList = (): ActiveList | null => {
    const stamp = fileStamp(path);
    if (stamp === null) {
      if (!missingLogged) options.logger?.warn({ path }, 'no sanctions list loaded: customers are not screened (daybook sanctions load)');
      missingLogged = true;
      active = null;
      return null;
    }
    if (active?.stamp !== stamp) {
      try {
        const stored = readActiveSanctionsList(options.dataDir);
        active = { screener: buildSanctionsScreener(stored), listVersion: stored.listVersion, stamp };
        missingLogged = false;
        options.logger?.info({ listVersion: stored.listVersion, entries: stored.entries.length }, 'sanctions list loaded');
      } catch (error) {
        // A list replaced mid-read or malformed: keep screening with the one read before, if any.
        if (!isDaybookError(error)) throw error;
        options.logger?.error({ err: error, path }, 'sanctions list unreadable; the previous one stays in use');
      }
    }
    return active;
  };
  // Loaded at start, so a malformed file is logged when the server starts, not at the first customer.
  currentList();

  return {
    cases,
    screen: async (subjectRef, name, actor) => {
      const list = currentList();
      if (list === null || name === null || name.trim() === '') return null;
      let hits;
      try {
        hits = list.screener.screen(name, options.screeningThreshold === undefined ? {} : { threshold: options.screeningThreshold }).hits;
      } catch (error) {
        // A name without letters or digits cannot match a listed name.
        if (isDaybookError(error, 'validation_failed')) return null;
        throw error;
      }
      if (hits.length === 0) return null;
      const recorded = hits.map(({ entNum, name: listed, score, matchedOn, matchedName }) => ({ entNum, name: listed, score, matchedOn, matchedName }));
      return cases.open({ subjectRef, screenedName: name, hits: recorded, listVersion: list.listVersion, actor });
    },
    assertNotHeld: async (subjectRef, what) => {
      const hold = await cases.holdOf(subjectRef);
      if (hold === null) return;
      const state = hold.status === 'open' ? 'awaits an analyst\'s review' : 'was confirmed as a sanctions match';
      throw new DaybookError('compliance_review_pending', `${what} is held: its sanctions screening case ${hold.caseId.replace(/^(test|live)\./, '')} ${state}`, { caseId: hold.caseId, status: hold.status });
    },
    checkFraud: async ({ ref, amountMinor, currency, mode, actor }, isRepeat) => {
      const atMs = clock.nowMs();
      const exponent = currency !== null && Object.hasOwn(CURRENCY_EXPONENT, currency) ? CURRENCY_EXPONENT[currency as keyof typeof CURRENCY_EXPONENT] : 2;
      const verdict = checker.check({
        subjectRef: ref, amountMinor, currencyExponent: exponent, atMs, history: null, newPaymentMethod: null, cardCountry: null, customerCountry: null,
      });
      const event = fraudCheckCompleted(ref, verdict, atMs);
      const events = [{ type: event.type, data: event.data, metadata: { actor, mode } }];
      // One verdict per payment: a retry (the same Idempotency-Key, so the same ref) finds the first recorded and writes nothing.
      const record = async () => {
        try {
          await store.append({ streamId: fraudCheckStreamId(ref), expectedVersion: 'no_stream', events });
        } catch (error) {
          if (!isDaybookError(error, 'stream_version_conflict')) throw error;
        }
      };
      const enforced = enforce === 'all' || (enforce === 'live' && mode === 'live');
      if (verdict.decision === 'block' && enforced) {
        if (isRepeat !== undefined && await isRepeat()) return null;
        await record();
        const reasons = verdict.reasons.map((reason) => reason.code).join(', ');
        throw new DaybookError('fraud_blocked', `the fraud check blocked this payment (${reasons}; model ${verdict.modelVersion})`, { ref, score: verdict.score });
      }
      // Attached to the payment's append, which a repeat never makes (its answer is replayed): a version expectation could only
      // refuse the payment, so none is set; a block recorded before (then a new key with the same id) keeps its own verdict beside this one.
      return { record, write: { streamId: fraudCheckStreamId(ref), expectedVersion: 'any', events } };
    },
  };
}
