/**
 * An XGBoost model as written by `Booster.save_model('model.json')`, read
 * into flat typed arrays (pure). Only what prediction needs is kept: every
 * tree's nodes laid end to end, children as absolute indices (-1 at a leaf),
 * split conditions (a leaf's value in the same slot, as XGBoost stores it:
 * `base_weights` are training statistics, not what a leaf predicts),
 * feature indices and the missing-value direction.
 *
 * Supported: the `gbtree` booster, one output (binary:logistic,
 * reg:logistic, reg:squarederror), numerical splits. Anything else is
 * refused with `fraud_model_invalid` naming what, never half-read.
 *
 * @example
 * const model = parseXgboostModel(JSON.parse(text));
 * model.trees; // 30
 */
import { DaybookError } from '../../kernel/errors.ts';

export type XgboostObjective = 'binary:logistic' | 'reg:logistic' | 'reg:squarederror';
const OBJECTIVES: readonly string[] = ['binary:logistic', 'reg:logistic', 'reg:squarederror'];

export interface XgboostModel {
  readonly modelVersion: string;
  readonly objective: XgboostObjective;
  readonly featureCount: number;
  readonly featureNames: readonly string[] | null;
  /** The starting margin, float32: logit(base_score) for the logistic objectives, base_score itself otherwise. */
  readonly baseMargin: number;
  readonly trees: number;
  /** Index of each tree's root node in the node arrays. */
  readonly roots: Int32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Feature tested at a split node; -1 at a leaf. */
  readonly feature: Int32Array;
  /** Split condition (go left when `x < value`), or a leaf's value. */
  readonly value: Float32Array;
  /** 1 when a missing value goes left. */
  readonly defaultLeft: Uint8Array;
}

/** Most nodes a model may have in all (a 1000-tree, depth-8 model has ~511K). */
export const XGBOOST_NODES_MAX = 2_000_000;

