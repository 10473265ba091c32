/**
 * Streams holding a data subject's personal data, and the subject as its
 * routes name it: customers' and connected accounts' own streams, payment
 * objects' (their own subjects), and sanctions screening cases (the screened
 * customer). Used by the access audit of raw event reads and of the live feed.
 */
const PII_STREAMS = [
  /^(?:customer|pcustomer|paccount|pmethod|pintent|ppayout)-(?:test|live)\.(.+)$/,
  /^screening-(?:test|live)\.(?:customer|stripe_customer)\.(.+)@[0-9a-f]{8}$/,
];

/** The data subject a stream's events are about, or null when they hold no personal data. */
export function piiSubjectOfStreamId(streamId: string): string | null {
  for (const pattern of PII_STREAMS) {
    const match = pattern.exec(streamId);
    if (match !== null) return match[1]!;
  }
  return null;
}
