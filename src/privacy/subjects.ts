import { DaybookError } from '../kernel/index.ts';

/**
 * Data subjects: whose personal data a stream holds, named so that the name
 * alone says which stream it is and in which mode.
 *
 * | subject | stream |
 * |---|---|
 * | `bankcustomer:<id>` (id with its mode prefix, `test.…`) | `customer-<id>` |
 * | `pcustomer:<mode>:<cus_id>` | `pcustomer-<mode>.<cus_id>` |
 * | `paccount:<mode>:<acct_id>` | `paccount-<mode>.<acct_id>` |
 * | `pmethod:<mode>:<pm_id>` | `pmethod-<mode>.<pm_id>` (billing details, metadata) |
 * | `pintent:<mode>:<pi_id>` | `pintent-<mode>.<pi_id>` (description, metadata, receipt email, shipping; its refunds' metadata, disputes' evidence) |
 * | `ppayout:<mode>:<po_id>` | `ppayout-<mode>.<po_id>` (description, metadata) |
 *
 * A payment method or intent is its own subject, whether a customer's or a
 * guest's: a payment method attached to a customer after it was made (or an
 * intent given a customer later) keeps its data under its first and only
 * key, and erasing the customer erases the subjects of every payment method
 * and intent the log links to it (see paymentLinks.ts).
 *
 * Subject ids carry no personal data: they are the ids the API hands out.
 *
 * A subject's personal data also sits in streams it does not own: a
 * sanctions screening case, `screening-<subjectRef>@<8 hex>`, holds the
 * screened customer's name, under that customer's key (see
 * `personalDataSubjectOfStream`).
 *
 * | screening subjectRef | subject |
 * |---|---|
 * | `<mode>.customer.<id>` | `bankcustomer:<mode>.<id>` |
 * | `<mode>.stripe_customer.<cus_id>` | `pcustomer:<mode>:<cus_id>` |
 */
export type SubjectKind = 'bankcustomer' | 'pcustomer' | 'paccount' | 'pmethod' | 'pintent' | 'ppayout';
/** The kinds named `<kind>:<mode>:<stripe id>`, owning the stream `<kind>-<mode>.<stripe id>`. */
const STRIPE_KINDS: ReadonlySet<string> = new Set(['pcustomer', 'paccount', 'pmethod', 'pintent', 'ppayout']);
export type Subject = { readonly id: string; readonly kind: SubjectKind; readonly mode: 'test' | 'live' | null; readonly streamId: string };

export const SUBJECT_LENGTH_MAX = 140;
const BANK_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$/;
const STRIPE_ID = /^[A-Za-z0-9_]{1,100}$/;
const BANK_MODE = /^(test|live)\./;

/** The subject whose data a stream holds, or null for a stream without personal data. */
export function subjectOfStream(streamId: string): string | null {
  const dash = streamId.indexOf('-');
  if (dash <= 0) return null;
  const category = streamId.slice(0, dash);
  const rest = streamId.slice(dash + 1);
  if (category === 'customer') return `bankcustomer:${rest}`;
  if (STRIPE_KINDS.has(category)) {
    const dot = rest.indexOf('.');
    return dot <= 0 ? null : `${category}:${rest.slice(0, dot)}:${rest.slice(dot + 1)}`;
  }
  return null;
}

const SCREENING_PREFIX = 'screening-';
const SCREENING_CASE = /^(.+)@[0-9a-f]{8}$/;
const SCREENING_REF = /^(test|live)\.(customer|stripe_customer)\.(.+)$/;

/**
 * The subject whose personal data a stream holds: the owner of a subject's
 * stream (`subjectOfStream`), or the screened customer of a screening case.
 * Null for a stream without personal data, and for a screening of anything
 * but a customer (its data has no key to be sealed under).
 */
export function personalDataSubjectOfStream(streamId: string): string | null {
  if (!streamId.startsWith(SCREENING_PREFIX)) return subjectOfStream(streamId);
  const caseId = SCREENING_CASE.exec(streamId.slice(SCREENING_PREFIX.length));
  return caseId === null ? null : subjectOfScreeningRef(caseId[1]!);
}

/** The data subject of a screening's subjectRef (`test.customer.c1` is `bankcustomer:test.c1`), or null when it names no customer. */
export function subjectOfScreeningRef(subjectRef: string): string | null {
  const match = SCREENING_REF.exec(subjectRef);
  if (match === null) return null;
  const [, mode, kind, id] = match;
  if (kind === 'customer') return BANK_ID.test(`${mode}.${id}`) ? `bankcustomer:${mode}.${id}` : null;
  return STRIPE_ID.test(id!) ? `pcustomer:${mode}:${id}` : null;
}

/** The screening subjectRef of a customer subject (the inverse of `subjectOfScreeningRef`), or null for a subject never screened. */
export function screeningRefOfSubject(subject: Subject): string | null {
  const local = subject.streamId.slice(subject.streamId.indexOf('-') + 1);
  const dot = local.indexOf('.');
  if (subject.mode === null || dot <= 0) return null;
  if (subject.kind === 'bankcustomer') return `${subject.mode}.customer.${local.slice(dot + 1)}`;
  if (subject.kind === 'pcustomer') return `${subject.mode}.stripe_customer.${local.slice(dot + 1)}`;
  return null;
}

/** Parses a subject id; anything else is `validation_failed` naming the accepted forms. */
export function parseSubject(value: unknown): Subject {
  const text = typeof value === 'string' ? value : '';
  const invalid = (): never => {
    throw new DaybookError(
      'validation_failed',
      `${JSON.stringify(value)} is not a data subject: expected bankcustomer:<customer id>, or pcustomer, paccount, pmethod, pintent or ppayout:<test|live>:<its id>`,
      {}, 'subject',
    );
  };
  if (text.length === 0 || text.length > SUBJECT_LENGTH_MAX) return invalid();
  const [kind, ...parts] = text.split(':');
  if (kind === 'bankcustomer') {
    const id = parts.join(':');
    if (!BANK_ID.test(id)) return invalid();
    const mode = BANK_MODE.exec(id)?.[1] as 'test' | 'live' | undefined;
    return { id: text, kind, mode: mode ?? null, streamId: `customer-${id}` };
  }
  if (STRIPE_KINDS.has(kind!)) {
    const [mode, id] = parts;
    if (parts.length !== 2 || (mode !== 'test' && mode !== 'live') || !STRIPE_ID.test(id!)) return invalid();
    return { id: text, kind: kind as SubjectKind, mode, streamId: `${kind}-${mode}.${id}` };
  }
  return invalid();
}
