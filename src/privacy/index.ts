/**
 * Privacy: GDPR erasure by crypto-shredding. Personal data is sealed per
 * data subject (AES-256-GCM, one data key per subject, wrapped by the audit
 * KeyProvider's master key, kept in a key store apart from the log) before
 * it is appended; erasing a subject destroys its key, so its events keep
 * their ciphertext (hashes, seals and ledgers untouched) and read as
 * `"[erased]"`. Also the subject access export and what a restore needs to
 * keep erasures.
 */
export { DATA_KEY_BYTES, ENVELOPE_VERSION, ERASED_TEXT, erasedValue, isSealedValue, openValue, type SealedValue, sealValue } from './piiEnvelope.ts';
export { hasSealedFields, openFields, PII_FIELDS, piiTarget, sealFields } from './piiFields.ts';
export { parseSubject, type Subject, type SubjectKind, subjectOfStream } from './subjects.ts';
export {
  openSqliteSubjectKeyStore, openSubjectKeyStore, SUBJECT_KEYS_FILE, SUBJECT_KEYS_TABLE, type SubjectKeyRow, type SubjectKeyStore, type Tombstone,
} from './subjectKeyStore.ts';
export { SubjectKeyring } from './subjectKeyring.ts';
export { ShreddingEventStore, withPiiEncryption } from './shreddingEventStore.ts';
export { openShreddingStore } from './openPrivacy.ts';
export { followErasures } from './erasureFollower.ts';
export {
  DATA_SUBJECT_ERASED, type DataSubjectErasedData, eraseSubject, erasureEventId, type ErasureInput, type ErasureResult, PRIVACY_ERASURES_STREAM, readTombstones,
  reapplyErasures, recordMissingErasures,
} from './erasure.ts';
export { type ExportedEvent, exportSubject, type SubjectExport } from './subjectExport.ts';
export {
  projectedSubjectIndex, type RelatedKind, SUBJECT_INDEX_PROJECTION_NAME, SUBJECT_INDEX_TABLES, type SubjectIndex, subjectIndexProjection, subjectLinks,
} from './subjectIndex.projection.ts';
export { appendErasureJournal, ERASURE_JOURNAL_FILE, erasureJournalPath, readErasureJournal } from './erasureJournal.ts';
