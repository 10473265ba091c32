import type { AuditReport, BundleBreak, BundleReport, SealBreak, SealReport } from '../../audit/index.ts';
import type { ChainBreak } from '../../eventstore/index.ts';
import type { ArchiveVerifyReport } from '../../ops/index.ts';

/** The human text of `daybook verify`'s reports: a first line that says ok or broken, then the details. */
export function describeAuditReport(report: AuditReport): string {
  const lines: string[] = [];
  if (report.firstBreak !== null) lines.push(...describeChainBreak(report.firstBreak));
  if (report.seals.firstBreak !== null) lines.push(...describeSealBreak(report.seals.firstBreak));
  if (lines.length === 0) lines.push(`ok: ${report.eventsChecked} events in ${report.streamsChecked} streams`);
  lines.push(describeSeals(report.seals));
  if (report.seals.unsealedTail > 0n) lines.push(`unsealed tail: ${events(report.seals.unsealedTail)} (after position ${report.seals.sealedThrough})`);
  return `${lines.join('\n')}\n`;
}

export function describeBundleReport(report: BundleReport): string {
  const lines: string[] = [];
  if (report.firstBreak !== null) lines.push(...describeBundleBreak(report.firstBreak));
  if (report.seals.firstBreak !== null) lines.push(...describeSealBreak(report.seals.firstBreak));
  if (lines.length === 0) lines.push(`ok: bundle of positions ${report.fromPosition}..${report.toPosition}: ${report.eventsChecked} events in ${report.streamsChecked} streams`);
  lines.push(describeSeals(report.seals));
  if (report.firstBreak === null && report.seals.unsealed > 0n) lines.push(`unsealed: ${events(report.seals.unsealed)} of the bundle covered by no seal in it`);
  return `${lines.join('\n')}\n`;
}

const events = (count: bigint): string => `${count} event${count === 1n ? '' : 's'}`;

/** JSON with bigints as decimal strings. */
export function toJson(report: unknown): string {
  return JSON.stringify(report, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

function describeSeals(seals: SealReport & { keysSource: string }): string {
  if (seals.sealsChecked === 0) return `seals: none checked (keys from ${seals.keysSource})`;
  return `seals: ${seals.sealsChecked} checked, positions ${seals.sealedFrom}..${seals.sealedThrough}, signed by ${seals.keyIds.join(', ')} (keys from ${seals.keysSource})`;
}

function describeChainBreak(at: ChainBreak): string[] {
  // Position gaps and a wrong recorded head belong to the global log, not to one stream.
  const where = at.streamId === '' ? `global log at position ${at.position}` : `stream ${at.streamId} at version ${at.version} (position ${at.position})`;
  return [`broken: ${where}: ${at.reason}`, `  expected: ${at.expected}`, `  actual:   ${at.actual}`];
}

function describeSealBreak(at: SealBreak): string[] {
  const where = at.position === at.sealPosition ? '' : `, at log position ${at.position}`;
  return [`broken: seal ${at.sequence} (its event at position ${at.sealPosition}${where}): ${at.reason}`, `  expected: ${at.expected}`, `  actual:   ${at.actual}`];
}

function describeBundleBreak(at: BundleBreak): string[] {
  const where = at.position === null ? '' : ` (position ${at.position}${at.streamId === '' ? '' : `, stream ${at.streamId}`})`;
  return [`broken: bundle line ${at.line}${where}: ${at.reason}`, `  expected: ${at.expected}`, `  actual:   ${at.actual}`];
}

export function describeArchiveReport(report: ArchiveVerifyReport): string {
  const range = report.fromPosition === null ? '' : ` (${report.period}: positions ${report.fromPosition}..${report.toPosition})`;
  if (!report.ok) return `archive ${report.file}${range}: BROKEN: ${report.problem}\n`;
  return [
    `archive ${report.file}${range}: intact`,
    `  ${report.eventsChecked} events: every hash recomputed, ${report.chainLinksChecked} chain links within the file checked, positions contiguous`,
    `  gzip whole; size and SHA-256 as in the manifest; manifest signed by ${report.keyId}, trusted through ${report.keysSource}`,
    '',
  ].join('\n');
}
