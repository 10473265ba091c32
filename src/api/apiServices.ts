import { setReportCursorSecret } from '../reports/index.ts';
import { amlCaseRoutes } from './routes/amlCases.routes.ts';
import type { FastifyPluginAsync } from 'fastify';
import {
  type ApiKeyMode, ApiKeyRegistry, type BootstrapResult, createApiKeyHasher, ensureBootstrapKey, loadPepper,
} from '../auth/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, systemClock } from '../kernel/index.ts';
import { LedgerEngine } from '../ledger/index.ts';
import { AccountDirectory } from './accountDirectory.ts';
import { type BankingApi, closeBankingApi, openBankingApi } from './bankingApi.ts';
import { IdempotencyStore } from './idempotencyStore.ts';
import type { LedgerApi } from './ledgerApi.ts';
import { TransferDirectory } from './transferDirectory.ts';
import { createRateLimiter, type RateLimitSettings } from './rateLimiter.ts';
import { accountRoutes } from './routes/accounts.routes.ts';
import { apiKeyRoutes } from './routes/apiKeys.routes.ts';
import { approvalRequestRoutes } from './routes/approvalRequests.routes.ts';
import { approvalExecutors } from './approvalExecutors.ts';
import { type ApprovalPolicy, type ApprovalsApi, APPROVALS_OFF } from './approvalsApi.ts';
import { ApprovalService } from '../compliance/approvals/index.ts';
import { AccessAuditLog, type AccessAuditWrite } from '../compliance/accessAudit/index.ts';
import { accessAuditRoutes } from './routes/accessAudit.routes.ts';
import { bankAccountRoutes } from './routes/bankAccounts.routes.ts';
import { bankMovementRoutes } from './routes/bankMovements.routes.ts';
import { type ComplianceApi, type FraudEnforce, openComplianceApi } from './complianceApi.ts';
import { screeningCaseRoutes } from './routes/screeningCases.routes.ts';
import type { Logger } from '../edge/index.ts';
import { eventRoutes } from './routes/events.routes.ts';
import { journalEntryRoutes } from './routes/journalEntries.routes.ts';
import { reportRoutes } from './routes/reports.routes.ts';
import { type PrivacyApi, privacyRoutes } from './routes/privacy.routes.ts';
import { streamRoutes } from './routes/stream.routes.ts';
import { transferRoutes } from './routes/transfers.routes.ts';
import type { ApiSecurity } from './security.ts';
import type { StreamLimits } from './streamGate.ts';

export interface ApiServicesOptions {
  /** Where the pepper file lives when `pepper` is not given. */
  dataDir: string;
  /** DAYBOOK_API_KEY_PEPPER. */
  pepper?: string;
  /** DAYBOOK_API_KEY: a known admin key to register. */
  seedApiKey?: string;
  rateLimit: RateLimitSettings;
  clock?: Clock;
  /** DAYBOOK_STREAM_MAX_PER_KEY and DAYBOOK_STREAM_MAX_TOTAL; the defaults of kernel/limits.ts when absent. */
  streamLimits?: StreamLimits;
  /** Events one `GET /v1/reports/…` request reads at most (default REPORT_SCAN_MAX). */
  reportScanBudget?: number;
  /** Records each ledger engine holds besides accounts and open pending transfers (LedgerEngineOptions); the engine's defaults when absent. */
  ledgerCache?: { transfers: number; entries: number };
  /** What waits for a second person (maker-checker); nothing when absent (`APPROVALS_OFF`): the server passes its configuration. */
  approvals?: ApprovalPolicy;
  /** DAYBOOK_REQUIRE_PURPOSE and DAYBOOK_ACCESS_AUDIT_WRITE; no purpose required, records durable before the answer, when absent. */
  accessAudit?: { requirePurpose: boolean; write: AccessAuditWrite };
  /** DAYBOOK_FRAUD_ENFORCE for native transfers and bank movements (`live` when absent). */
  fraudEnforce?: FraudEnforce;
  /** Where the sanctions list's loading is logged. */
  logger?: Logger;
}

/** Everything the `/v1` routes run on, opened on one store. */
export interface ApiServices {
  keys: ApiKeyRegistry;
  security: ApiSecurity;
  ledger: LedgerApi;
  banking: BankingApi;
  approvals: ApprovalsApi;
  /** Sanctions screening, holds and fraud scoring in the request path. */
  compliance: ComplianceApi;
  /** The subject access export's index: set by the server once its read models are open (without it, an export reads the log). */
  privacy: PrivacyApi;
  /** The key made at start, if any; its secret is printed once by the caller. */
  bootstrap: BootstrapResult;
  /** The route modules, for `buildApp({ plugins })`. */
  plugins: FastifyPluginAsync[];
  /** Stops following the log and drains the ledger engines; the store stays open. */
  close(): Promise<void>;
}

