/**
 * The demo fraud model shipped with Daybook: 30 trees of depth 4 trained on
 * synthetic transactions by `scripts/fraud/train_demo_model.py`, with a
 * fixture of XGBoost's own predictions for the scorer's tests. Made-up data:
 * a stand-in until a real model is trained on real labels.
 */
import { readFileSync } from 'node:fs';
import { DaybookError } from '../../kernel/errors.ts';
import { parseXgboostModel, type XgboostModel } from '../fraud/xgboost.model.ts';

export const DEMO_MODEL_URL = new URL('./fraud-demo.model.json', import.meta.url);
export const DEMO_FIXTURE_URL = new URL('./fraud-demo.fixture.json', import.meta.url);

/** Reads and parses a model file in XGBoost's JSON format; an unreadable or malformed file is `fraud_model_invalid`. */
export function loadXgboostModelFile(path: string | URL, options: { modelVersion?: string } = {}): XgboostModel {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DaybookError('fraud_model_invalid', `XGBoost model ${String(path)}: ${(error as Error).message}`);
  }
  return parseXgboostModel(json, options);
}

let demo: XgboostModel | undefined;

/** The demo model, parsed once. */
export function demoFraudModel(): XgboostModel {
  demo ??= loadXgboostModelFile(DEMO_MODEL_URL);
  return demo;
}
