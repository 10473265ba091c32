/**
 * Anti-money-laundering monitoring: pure rules (CTR candidates, structuring,
 * rapid movement of funds, velocity) folded per customer over completed
 * banking transactions and captured payments by the `aml_monitor`
 * projection, which raises each alert once as an event (`amlalert-<id>`);
 * and the analysts' case queue (`amlcase-<alertId>`).
 */
export * from './aml.config.ts';
export * from './aml.events.ts';
export * from './aml.rules.ts';
export { applyActivity, decodeSubjectState, EMPTY_SUBJECT_STATE, encodeSubjectState, type SubjectState } from './aml.window.ts';
export { alertRaised } from './aml.alert.ts';
export * from './amlCase.decider.ts';
export { AmlCaseService, type AmlCaseStep } from './amlCase.service.ts';
export { ActivitySource, AML_SOURCE_CATEGORIES, AML_SOURCE_TYPES } from './aml.sources.ts';
export {
  alertIdsOf, AML_ACTOR, AML_PROJECTION_NAME, AML_SUBJECTS_TABLE, amlMonitorProjection, evaluateBatch, raiseAlerts, type AmlMonitorOptions,
} from './aml.processor.ts';
