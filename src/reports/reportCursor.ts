/**
 * The cursor of a report the scan budget ended early: where the next run
 * resumes (after this position, up to the same head, so every page reads
 * the same moment of the log), for which report and period, and the few
 * running values a report carries from page to page (a statement's
 * balances). Opaque to clients: `rc_`, base64url JSON, `.` and its
 * HMAC-SHA-256 (base64url). The signature is what makes the carried values
 * trustworthy: without it a caller could send a cursor the server never
 * issued (resume at the head and get an empty report, or a statement
 * opening on a balance of its choosing).
 *
 * The key is random per process unless `setReportCursorSecret` is given a
 * server secret: a cursor then does not survive a restart, nor is it
 * accepted by another process of the same deployment (the caller runs the
 * report again from the start).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DaybookError } from '../kernel/index.ts';
import { paramsOf, type ReportName, type ReportParams } from './report.types.ts';

export type ReportResume = {
  readonly head: bigint;
  readonly after: bigint;
  readonly state: Readonly<Record<string, string>>;
};

const PREFIX = 'rc_';
const KEY_CONTEXT = 'daybook report cursor v1';
let signingKey: Buffer = randomBytes(32);

/**
 * Signs cursors under a key derived from a server secret (e.g. the API key
 * pepper), so that they survive a restart and hold across processes that
 * share it. Until called, the key is random per process.
 *
 * @example
 * setReportCursorSecret(config.apiKeyPepper);
 */
export function setReportCursorSecret(secret: string): void {
  if (secret.length < 32) throw new Error('the report cursor secret must have at least 32 characters');
  signingKey = createHmac('sha256', secret).update(KEY_CONTEXT).digest();
}

const signatureOf = (body: string): Buffer => createHmac('sha256', signingKey).update(PREFIX + body).digest();
const POSITION = /^\d{1,19}$/;

/** Which report and period a cursor belongs to: the same report with other parameters must not resume from it. */
function fingerprint(name: ReportName, params: ReportParams): string {
  return JSON.stringify([name, paramsOf(params)]);
}

export function encodeReportCursor(name: ReportName, params: ReportParams, resume: ReportResume): string {
  const body = { f: fingerprint(name, params), h: resume.head.toString(), a: resume.after.toString(), s: resume.state };
  const encoded = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${PREFIX}${encoded}.${signatureOf(encoded).toString('base64url')}`;
}

/** The cursor's body when its signature is this server's; `validation_failed` otherwise. */
function verified(text: string): string {
  const notOurs = 'cursor is not a report cursor (it is the next_cursor of an earlier answer)';
  if (!text.startsWith(PREFIX)) badCursor(notOurs);
  const dot = text.lastIndexOf('.');
  if (dot < PREFIX.length) badCursor(notOurs);
  const body = text.slice(PREFIX.length, dot);
  const given = Buffer.from(text.slice(dot + 1), 'base64url');
  const expected = signatureOf(body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    badCursor('cursor was not issued by this server, or was altered (cursors do not survive a restart): run the report again without cursor');
  }
  return body;
}

function badCursor(message: string): never {
  throw new DaybookError('validation_failed', message, {}, 'cursor');
}

function parseBody(text: string): { f?: unknown; h?: unknown; a?: unknown; s?: unknown } {
  const encoded = verified(text);
  try {
    const body: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body;
  } catch {
    // Reported below, as any other malformed cursor.
  }
  return badCursor('cursor is not a report cursor (it is the next_cursor of an earlier answer)');
}

/** The resume point of a cursor given back with the same report and parameters; `validation_failed` (param `cursor`) otherwise. */
export function decodeReportCursor(text: string, name: ReportName, params: ReportParams): ReportResume {
  const body = parseBody(text);
  if (body.f !== fingerprint(name, params)) badCursor(`cursor belongs to another report or period: send it with the same report, from, to and account_id (${name})`);
  if (typeof body.h !== 'string' || !POSITION.test(body.h) || typeof body.a !== 'string' || !POSITION.test(body.a)) badCursor('cursor is malformed');
  const head = BigInt(body.h);
  const after = BigInt(body.a);
  if (after > head) badCursor('cursor is malformed');
  const state = body.s ?? {};
  if (typeof state !== 'object' || state === null || Array.isArray(state) || !Object.values(state).every((value) => typeof value === 'string')) badCursor('cursor is malformed');
  return { head, after, state: state as Record<string, string> };
}
