/**
 * The XGBoost scorer against XGBoost itself: the demo model reproduces the
 * fixture of XGBoost's predictions (random inputs, missing values, values
 * exactly on a split condition, all missing) to 1e-6; and the parser refuses
 * models it cannot score exactly, naming why.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/index.ts';
import { DEMO_FIXTURE_URL, DEMO_MODEL_URL, demoFraudModel } from '../model/demoModel.ts';
import { parseXgboostModel } from './xgboost.model.ts';
import { predictMargin, predictProbability } from './xgboost.scorer.ts';

type Fixture = { modelVersion: string; features: string[]; cases: Array<{ features: Array<number | null>; probability: number }> };
const fixture = JSON.parse(readFileSync(DEMO_FIXTURE_URL, 'utf8')) as Fixture;
const modelJson = () => JSON.parse(readFileSync(DEMO_MODEL_URL, 'utf8')) as { learner: any };

function refusal(json: unknown): string {
  try {
    parseXgboostModel(json);
  } catch (error) {
    if (isDaybookError(error, 'fraud_model_invalid')) return error.message;
    throw error;
  }
  throw new Error('the model was accepted');
}

describe('the demo model', () => {
  const model = demoFraudModel();

  it('is read whole', () => {
    expect(model).toMatchObject({ modelVersion: fixture.modelVersion, objective: 'binary:logistic', trees: 30, featureCount: 7, featureNames: fixture.features });
  });

  it('reproduces every one of XGBoost\'s predictions in the fixture to 1e-6', () => {
    expect(fixture.cases.length).toBeGreaterThan(200);
    expect(fixture.cases.some((c) => c.features.includes(null))).toBe(true);
    const worst = Math.max(...fixture.cases.map((c) => Math.abs(predictProbability(model, c.features) - c.probability)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('refuses a feature vector of the wrong length or with infinities', () => {
    expect(() => predictProbability(model, [1, 2, 3])).toThrow(/takes 7 features, got 3/);
    expect(() => predictProbability(model, [1, 2, 3, Infinity, 0, 0, 1])).toThrow(/feature 3 is Infinity/);
  });
});

/** One tree: x0 < 1.5 (missing goes left) -> leaf -0.25; else x1 < 0.5 (missing goes right) -> 0.5 | 1.0. */
function tinyModel(baseScore: string) {
  const tree = {
    left_children: [1, -1, 3, -1, -1], right_children: [2, -1, 4, -1, -1], split_indices: [0, 0, 1, 0, 0],
    split_conditions: [1.5, -0.25, 0.5, 0.5, 1.0], default_left: [1, 0, 0, 0, 0], split_type: [0, 0, 0, 0, 0], base_weights: [9, 9, 9, 9, 9],
  };
  return {
    learner: {
      attributes: { model_version: 'tiny' }, feature_names: [], objective: { name: 'binary:logistic' },
      learner_model_param: { base_score: baseScore, num_class: '0', num_feature: '2', num_target: '1' },
      gradient_booster: { name: 'gbtree', model: { trees: [tree, tree] } },
    },
  };
}

describe('a hand-made model', () => {
  const model = parseXgboostModel(tinyModel('5E-1'));
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

  it('goes left below the condition and right on it', () => {
    expect(predictMargin(model, [1.4999, 0])).toBe(-0.5);
    expect(predictMargin(model, [1.5, 0])).toBe(1);
    expect(predictMargin(model, [1.5, 0.5])).toBe(2);
  });

  it('sends missing values their default way, and reads leaf values, not base_weights', () => {
    expect(predictMargin(model, [Number.NaN, 7])).toBe(-0.5);
    expect(predictMargin(model, [2, Number.NaN])).toBe(2);
    expect(predictProbability(model, [null, 0])).toBeCloseTo(sigmoid(-0.5), 7);
  });

  it('starts from logit(base_score)', () => {
    const skewed = parseXgboostModel(tinyModel('2E-1'));
    expect(predictMargin(skewed, [2, 0])).toBeCloseTo(Math.log(0.2 / 0.8) + 1, 6);
    expect(predictProbability(skewed, [2, 0])).toBeCloseTo(sigmoid(Math.log(0.25) + 1), 6);
  });
});

describe('parsing a model', () => {
  it('refuses another objective, booster, several outputs, or categorical splits', () => {
    const objective = modelJson();
    objective.learner.objective.name = 'multi:softprob';
    expect(refusal(objective)).toMatch(/objective "multi:softprob" is not supported/);
    const dart = modelJson();
    dart.learner.gradient_booster.name = 'dart';
    expect(refusal(dart)).toMatch(/booster "dart" is not supported/);
    const classes = modelJson();
    classes.learner.learner_model_param.num_class = '3';
    expect(refusal(classes)).toMatch(/several outputs/);
    const categorical = modelJson();
    categorical.learner.gradient_booster.model.trees[2].split_type[0] = 1;
    expect(refusal(categorical)).toMatch(/trees\[2\] node 0 is a categorical split/);
  });

  it('refuses broken trees: a child out of range, a cycle, a short array, a feature past num_feature', () => {
    const outOfRange = modelJson();
    outOfRange.learner.gradient_booster.model.trees[0].left_children[0] = 999;
    expect(refusal(outOfRange)).toMatch(/node 0 names child 999/);
    const cycle = modelJson();
    const tree = cycle.learner.gradient_booster.model.trees[1];
    tree.left_children[1] = tree.left_children[2];
    tree.right_children[1] = tree.right_children[2];
    expect(refusal(cycle)).toMatch(/trees\[1\] reaches node \d+ twice/);
    const short = modelJson();
    short.learner.gradient_booster.model.trees[0].split_conditions.pop();
    expect(refusal(short)).toMatch(/split_conditions is not an array of/);
    const feature = modelJson();
    feature.learner.gradient_booster.model.trees[0].split_indices[0] = 7;
    expect(refusal(feature)).toMatch(/splits on feature 7 of 7/);
  });

  it('needs a model version and a base_score inside (0, 1)', () => {
    const unnamed = modelJson();
    delete unnamed.learner.attributes.model_version;
    expect(refusal(unnamed)).toMatch(/no model version/);
    expect(parseXgboostModel(unnamed, { modelVersion: 'v9' }).modelVersion).toBe('v9');
    const base = modelJson();
    base.learner.learner_model_param.base_score = '1.5E0';
    expect(refusal(base)).toMatch(/base_score 1.5 must lie strictly between 0 and 1/);
    expect(refusal('not a model')).toMatch(/the model is not an object/);
  });
});
