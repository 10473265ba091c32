import { resolve } from 'node:path';
import { z } from 'zod';
import { LEDGER_ENTRY_CACHE_MAX, LEDGER_TRANSFER_CACHE_MAX, STREAMS_PER_KEY_DEFAULT, STREAMS_TOTAL_DEFAULT, WEBHOOK_TIMEOUT_MS_MAX } from '../kernel/limits.ts';

/**
 * The server's configuration, read once from the environment (DESIGN.md §5)
 * and validated, so a typo fails at start with the variable's name instead of
 * surfacing later as a strange error deep inside.
 *
 * @example
 * const config = loadConfig(process.env);
 * // { port: 4000, host: '127.0.0.1', dataDir: '/abs/data', storeUrl: 'sqlite:/abs/data/daybook.db', … }
 */
export interface Config {
  port: number;
  host: string;
  /** Absolute path of the data folder (the embedded store lives there). */
  dataDir: string;
  /** `DAYBOOK_DATABASE_URL` when set (postgres://…), else undefined. */
  databaseUrl: string | undefined;
  /** What `openEventStore` opens: the PostgreSQL url, or `sqlite:<dataDir>/daybook.db`. */
  storeUrl: string;
  logLevel: LogLevel;
  /** `DAYBOOK_API_KEY`: a known admin key to register at start (for scripts and tests). */
  apiKey: string | undefined;
  /** `DAYBOOK_API_KEY_PEPPER`: the secret API key hashes are made with; else a file in the data folder. */
  apiKeyPepper: string | undefined;
  /** `DAYBOOK_RATE_LIMIT_PER_S` (default 1000; 0 turns limits off) and `DAYBOOK_RATE_LIMIT_BURST` (default twice that), per API key. */
  rateLimit: { perSecond: number; burst: number };
  /**
   * `DAYBOOK_PROJECTION_MAX_LAG_SECONDS` (default 30): `/readyz` answers 503
   * when a projection's oldest event not yet in its read model is older than this.
   */
  projectionMaxLagSeconds: number;
  /** `DAYBOOK_STREAM_MAX_PER_KEY` (default 5) and `DAYBOOK_STREAM_MAX_TOTAL` (default 100): open `/v1/stream` connections per API key and in all. */
  streamLimits: { perKey: number; total: number };
  /** DAYBOOK_LEDGER_TRANSFER_CACHE and DAYBOOK_LEDGER_ENTRY_CACHE: records each ledger engine holds besides accounts and open pending transfers. */
  ledgerCache: { transfers: number; entries: number };
  /** The Stripe-compatible listener and its money terms (see `loadStripeConfig`). */
  stripe: StripeConfig;
  /** Seals and their keys (see `loadAuditConfig`). */
  audit: AuditConfig;
  /**
   * `DAYBOOK_ROLE` (or `daybook serve --role`; default `all`): `api` serves
   * HTTP and runs no projection worker, webhook delivery or sealer;
   * `projections` runs those and no API listener; `all` runs everything.
   * `api` and `projections` need PostgreSQL (see `checkRoleFitsStore`).
   */
  role: ServerRole;
  /** `DAYBOOK_HEALTH_PORT`: the `projections` role's `/healthz`, `/readyz` and `/metrics` listener (same host); unset: none. */
  healthPort: number | undefined;
  /**
   * `DAYBOOK_READ_DATABASE_URL`: a PostgreSQL read replica (hot standby) of
   * `DAYBOOK_DATABASE_URL`. Read-model queries go there when it has replayed
   * everything the primary had when the query began, else to the primary.
   */
  readDatabaseUrl: string | undefined;
  /** Maker-checker and the access audit (see `loadSoxConfig`). */
  sox: SoxConfig;
}

/**
 * Segregation of duties and access audit:
 * `DAYBOOK_MAKER_CHECKER` (default true): journal entries and unfreezes made
 * through the API wait for a second person's approval;
 * `DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR` (default 1000000; 0 turns it
 * off): ledger transfers of at least this many minor units of their currency
 * wait too; `DAYBOOK_APPROVAL_EXPIRY_SECONDS` (default 86400);
 * `DAYBOOK_APPROVALS_REQUIRED` (default 1): distinct checkers per request;
 * `DAYBOOK_REQUIRE_PURPOSE` (default false): reads of personal data without a
 * `Daybook-Purpose` header are refused; `DAYBOOK_ACCESS_AUDIT_WRITE`
 * (`sync`, the default: the access record is durable before the answer
 * leaves; `buffered`: appended in batches within 100 ms, lost on a crash).
 */
