/**
 * The fraud verdict (pure): the model's probability and the rules' reasons
 * combined into one decision. The decision is the strongest any reason asks
 * for (block > review > allow), so a rule can hold a payment the model
 * likes, and the model can hold one no rule notices; every reason is kept
 * for the analyst.
 *
 * @example
 * const checker = createFraudChecker({ model: demoFraudModel() });
 * checker.check(input); // { score: 0.07, decision: 'allow', reasons: [], modelVersion: 'fraud-demo-1' }
 */
import { DaybookError } from '../../kernel/errors.ts';
import { FRAUD_FEATURES, fraudFeatures, type FraudCheckInput } from './fraud.features.ts';
import { checkFraudConfig, FRAUD_CONFIG_DEFAULT, fraudRuleReasons, modelReason, strongestDecision, type FraudConfig, type FraudDecision, type FraudReason } from './fraud.rules.ts';
import type { XgboostModel } from './xgboost.model.ts';
import { predict } from './xgboost.scorer.ts';

export interface FraudCheckVerdict {
  /** The model's probability of fraud, 0 to 1 (0 on the rules-only path). */
  readonly score: number;
  readonly decision: FraudDecision;
  readonly reasons: readonly FraudReason[];
  /** The model that scored ('rules-only' when none did). */
  readonly modelVersion: string;
}

export const RULES_ONLY_MODEL_VERSION = 'rules-only';

/** Combines a score with the rules' reasons. */
export function fraudVerdict(input: FraudCheckInput, score: number, modelVersion: string, config: FraudConfig): FraudCheckVerdict {
  const reasons = fraudRuleReasons(input, config);
  const fromModel = modelReason(score, config);
  if (fromModel) reasons.unshift(fromModel);
  return { score, decision: strongestDecision(reasons), reasons, modelVersion };
}

/** The rules alone, without a model: a fallback, and the benchmark's baseline. */
export function rulesOnlyVerdict(input: FraudCheckInput, config: FraudConfig = FRAUD_CONFIG_DEFAULT): FraudCheckVerdict {
  return fraudVerdict(input, 0, RULES_ONLY_MODEL_VERSION, config);
}

export interface FraudChecker {
  readonly modelVersion: string;
  readonly config: FraudConfig;
  check(input: FraudCheckInput): FraudCheckVerdict;
}

/**
 * A checker over one model and configuration. The model must take the
 * FRAUD_FEATURES in that order (checked by name when the model has names).
 * Not reentrant-sensitive: its one feature buffer is filled and read within
 * a synchronous call.
 */
export function createFraudChecker(options: { model: XgboostModel; config?: FraudConfig }): FraudChecker {
  const { model } = options;
  const config = checkFraudConfig(options.config ?? FRAUD_CONFIG_DEFAULT);
  checkFeatures(model);
  const buffer = new Float64Array(FRAUD_FEATURES.length);
  return {
    modelVersion: model.modelVersion,
    config,
    check: (input) => fraudVerdict(input, predict(model, fraudFeatures(input, buffer)), model.modelVersion, config),
  };
}

function checkFeatures(model: XgboostModel): void {
  const names = model.featureNames;
  const matches = model.featureCount === FRAUD_FEATURES.length && (names === null || names.every((name, i) => name === FRAUD_FEATURES[i]));
  if (!matches) {
    throw new DaybookError('fraud_model_invalid', `model ${model.modelVersion} takes features ${names?.join(', ') ?? `(${model.featureCount} unnamed)`}, not ${FRAUD_FEATURES.join(', ')}`);
  }
}
