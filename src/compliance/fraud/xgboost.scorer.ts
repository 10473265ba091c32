/**
 * Prediction with a parsed XGBoost model (pure), as XGBoost's CPU predictor
 * computes it: features read as float32; at a split, a missing value (NaN)
 * follows `default_left`, else `x < condition` goes left; the leaves' values
 * are added to the base margin in float32, tree after tree; the logistic
 * objectives then take the sigmoid.
 *
 * @example
 * const model = parseXgboostModel(json);
 * predictProbability(model, [90.92, 4.52, 0, Number.NaN, 0, 0, 13]); // 0.196…
 */
import { DaybookError } from '../../kernel/errors.ts';
import type { XgboostModel } from './xgboost.model.ts';

/** The summed margin before the objective's transform. `features[i]` NaN means missing. */
export function predictMargin(model: XgboostModel, features: ArrayLike<number>): number {
  const { roots, left, right, feature, value, defaultLeft } = model;
  let sum = model.baseMargin;
  for (let tree = 0; tree < roots.length; tree++) {
    let node = roots[tree]!;
    let next = left[node]!;
    while (next !== -1) {
      const x = features[feature[node]!]!;
      // x !== x: NaN, the missing value.
      if (x !== x) node = defaultLeft[node] === 1 ? next : right[node]!;
      else node = Math.fround(x) < value[node]! ? next : right[node]!;
      next = left[node]!;
    }
    sum = Math.fround(sum + value[node]!);
  }
  return sum;
}

/** XGBoost's float32 sigmoid: 1 / (1 + e^-x). */
function sigmoid(margin: number): number {
  return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-margin))));
}

/** The model's prediction: a probability for the logistic objectives, the raw value for squared error. */
export function predict(model: XgboostModel, features: ArrayLike<number>): number {
  const margin = predictMargin(model, features);
  return model.objective === 'reg:squarederror' ? margin : sigmoid(margin);
}

/**
 * `predict` for inputs from outside: checks the length and turns `null` and
 * `undefined` into missing values. Refuses (validation_failed) infinite values.
 */
export function predictProbability(model: XgboostModel, features: ReadonlyArray<number | null | undefined>): number {
  if (features.length !== model.featureCount) {
    throw new DaybookError('validation_failed', `the model takes ${model.featureCount} features, got ${features.length}`, { expected: model.featureCount, actual: features.length });
  }
  const vector = new Float64Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const x = features[i];
    if (x !== null && x !== undefined && !Number.isNaN(x) && !Number.isFinite(x)) throw new DaybookError('validation_failed', `feature ${i} is ${x}`, { feature: i });
    vector[i] = x === null || x === undefined ? Number.NaN : x;
  }
  return predict(model, vector);
}