export interface SoxConfig {
  makerChecker: boolean;
  transferThresholdMinor: bigint;
  approvalExpiryMs: number;
  approvalsRequired: number;
  requirePurpose: boolean;
  accessAuditWrite: 'sync' | 'buffered';
}

export const SERVER_ROLES = ['all', 'api', 'projections'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/**
 * `DAYBOOK_AUDIT_KEYS_DIR` (default `<data>/keys`): the seal signing keys and
 * the master key; `DAYBOOK_SEAL_EVERY_EVENTS` (default 10000) and
 * `DAYBOOK_SEAL_EVERY_MS` (default 60000): the server seals the log once that
 * many events are unsealed, or that long after the last seal when something
 * was appended; 0 turns a trigger off, both 0 turn sealing off.
 */
export interface AuditConfig {
  keysDir: string;
  sealEveryEvents: number;
  sealEveryMs: number;
}

/**
 * `DAYBOOK_STRIPE_PORT` (default 12111, Stripe's mock-server convention; 0
 * picks a free one, and so does an unset one when `PORT` is 0, so that
 * servers started on free ports for tests never fight over 12111);
 * `DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS` (default 172800, two days: from
 * capture to the available balance); `DAYBOOK_STRIPE_FEE_PERCENT_BPS`
 * (default 290, i.e. 2.9%) and `DAYBOOK_STRIPE_FEE_FIXED_MINOR` (default 30);
 * `DAYBOOK_STRIPE_DISPUTE_FEE_MINOR` (default 1500: debited with a dispute, returned when it is won).
 */
export interface StripeConfig {
  port: number;
  settlementDelayMs: number;
  fees: { percentBps: bigint; fixedMinor: bigint };
  disputeFeeMinor: bigint;
  webhooks: WebhookConfig;
  /**
   * `DAYBOOK_FRAUD_ENFORCE`: where the fraud model's blocks decline payments:
   * `live` (default: test mode declines what Stripe's test cards decline, as
   * on Stripe), `all`, or `none`. Every attempt is scored and its verdict
   * recorded whatever this says.
   */
  fraudEnforce: 'live' | 'all' | 'none';
}

/**
 * Webhook deliveries: `DAYBOOK_WEBHOOK_RETRY_SCHEDULE` (the waits after each
 * failed attempt, comma-separated, each `<n>ms|s|m|h`, e.g. `1m,5m,30m`;
 * default about 3 days in 11 steps, see webhookDispatcher.ts; after the last
 * the delivery is failed, a dead letter); `DAYBOOK_WEBHOOK_TIMEOUT_MS`
 * (default 10000); `DAYBOOK_WEBHOOK_PRIVATE_TARGETS` (`test`, the default:
 * loopback and private addresses only for test-mode endpoints; `none`; `all`).
 */
export interface WebhookConfig {
  retryScheduleMs: number[] | undefined;
  timeoutMs: number;
  privateTargets: 'none' | 'test' | 'all';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value is wrong; the message names the variable. The CLI exits 78 (EX_CONFIG). */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Empty strings count as unset: `PORT= npm start` means the default, not an error. */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const portSchema = z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,5}$/, 'must be an integer from 0 to 65535').optional())
  .transform((value) => (value === undefined ? 4000 : Number(value)))
  .refine((port) => port <= 65_535, 'must be an integer from 0 to 65535');
const hostSchema = z.preprocess(unsetIfEmpty, z.string().regex(/^[^\s/]+$/, 'must be a host name or IP address').default('127.0.0.1'));
const dataDirSchema = z.preprocess(unsetIfEmpty, z.string().default('./data'));
const databaseUrlSchema = z.preprocess(unsetIfEmpty, z.string().refine(isPostgresUrl, 'must be a postgres://… or postgresql://… url').optional());
const countSchema = (fallback: number) => z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,9}$/, 'must be a non-negative integer').optional())
  .transform((value) => (value === undefined ? fallback : Number(value)));
const positiveCountSchema = (fallback: number) => z.preprocess(unsetIfEmpty, z.string().regex(/^[1-9][0-9]{0,8}$/, 'must be a positive integer').optional())
  .transform((value) => (value === undefined ? fallback : Number(value)));
