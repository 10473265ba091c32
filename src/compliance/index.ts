/**
 * Compliance: fraud scoring (an XGBoost model read from its JSON format,
 * plus readable rules, combined into a verdict) and sanctions screening
 * (lists in OFAC's SDN CSV layout, fuzzy name matching, screening cases an
 * analyst clears or confirms). Pure where possible: the domain files take
 * no clock, randomness or files; `model/` and `sanctions/sanctionsStore.ts`
 * read and write files.
 */
export * from './fraud/xgboost.model.ts';
export * from './fraud/xgboost.scorer.ts';
export * from './fraud/fraud.features.ts';
export * from './fraud/fraud.rules.ts';
export * from './fraud/fraud.verdict.ts';
export * from './fraud/fraud.events.ts';
export * from './fraud/paymentsScorer.ts';
export * from './model/demoModel.ts';
export * from './sanctions/sdnCsv.ts';
export * from './sanctions/nameNormalize.ts';
export * from './sanctions/similarity.ts';
export * from './sanctions/sanctionsScreener.ts';
export * from './sanctions/sanctions.events.ts';
export * from './sanctions/screeningCase.decider.ts';
export * from './sanctions/sanctionsStore.ts';
export * from './sanctions/screeningCase.service.ts';
