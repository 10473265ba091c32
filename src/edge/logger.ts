import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

/**
 * Paths pino censors wherever they appear in a log line: credentials in
 * request headers and any field that holds a key or secret. API keys are
 * never logged, only their ids (issue 7).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["stripe-signature"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'apiKey',
  'secretKey',
  'password',
  'secret',
  '*.authorization',
  '*.apiKey',
  '*.secretKey',
  '*.password',
  '*.secret',
] as const;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * A JSON logger: one object per line, ISO timestamps, secrets censored.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.info({ storeUrl }, 'store opened');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'daybook' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

export type { Logger };