const optionalSecretSchema = z.preprocess(unsetIfEmpty, z.string().optional());
const pepperSchema = z.preprocess(unsetIfEmpty, z.string().min(32, 'must have at least 32 characters').optional());
/** Requests per second per API key when nothing says otherwise. */
export const RATE_LIMIT_PER_S_DEFAULT = 1000;
/** How far behind the head (in seconds) a projection may be while the server still reports ready. */
export const PROJECTION_MAX_LAG_SECONDS_DEFAULT = 30;
const logLevelSchema = z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'));

/** Reads and validates everything the server needs. Throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const store = loadStoreConfig(env);
  return {
    port: parseVariable(env, 'PORT', portSchema),
    host: parseVariable(env, 'DAYBOOK_HOST', hostSchema),
    ...store,
    logLevel: parseVariable(env, 'LOG_LEVEL', logLevelSchema),
    ...loadApiKeyConfig(env),
    rateLimit: loadRateLimit(env),
    projectionMaxLagSeconds: parseVariable(env, 'DAYBOOK_PROJECTION_MAX_LAG_SECONDS', positiveCountSchema(PROJECTION_MAX_LAG_SECONDS_DEFAULT)),
    streamLimits: loadStreamLimits(env),
    ledgerCache: {
      transfers: parseVariable(env, 'DAYBOOK_LEDGER_TRANSFER_CACHE', positiveCountSchema(LEDGER_TRANSFER_CACHE_MAX)),
      entries: parseVariable(env, 'DAYBOOK_LEDGER_ENTRY_CACHE', positiveCountSchema(LEDGER_ENTRY_CACHE_MAX)),
    },
    stripe: loadStripeConfig(env),
    audit: loadAuditConfig(env, store.dataDir),
    ...loadRoleConfig(env, store.databaseUrl),
    sox: loadSoxConfig(env),
  };
}

const booleanSchema = (fallback: boolean) => z.preprocess(unsetIfEmpty, z.enum(['true', 'false'], 'must be true or false').optional()).transform((value) => (value === undefined ? fallback : value === 'true'));

export function loadSoxConfig(env: Env = process.env): SoxConfig {
  return {
    makerChecker: parseVariable(env, 'DAYBOOK_MAKER_CHECKER', booleanSchema(true)),
    transferThresholdMinor: BigInt(parseVariable(env, 'DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR',
      z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,18}$/, 'must be a non-negative integer of minor units').optional()).transform((value) => value ?? '1000000'))),
    approvalExpiryMs: parseVariable(env, 'DAYBOOK_APPROVAL_EXPIRY_SECONDS', positiveCountSchema(86_400)) * 1000,
    approvalsRequired: parseVariable(env, 'DAYBOOK_APPROVALS_REQUIRED', positiveCountSchema(1)),
    requirePurpose: parseVariable(env, 'DAYBOOK_REQUIRE_PURPOSE', booleanSchema(false)),
    accessAuditWrite: parseVariable(env, 'DAYBOOK_ACCESS_AUDIT_WRITE', z.preprocess(unsetIfEmpty, z.enum(['sync', 'buffered'], 'must be sync or buffered').optional()).transform((value) => value ?? 'sync')),
  };
}

const roleSchema = z.preprocess(unsetIfEmpty, z.enum(SERVER_ROLES, `must be one of ${SERVER_ROLES.join(', ')}`).default('all'));
const optionalPortSchema = z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,5}$/, 'must be an integer from 0 to 65535').optional())
  .transform((value) => (value === undefined ? undefined : Number(value)))
  .refine((port) => port === undefined || port <= 65_535, 'must be an integer from 0 to 65535');

function loadRoleConfig(env: Env, databaseUrl: string | undefined): Pick<Config, 'role' | 'healthPort' | 'readDatabaseUrl'> {
  // Whether the role fits the store is checked where it is used (`daybook serve --role` may override it).
  const role = parseVariable(env, 'DAYBOOK_ROLE', roleSchema);
  const readDatabaseUrl = parseVariable(env, 'DAYBOOK_READ_DATABASE_URL', databaseUrlSchema);
  if (readDatabaseUrl !== undefined && databaseUrl === undefined) {
    throw new ConfigError('DAYBOOK_READ_DATABASE_URL', 'DAYBOOK_READ_DATABASE_URL is a replica of DAYBOOK_DATABASE_URL, which is not set (the embedded store has no replicas)');
  }
  return { role, healthPort: parseVariable(env, 'DAYBOOK_HEALTH_PORT', optionalPortSchema), readDatabaseUrl };
}

/**
 * The `api` and `projections` roles split one server into processes that
 * share the store; the embedded store admits one process, so they need
 * PostgreSQL. Throws a `ConfigError` naming `variable` otherwise.
 */