const invalid = (message: string, details: Record<string, unknown> = {}): DaybookError =>
  new DaybookError('fraud_model_invalid', `XGBoost model: ${message}`, details);

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where} is not an object`);
  return value as Json;
}

function numberArray(tree: Json, key: string, length: number, where: string): number[] {
  const value = tree[key];
  if (!Array.isArray(value) || value.length !== length) throw invalid(`${where}.${key} is not an array of ${length} numbers`);
  for (const item of value) if (typeof item !== 'number' || !Number.isFinite(item)) throw invalid(`${where}.${key} holds ${JSON.stringify(item)}`);
  return value as number[];
}

/** XGBoost writes its parameters as strings ("1.2265E-1"); newer versions sometimes as numbers. */
function numeric(value: unknown, where: string): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed)) throw invalid(`${where} is not a number: ${JSON.stringify(value)}`);
  return parsed;
}

function baseMarginOf(objective: XgboostObjective, baseScore: number): number {
  if (objective === 'reg:squarederror') return Math.fround(baseScore);
  if (!(baseScore > 0 && baseScore < 1)) throw invalid(`base_score ${baseScore} must lie strictly between 0 and 1 for ${objective}`);
  // XGBoost's ProbToMargin, in float32 as it computes it.
  return Math.fround(-Math.log(Math.fround(Math.fround(1 / Math.fround(baseScore)) - 1)));
}

/** Reads `learner` of a saved model: objective, parameters, attributes. */
function readLearner(root: Json): { learner: Json; objective: XgboostObjective; featureCount: number; baseScore: number } {
  const learner = object(root.learner, 'learner');
  const name = object(learner.objective, 'learner.objective').name;
  if (typeof name !== 'string' || !OBJECTIVES.includes(name)) throw invalid(`objective ${JSON.stringify(name)} is not supported (only ${OBJECTIVES.join(', ')})`);
  const params = object(learner.learner_model_param, 'learner.learner_model_param');
  const classes = params.num_class === undefined ? 0 : numeric(params.num_class, 'num_class');
  const targets = params.num_target === undefined ? 1 : numeric(params.num_target, 'num_target');
  if (classes > 1 || targets > 1) throw invalid(`models with several outputs are not supported (num_class ${classes}, num_target ${targets})`);
  const featureCount = numeric(params.num_feature, 'learner_model_param.num_feature');
  if (!Number.isInteger(featureCount) || featureCount < 1) throw invalid(`num_feature ${featureCount} is not a positive integer`);
  return { learner, objective: name as XgboostObjective, featureCount, baseScore: numeric(params.base_score, 'learner_model_param.base_score') };
}

function modelVersionOf(learner: Json, given: string | undefined): string {
  if (given !== undefined) return given;
  const attributes = learner.attributes;
  const version = typeof attributes === 'object' && attributes !== null ? (attributes as Json).model_version : undefined;
  if (typeof version !== 'string' || version === '') throw invalid('no model version: set the booster attribute model_version, or pass modelVersion');
  return version;
}

function featureNamesOf(learner: Json, featureCount: number): readonly string[] | null {
  const names = learner.feature_names;
  if (!Array.isArray(names) || names.length === 0) return null;
  if (names.length !== featureCount || !names.every((name) => typeof name === 'string')) throw invalid(`feature_names has ${names.length} entries for ${featureCount} features`);
  return names as string[];
}

/**
 * Parses a saved model. `modelVersion` overrides the booster's
 * `model_version` attribute (which the demo training script sets).
 */
export function parseXgboostModel(json: unknown, options: { modelVersion?: string } = {}): XgboostModel {
  const root = object(json, 'the model');
  const { learner, objective, featureCount, baseScore } = readLearner(root);
  const booster = object(learner.gradient_booster, 'learner.gradient_booster');
  if (booster.name !== 'gbtree') throw invalid(`booster ${JSON.stringify(booster.name)} is not supported (only gbtree)`);
  const treesJson = object(booster.model, 'gradient_booster.model').trees;
  if (!Array.isArray(treesJson) || treesJson.length === 0) throw invalid('gradient_booster.model.trees is not a non-empty array');
  const built = buildNodes(treesJson, featureCount);
  return {
    modelVersion: modelVersionOf(learner, options.modelVersion), objective, featureCount, featureNames: featureNamesOf(learner, featureCount),
    baseMargin: baseMarginOf(objective, baseScore), trees: treesJson.length, ...built,
  };
}

type Nodes = Pick<XgboostModel, 'roots' | 'left' | 'right' | 'feature' | 'value' | 'defaultLeft'>;

function buildNodes(treesJson: unknown[], featureCount: number): Nodes {
  const sizes = treesJson.map((tree, t) => {
    const left = object(tree, `trees[${t}]`).left_children;
    if (!Array.isArray(left) || left.length === 0) throw invalid(`trees[${t}].left_children is not a non-empty array`);
    return left.length;
  });
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total > XGBOOST_NODES_MAX) throw invalid(`${total} nodes, more than ${XGBOOST_NODES_MAX}`);
  const nodes: Nodes = {
    roots: new Int32Array(treesJson.length), left: new Int32Array(total), right: new Int32Array(total),
    feature: new Int32Array(total), value: new Float32Array(total), defaultLeft: new Uint8Array(total),
  };
  let offset = 0;
  treesJson.forEach((tree, t) => {
    nodes.roots[t] = offset;
    copyTree(tree as Json, sizes[t]!, offset, featureCount, nodes, `trees[${t}]`);
    offset += sizes[t]!;
  });
  return nodes;
}

function copyTree(tree: Json, size: number, offset: number, featureCount: number, into: Nodes, where: string): void {
  const left = numberArray(tree, 'left_children', size, where);
  const right = numberArray(tree, 'right_children', size, where);
  const splitIndices = numberArray(tree, 'split_indices', size, where);
  const conditions = numberArray(tree, 'split_conditions', size, where);
  const defaultLeft = numberArray(tree, 'default_left', size, where);
  const splitTypes = Array.isArray(tree.split_type) ? (tree.split_type as unknown[]) : [];
  for (let node = 0; node < size; node++) {
    const isLeaf = left[node] === -1;
    if (isLeaf !== (right[node] === -1)) throw invalid(`${where} node ${node} has one child`);
    if (!isLeaf) {
      checkChild(left[node]!, size, where, node);
      checkChild(right[node]!, size, where, node);
      if ((splitTypes[node] ?? 0) !== 0) throw invalid(`${where} node ${node} is a categorical split (not supported)`);
      if (!Number.isInteger(splitIndices[node]) || splitIndices[node]! < 0 || splitIndices[node]! >= featureCount) throw invalid(`${where} node ${node} splits on feature ${splitIndices[node]} of ${featureCount}`);
    }
    into.left[offset + node] = isLeaf ? -1 : offset + left[node]!;
    into.right[offset + node] = isLeaf ? -1 : offset + right[node]!;
    into.feature[offset + node] = isLeaf ? -1 : splitIndices[node]!;
    into.value[offset + node] = conditions[node]!;
    into.defaultLeft[offset + node] = defaultLeft[node] ? 1 : 0;
  }
  checkIsTree(left, right, where);
}

function checkChild(child: number, size: number, where: string, node: number): void {
  if (!Number.isInteger(child) || child <= 0 || child >= size) throw invalid(`${where} node ${node} names child ${child} of ${size} nodes`);
}

/** Every node reachable from the root exactly once: no cycles, so prediction always ends at a leaf. */
function checkIsTree(left: readonly number[], right: readonly number[], where: string): void {
  const seen = new Uint8Array(left.length);
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen[node]) throw invalid(`${where} reaches node ${node} twice (not a tree)`);
    seen[node] = 1;
    if (left[node] !== -1) stack.push(left[node]!, right[node]!);
  }
}
