import type { ErrorCode } from './errorCodes.ts';

/**
 * An operating error: expected, named by a code from the closed catalogue, free
 * of transport. Guards test `code`, not `instanceof` (see `isDaybookError`).
 */
export class DaybookError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, param?: string) {
    super(message);
    this.name = 'DaybookError';
    this.code = code;
    this.details = details;
    this.param = param;
  }
}

export function isDaybookError(error: unknown, code?: ErrorCode): error is DaybookError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  if (candidate.name !== 'DaybookError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}
