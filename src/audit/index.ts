/**
 * Tamper evidence beyond the hash chains: signed seals over ranges of the
 * global log, their verification on a store or on an offline audit bundle,
 * and the key provider that holds the signing key and the master key.
 */
export { type KeyProvider, type RevokedKey, type TrustedKeys, keyIdOf, parsePublicKey, parseRevokedKeys, publicKeyFingerprint } from './keyProvider.ts';
export { CURRENT_KEY_FILE, loadLocalTrustedKeys, MASTER_KEY_FILE, openLocalKeyProvider, REVOKED_KEYS_FILE, rotateLocalSigningKey } from './localKeyProvider.ts';
export { readRevokedFile, trustedKeysFromFiles, withRevoked } from './trustedKeys.ts';
export {
  canonicalSealText, GENESIS_DIGEST, RangeDigest, type Seal, SEAL_EVENT_TYPE, SEAL_FORMAT, SEAL_STREAM, type SealFields, sealFromData, sealSignatureValid, sealToData,
} from './seal.ts';
export { readLastSeal, SEAL_EVERY_EVENTS_DEFAULT, SEAL_EVERY_MS_DEFAULT, Sealer, type SealerHealth, type SealerOptions, type SealOutcome } from './sealer.ts';
export { type SealBreak, type SealBreakReason, type SealReport } from './sealCheck.ts';
export { type AuditReport, verifyStoreAudit } from './verifyStore.ts';
export { BUNDLE_FORMAT } from './bundleFormat.ts';
export { exportBundle, type ExportBundleOptions, type ExportSummary } from './bundleExport.ts';
export { type BundleBreak, type BundleBreakReason } from './bundleReader.ts';
export { type BundleReport, verifyBundle, type VerifyBundleOptions } from './verifyBundle.ts';