/** Test and live data never meet: each mode has its own ledger partition (`ledger-test`, `ledger-live`). */
export const LEDGER_PARTITION_OF_MODE: Readonly<Record<ApiKeyMode, string>> = { test: 'test', live: 'live' };

/**
 * Opens the API's services on a store: API keys (with the bootstrap key),
 * one ledger engine and one banking service per mode (each replays its
 * partition), the banking read model, idempotency records and rate limits.
 *
 * @example
 * const services = await openApiServices(store, { dataDir, rateLimit: { perSecond: 100, burst: 200 } });
 * const app = await buildApp({ store, security: services.security, plugins: services.plugins });
 */
export async function openApiServices(store: EventStore, options: ApiServicesOptions): Promise<ApiServices> {
  const clock = options.clock ?? systemClock;
  const pepper = loadPepper(options.dataDir, options.pepper);
  const hasher = createApiKeyHasher(pepper);
  // Report cursors are signed with a key derived from the pepper: they survive a restart and pass between one deployment's processes.
  if (pepper.length >= 32) setReportCursorSecret(pepper);
  // On SQLite this process is the only writer, so no other process can add a key while it runs: following the log is for PostgreSQL.
  const keys = await ApiKeyRegistry.open(store, { hasher, clock, follow: store.backend === 'postgres' });
  const opened: LedgerEngine[] = [];
  let banking: BankingApi | undefined;
  let accessLog: AccessAuditLog | undefined;
  try {
    const bootstrap = await ensureBootstrapKey(keys, options.seedApiKey);
    const cache = { transferCacheMax: options.ledgerCache?.transfers, entryCacheMax: options.ledgerCache?.entries };
    const test = await LedgerEngine.open(store, { partition: LEDGER_PARTITION_OF_MODE.test, clock, ...cache });
    opened.push(test);
    const live = await LedgerEngine.open(store, { partition: LEDGER_PARTITION_OF_MODE.live, clock, ...cache });
    opened.push(live);
    const ledger: LedgerApi = {
      store,
      engines: { test, live },
      directories: { test: new AccountDirectory(test), live: new AccountDirectory(live) },
      transferDirectories: { test: new TransferDirectory(test), live: new TransferDirectory(live) },
    };
    banking = await openBankingApi(store, clock, cache);
    const idempotency = await IdempotencyStore.open(store, clock);
    accessLog = new AccessAuditLog(store, options.accessAudit?.write ?? 'sync');
    const accessAudit = { log: accessLog, requirePurpose: options.accessAudit?.requirePurpose ?? false, clock };
    const security: ApiSecurity = { keys, rateLimiter: createRateLimiter(options.rateLimit, clock), idempotency, accessAudit };
    const policy = options.approvals ?? APPROVALS_OFF;
    const compliance = openComplianceApi(store, clock, { dataDir: options.dataDir, fraudEnforce: options.fraudEnforce, logger: options.logger });
    const approvals: ApprovalsApi = {
      policy, keys,
      service: new ApprovalService(store, clock, { expiresAfterMs: policy.expiresAfterMs, approvalsRequired: policy.approvalsRequired }, approvalExecutors(ledger, banking, compliance)),
    };
    const privacy: PrivacyApi = {};
    const plugins = [
      accountRoutes(ledger), transferRoutes(ledger, approvals, compliance), journalEntryRoutes(ledger, approvals), bankAccountRoutes(banking, approvals, compliance),
      bankMovementRoutes(banking, compliance), screeningCaseRoutes(compliance),
      eventRoutes(store), streamRoutes(store, options.streamLimits, accessAudit), apiKeyRoutes(keys), reportRoutes(store, options.reportScanBudget), privacyRoutes(store, clock, privacy), approvalRequestRoutes(approvals),
      accessAuditRoutes(store, clock), amlCaseRoutes(store, clock),
    ];
    const openedBanking = banking;
    const openedLog = accessLog;
    return {
      keys, security, ledger, banking: openedBanking, approvals, compliance, privacy, bootstrap, plugins,
      close: async () => {
        // Buffered access records are appended before the store may close.
        await openedLog.close();
        await Promise.all([test.close(), live.close(), closeBankingApi(openedBanking)]);
        await keys.close();
      },
    };
  } catch (error) {
    await accessLog?.close();
    await Promise.all([...opened.map((engine) => engine.close()), ...(banking === undefined ? [] : [closeBankingApi(banking)])]);
    await keys.close();
    throw error;
  }
}