export function checkRoleFitsStore(role: ServerRole, databaseUrl: string | undefined, variable: string): void {
  if (role === 'all' || databaseUrl !== undefined) return;
  throw new ConfigError(variable, `${variable} ${role} needs PostgreSQL (DAYBOOK_DATABASE_URL): the embedded SQLite store admits one process, which must run every role (use all)`);
}

export function loadAuditConfig(env: Env, dataDir: string): AuditConfig {
  const keysDir = parseVariable(env, 'DAYBOOK_AUDIT_KEYS_DIR', z.preprocess(unsetIfEmpty, z.string().optional()));
  return {
    keysDir: keysDir === undefined ? resolve(dataDir, 'keys') : resolve(keysDir),
    sealEveryEvents: parseVariable(env, 'DAYBOOK_SEAL_EVERY_EVENTS', countSchema(10_000)),
    sealEveryMs: parseVariable(env, 'DAYBOOK_SEAL_EVERY_MS', countSchema(60_000)),
  };
}

export const STRIPE_PORT_DEFAULT = 12111;

export function loadStripeConfig(env: Env = process.env): StripeConfig {
  const freePorts = unsetIfEmpty(env.PORT) === '0';
  const stripePortSchema = z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,5}$/, 'must be an integer from 0 to 65535').optional())
    .transform((value) => (value === undefined ? (freePorts ? 0 : STRIPE_PORT_DEFAULT) : Number(value)))
    .refine((port) => port <= 65_535, 'must be an integer from 0 to 65535');
  return {
    port: parseVariable(env, 'DAYBOOK_STRIPE_PORT', stripePortSchema),
    settlementDelayMs: parseVariable(env, 'DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS', countSchema(172_800)) * 1000,
    fees: {
      percentBps: BigInt(parseVariable(env, 'DAYBOOK_STRIPE_FEE_PERCENT_BPS', countSchema(290))),
      fixedMinor: BigInt(parseVariable(env, 'DAYBOOK_STRIPE_FEE_FIXED_MINOR', countSchema(30))),
    },
    disputeFeeMinor: BigInt(parseVariable(env, 'DAYBOOK_STRIPE_DISPUTE_FEE_MINOR', countSchema(1500))),
    webhooks: loadWebhookConfig(env),
    fraudEnforce: parseVariable(env, 'DAYBOOK_FRAUD_ENFORCE', z.preprocess(unsetIfEmpty, z.enum(['live', 'all', 'none']).optional()).transform((value) => value ?? 'live')),
  };
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function loadWebhookConfig(env: Env): WebhookConfig {
  const scheduleSchema = z.preprocess(unsetIfEmpty, z.string().regex(/^\d{1,7}(ms|s|m|h)(,\d{1,7}(ms|s|m|h)){0,29}$/, 'must list 1 to 30 waits such as 1m,5m,30m (units ms, s, m, h)').optional())
    .transform((value) => value?.split(',').map((step) => {
      const [, amount, unit] = /^(\d+)(ms|s|m|h)$/.exec(step)!;
      return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    }));
  return {
    retryScheduleMs: parseVariable(env, 'DAYBOOK_WEBHOOK_RETRY_SCHEDULE', scheduleSchema),
    timeoutMs: Math.min(parseVariable(env, 'DAYBOOK_WEBHOOK_TIMEOUT_MS', positiveCountSchema(10_000)), WEBHOOK_TIMEOUT_MS_MAX),
    privateTargets: parseVariable(env, 'DAYBOOK_WEBHOOK_PRIVATE_TARGETS', z.preprocess(unsetIfEmpty, z.enum(['none', 'test', 'all']).optional()).transform((value) => value ?? 'test')),
  };
}

// Live streams (/v1/stream): caps on open connections, per key and in all.
function loadStreamLimits(env: Env): Config['streamLimits'] {
  return {
    perKey: parseVariable(env, 'DAYBOOK_STREAM_MAX_PER_KEY', positiveCountSchema(STREAMS_PER_KEY_DEFAULT)),
    total: parseVariable(env, 'DAYBOOK_STREAM_MAX_TOTAL', positiveCountSchema(STREAMS_TOTAL_DEFAULT)),
  };
}

