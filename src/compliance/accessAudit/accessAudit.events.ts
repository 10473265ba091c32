/**
 * The access audit: one `PiiAccessed` event per read of personal data (a
 * request to the API, a CLI command), in one stream per UTC day,
 * `accessaudit-<yyyy-mm-dd>`, so a query for a period reads only its days.
 * It says who (the key, its role and mode), what (the route and the ids of
 * the data subjects whose data left), when, and why (the caller's stated
 * purpose, null when none was given). It holds ids, never the data itself.
 */
export const ACCESS_AUDIT_CATEGORY = 'accessaudit';
export const PII_ACCESSED = 'PiiAccessed';

export interface PiiAccessedData {
  actor: { keyId: string; role: string; mode: 'test' | 'live' | null };
  /** `api` (native), `stripe` (the Stripe-compatible listener) or `cli`. */
  channel: 'api' | 'stripe' | 'cli';
  method: string;
  /** The route pattern (`/v1/customers/:id`) or the CLI command. */
  route: string;
  /** Ids of the data subjects read (customers, connected accounts), as the caller names them. */
  subjects: string[];
  purpose: string | null;
  /** ISO 8601. */
  at: string;
  requestId: string | null;
  correlationId: string | null;
}

/** The day stream an access at `atMs` goes to. */
export function accessAuditStreamId(atMs: number): string {
  return `${ACCESS_AUDIT_CATEGORY}-${new Date(atMs).toISOString().slice(0, 10)}`;
}
