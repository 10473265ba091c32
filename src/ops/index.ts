/**
 * Operations on a whole store: online backup, point-in-time restore (with
 * shipped log segments), restore drills, and cutting a restored PostgreSQL
 * store in place, signed period archives and their offline check, retention by
 * crypto-shredding. The CLI commands `backup`, `restore`, `drill`, `archive`,
 * `verify --archive` and `retention` call these.
 */
export { type BackupOptions, type BackupReport, backupSqliteStore, subjectKeysBackupPath } from './backup.ts';
export { type CutResult } from './cutLog.ts';
export { type DrillOptions, type DrillReport, drillBackup, latestBackup } from './drill.ts';
export { type BackupManifest, manifestPathOf, readManifest } from './manifest.ts';
export { listSegments, readShipped, shipLog, type ShipLogOptions, type ShippedEvent } from './logShipping.ts';
export {
  cutPostgresStore, type PostgresCutOptions, type RestorePoint, type RestoreReport, restoreErasures, restoreSqliteBackup, type SqliteRestoreOptions, STORE_FILE,
} from './restore.ts';
export { collectStatus, describeStatus, type StatusContext, type StatusReport } from './status.ts';
export { archiveStore, type ArchivedPeriod, type ArchiveOptions, type ArchiveReport, type PeriodRange } from './archive.ts';
export { ARCHIVE_FORMAT, archiveFileName, archiveManifestPath, type ArchivePeriodUnit, periodOf } from './archiveFormat.ts';
export { type ArchiveVerifyReport, verifyArchive, type VerifyArchiveOptions } from './archiveVerify.ts';
export { applyRetention, RETENTION_ACTOR, type RetentionAction, type RetentionPolicy, type RetentionReport } from './retention.ts';
