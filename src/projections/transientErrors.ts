import { isDaybookError } from '../kernel/index.ts';

const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A failure of the database or the way to it, not of the events being
 * applied: a lost or refused connection, a server shutting down or out of
 * resources, a SQLite file locked past its timeout. A runner waits and tries
 * again; it never counts one against an event (which would end up parked).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (isDaybookError(error, 'store_unavailable')) return true;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P0x operator intervention (shutdown, terminated).
    if (/^(08|53|57P0)/.test(code) && code.length === 5) return true;
    if (SOCKET_CODES.has(code)) return true;
    if (code.startsWith('SQLITE_BUSY')) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|Client has encountered a connection error|connection timeout/i.test(message);
}
