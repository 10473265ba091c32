/**
 * The cursor of a report the scan budget ended early: where the next run
 * resumes (after this position, up to the same head, so every page reads
 * the same moment of the log), for which report and period, and the few
 * running values a report carries from page to page (a statement's
 * balances). Opaque to clients: `rc_` and base64url JSON.
 */
import { DaybookError } from '../kernel/index.ts';
import { paramsOf, type ReportName, type ReportParams } from './report.types.ts';

export type ReportResume = {
  readonly head: bigint;
  readonly after: bigint;
  readonly state: Readonly<Record<string, string>>;
};

const PREFIX = 'rc_';
const POSITION = /^\d{1,19}$/;

/** Which report and period a cursor belongs to: the same report with other parameters must not resume from it. */
function fingerprint(name: ReportName, params: ReportParams): string {
  return JSON.stringify([name, paramsOf(params)]);
}

export function encodeReportCursor(name: ReportName, params: ReportParams, resume: ReportResume): string {
  const body = { f: fingerprint(name, params), h: resume.head.toString(), a: resume.after.toString(), s: resume.state };
  return PREFIX + Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function badCursor(message: string): never {
  throw new DaybookError('validation_failed', message, {}, 'cursor');
}

function parseBody(text: string): { f?: unknown; h?: unknown; a?: unknown; s?: unknown } {
  if (!text.startsWith(PREFIX)) badCursor('cursor is not a report cursor (it is the next_cursor of an earlier answer)');
  try {
    const body: unknown = JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8'));
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
