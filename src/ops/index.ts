/**
 * Operations on a whole store: online backup, point-in-time restore (with
 * shipped log segments), restore drills, and cutting a restored PostgreSQL
 * store in place. The CLI commands `backup`, `restore` and `drill` call these.
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
