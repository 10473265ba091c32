/**
 * The access audit: who read which personal data, when and why, recorded as
 * events (`accessaudit-<day>`) and queried by auditors. Its own module,
 * beside `compliance/index.ts`.
 */
export * from './accessAudit.events.ts';
export * from './accessAuditLog.ts';
export * from './accessAuditQuery.ts';