/** What the API keys need: the seed key and the pepper (the `daybook keys` commands read these too). */
export function loadApiKeyConfig(env: Env = process.env): Pick<Config, 'apiKey' | 'apiKeyPepper'> {
  return {
    apiKey: parseVariable(env, 'DAYBOOK_API_KEY', optionalSecretSchema),
    apiKeyPepper: parseVariable(env, 'DAYBOOK_API_KEY_PEPPER', pepperSchema),
  };
}

function loadRateLimit(env: Env): Config['rateLimit'] {
  const perSecond = parseVariable(env, 'DAYBOOK_RATE_LIMIT_PER_S', countSchema(RATE_LIMIT_PER_S_DEFAULT));
  return { perSecond, burst: parseVariable(env, 'DAYBOOK_RATE_LIMIT_BURST', countSchema(perSecond * 2)) };
}

/** Only the store's part: CLI commands that open the store need nothing else, so a stray `PORT` cannot break them. */
export function loadStoreConfig(env: Env = process.env): Pick<Config, 'dataDir' | 'databaseUrl' | 'storeUrl'> {
  const dataDir = resolve(parseVariable(env, 'DAYBOOK_DATA_DIR', dataDirSchema));
  const databaseUrl = parseVariable(env, 'DAYBOOK_DATABASE_URL', databaseUrlSchema);
  return { dataDir, databaseUrl, storeUrl: databaseUrl ?? `sqlite:${resolve(dataDir, 'daybook.db')}` };
}

function parseVariable<T>(env: Env, name: string, schema: z.ZodType<T>): T {
  const result = schema.safeParse(env[name]);
  if (result.success) return result.data;
  const reason = result.error.issues[0]?.message ?? 'is invalid';
  throw new ConfigError(name, `${name} ${reason} (${shownValue(name, env[name])})`);
}

/**
 * Variables whose value is a secret, or holds one: a refused value goes to
 * stderr and from there into terminals, CI logs and log shippers, so the
 * message names the variable and the reason, and shows of the value only
 * what is safe (a url without its password and query string).
 */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DAYBOOK_API_KEY', 'DAYBOOK_API_KEY_PEPPER']);
const URL_VARIABLES: ReadonlySet<string> = new Set(['DAYBOOK_DATABASE_URL', 'DAYBOOK_READ_DATABASE_URL']);

function shownValue(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name)) return 'the value is not shown: it is a secret';
  if (URL_VARIABLES.has(name) && value !== undefined) return `got ${JSON.stringify(redactUrlText(value))}`;
  return `got ${JSON.stringify(value)}`;
}

/**
 * A url that may not parse, fit to print: the password in its user part
 * replaced by `***`, and its query string (which may carry one) cut. Text
 * that is not `scheme://…` at all is not shown.
 *
 * @example
 * redactUrlText('postgres://app:pw@db:notaport/daybook?sslmode=require') // 'postgres://app:***@db:notaport/daybook?…'
 */
export function redactUrlText(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return '<not a url>';
  const queryAt = value.search(/[?#]/);
  let base = queryAt === -1 ? value : value.slice(0, queryAt);
  const authorityAt = base.indexOf('//') + 2;
  // The last `@`: a password written unencoded may hold an `@` of its own.
  const userEnd = base.lastIndexOf('@');
  const colon = userEnd === -1 ? -1 : base.slice(authorityAt, userEnd).indexOf(':');
  if (colon !== -1) base = `${base.slice(0, authorityAt + colon + 1)}***${base.slice(userEnd)}`;
  return queryAt === -1 ? base : `${base}?…`;
}

function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(value)) return false;
  return URL.canParse(value);
}

/** True for the url forms `openEventStore` accepts: `sqlite:<path>` and `postgres://…`. */
export function isStoreUrl(value: string): boolean {
  return (value.startsWith('sqlite:') && value.length > 'sqlite:'.length) || isPostgresUrl(value);
}

/**
 * A store url fit to print or log: `sqlite:` paths made absolute, and a
 * PostgreSQL url without its password or query string (which may carry one).
 *
 * @example
 * describeStoreUrl('postgres://app:secret@db:5432/daybook?sslmode=require') // 'postgres://app@db:5432/daybook'
 */
export function describeStoreUrl(url: string): string {
  const sqlitePath = sqlitePathOf(url);
  if (sqlitePath !== null) return `sqlite:${sqlitePath}`;
  if (!URL.canParse(url)) return '<unparseable url>';
  const parsed = new URL(url);
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString();
}

/** The absolute file path of a `sqlite:` url (`sqlite:///abs` and `sqlite:rel` alike), or null for other urls. */
export function sqlitePathOf(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  return resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
}
