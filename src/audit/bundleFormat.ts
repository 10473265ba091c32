import { z } from 'zod';
import type { RawEvent } from '../eventstore/index.ts';

/**
 * An audit bundle: a range of the log that verifies with no database. JSON
 * lines, UTF-8:
 *
 * 1. header: `{"format":"daybook.audit-bundle.v1","fromPosition","toPosition","eventCount","sealCount","exportedAtMs","publicKeys":[{"keyId","pem"}]}`
 * 2. `sealCount` lines `{"kind":"seal","event":{…}}`: the seal events whose
 *    whole range lies in the bundle's range (a seal event itself may lie past it)
 * 3. `eventCount` lines `{"kind":"event","event":{…}}`, positions from..to in order
 * 4. trailer: `{"kind":"end","eventCount","sealCount","sha256"}`, the hex
 *    SHA-256 of every byte before the trailer line (a cut-off file has none).
 *
 * An event carries every field its hash covers (see `canonicalEnvelope`),
 * positions and versions as decimal strings.
 */
export const BUNDLE_FORMAT = 'daybook.audit-bundle.v1';

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a decimal integer').transform((value) => BigInt(value));
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');

export const bundleHeaderSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  fromPosition: decimal,
  toPosition: decimal,
  eventCount: decimal,
  sealCount: z.number().int().nonnegative(),
  exportedAtMs: z.number().int().nonnegative(),
  publicKeys: z.array(z.object({ keyId: z.string(), pem: z.string() })).max(1000),
});
export type BundleHeader = z.infer<typeof bundleHeaderSchema>;

const rawEventSchema = z.object({
  eventId: z.string().min(1).max(100),
  streamId: z.string().min(1).max(200),
  version: decimal,
  position: decimal,
  type: z.string().min(1).max(100),
  schemaVersion: z.number().int().positive(),
  dataJson: z.string(),
  metadataJson: z.string(),
  recordedAtMs: z.number().int().nonnegative(),
  hash: hex64,
  previousHash: z.union([hex64, z.literal('')]),
}).strict();

export const bundleLineSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('seal'), event: rawEventSchema }).strict(),
  z.object({ kind: z.literal('event'), event: rawEventSchema }).strict(),
  z.object({ kind: z.literal('end'), eventCount: decimal, sealCount: z.number().int().nonnegative(), sha256: hex64 }).strict(),
]);
export type BundleLine = z.infer<typeof bundleLineSchema>;

export function rawEventToJson(event: RawEvent): Record<string, unknown> {
  return {
    eventId: event.eventId,
    streamId: event.streamId,
    version: event.version.toString(),
    position: event.position.toString(),
    type: event.type,
    schemaVersion: event.schemaVersion,
    dataJson: event.dataJson,
    metadataJson: event.metadataJson,
    recordedAtMs: event.recordedAtMs,
    hash: event.hash,
    previousHash: event.previousHash,
  };
}

/** The first problem zod found, as one short phrase. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'line'}: ${issue.message}`;
}
