/**
 * The archive format (`daybook archive`): one gzip file per closed period,
 * `daybook-archive-<period>.jsonl.gz`, JSON lines once unzipped:
 *
 * 1. header `{"format":"daybook.archive.v1","period","fromPosition","toPosition","count","firstHash","lastHash"}`
 * 2. `count` events, positions from..to in order, each a line in the shipped
 *    log's shape (`ShippedEvent`: every field the hash covers, data and
 *    metadata as the exact JSON text hashed).
 *
 * Beside it `<file>.manifest.json`: the same facts, the file's size and
 * SHA-256, and an Ed25519 signature over the manifest's canonical text (its
 * fields but the signature, in `MANIFEST_FIELDS` order, as compact JSON).
 * Positions are decimal strings (they are bigints).
 */
import { z } from 'zod';
import type { RawEvent } from '../eventstore/index.ts';
import type { ShippedEvent } from './logShipping.ts';

export const ARCHIVE_FORMAT = 'daybook.archive.v1';
export const ARCHIVE_MANIFEST_FORMAT = 'daybook.archive-manifest.v1';
export type ArchivePeriodUnit = 'month' | 'day';

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a decimal integer');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');
const periodText = z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be YYYY-MM or YYYY-MM-DD');

export const archiveHeaderSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  period: periodText,
  fromPosition: decimal,
  toPosition: decimal,
  count: z.number().int().positive(),
  firstHash: hex64,
  lastHash: hex64,
}).strict();
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

export const archivedEventSchema = z.object({
  position: decimal,
  eventId: z.string().min(1).max(100),
  streamId: z.string().min(1).max(200),
  version: decimal,
  type: z.string().min(1).max(100),
  schemaVersion: z.number().int().positive(),
  data: z.string(),
  metadata: z.string(),
  recordedAt: z.number().int().nonnegative(),
  hash: hex64,
  previousHash: z.union([hex64, z.literal('')]),
}).strict();

/** The signed fields, in the order of the canonical text. */
export const MANIFEST_FIELDS = [
  'format', 'file', 'period', 'periodStart', 'periodEnd', 'fromPosition', 'toPosition', 'count', 'firstHash', 'lastHash', 'bytes', 'sha256', 'createdAt', 'keyId', 'publicKey',
] as const;

export const archiveManifestSchema = z.object({
  format: z.literal(ARCHIVE_MANIFEST_FORMAT),
  file: z.string().min(1),
  period: periodText,
  periodStart: z.string(),
  periodEnd: z.string(),
  fromPosition: decimal,
  toPosition: decimal,
  count: z.number().int().positive(),
  firstHash: hex64,
  lastHash: hex64,
  bytes: z.number().int().positive(),
  sha256: hex64,
  createdAt: z.string(),
  keyId: z.string().min(1),
  publicKey: z.string().min(1),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
}).strict();
export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;
export type ManifestFields = Omit<ArchiveManifest, 'signature'>;

/** The text the signature covers: the signed fields in a fixed order, compact JSON. */
export function canonicalManifestText(fields: ManifestFields): string {
  return JSON.stringify(Object.fromEntries(MANIFEST_FIELDS.map((name) => [name, fields[name]])));
}

export function archiveFileName(period: string): string {
  return `daybook-archive-${period}.jsonl.gz`;
}

export function archiveManifestPath(file: string): string {
  return `${file}.manifest.json`;
}

/** A stored event in the shipped log's line shape (`logShipping.ts`). */
export function toArchivedEvent(event: RawEvent): ShippedEvent {
  return {
    position: event.position.toString(), eventId: event.eventId, streamId: event.streamId, version: event.version.toString(), type: event.type,
    schemaVersion: event.schemaVersion, data: event.dataJson, metadata: event.metadataJson, recordedAt: event.recordedAtMs, hash: event.hash, previousHash: event.previousHash,
  };
}

/** The UTC period holding `ms`: its name and [start, end) in ms. */
export function periodOf(ms: number, unit: ArchivePeriodUnit): { period: string; startMs: number; endMs: number } {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (unit === 'month') {
    return { period: `${String(year).padStart(4, '0')}-${pad(month + 1)}`, startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
  }
  const day = date.getUTCDate();
  return { period: `${String(year).padStart(4, '0')}-${pad(month + 1)}-${pad(day)}`, startMs: Date.UTC(year, month, day), endMs: Date.UTC(year, month, day + 1) };
}
