/**
 * Maker-checker (segregation of duties): actions that need a second person
 * are recorded as approval requests, granted or rejected by checkers, and run
 * once when approved. Its own module, beside `compliance/index.ts`.
 */
export * from './approvalRequest.events.ts';
export * from './approvalRequest.decider.ts';
export * from './approvals.service.ts';
