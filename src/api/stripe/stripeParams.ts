/**
 * Stripe's request parameters: form bodies (`qs` brackets) and JSON bodies
 * arrive as the same objects, strings where a form carries numbers and
 * booleans. Route schemas are plain zod (so the OpenAPI document describes
 * them); the validator first coerces form strings where the schema wants a
 * number, a boolean or an array, then validates, and answers the first
 * problem as Stripe does: `parameter_unknown` naming the parameter,
 * `parameter_missing`, `parameter_invalid_integer`, else `validation_failed`
 * with the parameter in bracket notation (`card[exp_month]`).
 */
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { DaybookError } from '../../kernel/index.ts';

type ZodDef = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[] };
const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/** Form strings turned into what the schema wants, where they read as such; anything else is left for validation to refuse. */
export function coerceFormValues(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional': case 'nullable': case 'default':
      return coerceFormValues(def.innerType!, value);
    case 'number':
      return typeof value === 'string' && /^-?\d{1,16}$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'array':
      if (typeof value === 'string') return [value];
      return Array.isArray(value) ? value.map((item) => coerceFormValues(def.element!, item)) : value;
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = def.shape![key] === undefined ? item : coerceFormValues(def.shape![key]!, item);
      return out;
    }
    case 'union': {
      const options = def.options ?? [];
      const objectOption = options.find((option) => defOf(option).type === 'object');
      if (value !== null && typeof value === 'object' && objectOption !== undefined) return coerceFormValues(objectOption, value);
      for (const option of options) {
        const coerced = coerceFormValues(option, value);
        if (coerced !== value) return coerced;
      }
      return value;
    }
    default:
      return value;
  }
}

/** `['card', 'exp_month']` → `card[exp_month]`. */
export function bracketName(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path.map(String);
  return `${first ?? ''}${rest.map((part) => `[${part}]`).join('')}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** The Stripe error for the first issue zod found. */
export function parameterError(error: z.ZodError, data: unknown): DaybookError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = bracketName([...issue.path, issue.keys[0]!]);
    return new DaybookError('parameter_unknown', `Received unknown parameter: ${param}`, {}, param);
  }
  const param = bracketName(issue.path);
  const value = valueAt(data, issue.path);
  if (issue.code === 'invalid_type' && value === undefined) return new DaybookError('parameter_missing', `Missing required param: ${param}.`, {}, param);
  if (issue.code === 'invalid_type' && issue.expected === 'number') {
    return new DaybookError('parameter_invalid_integer', `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, {}, param);
  }
  return new DaybookError('validation_failed', `Invalid ${param}: ${issue.message}`, {}, param);
}

/** Fastify's validator for the Stripe listener's zod schemas (see the module comment). */
export const stripeValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const input = coerceFormValues(schema, data ?? {});
  const result = schema.safeParse(input);
  if (result.success) return { value: result.data };
  return { error: parameterError(result.error, input) };
};

// Shared parameter schemas -----------------------------------------------------------

export const expandParam = z.array(z.string().max(200)).max(20).optional().meta({ description: 'Ids to replace by the objects they name, e.g. `latest_charge`, `data.customer`.' });
/** `metadata[key]=value`; an empty value unsets the key; `metadata=` (or null) unsets every key. */
// Keys starting with `$` are refused: `$enc` is how sealed personal data is marked in the log.
const metadataKey = z.string().max(40).refine((key) => !key.startsWith('$'), { message: 'metadata keys may not start with "$"' });
export const metadataParam = z.union([z.record(metadataKey, z.string()), z.literal('')]).nullable().optional();
export const amountParam = z.number().int().meta({ description: 'A positive integer in the smallest currency unit (2000 is 20.00 USD).' });
export const idParams = z.strictObject({ id: z.string().min(1).max(255) });
const createdRange = z.strictObject({ gt: z.number().int().optional(), gte: z.number().int().optional(), lt: z.number().int().optional(), lte: z.number().int().optional() });

/** Query of every list: Stripe's cursors, page size and `created` filter. */
export const listParams = {
  limit: z.number().int().min(1).max(100).optional(),
  starting_after: z.string().max(255).optional(),
  ending_before: z.string().max(255).optional(),
  created: z.union([z.number().int(), createdRange]).optional(),
  expand: expandParam,
};

export const retrieveQuery = z.strictObject({ expand: expandParam });

/** The metadata patch the domain takes: null clears, '' values unset keys. */
export function metadataPatchOf(value: Record<string, string> | '' | null | undefined): Record<string, string> | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  return value;
}

/** An optional text parameter: '' (a form's null) clears it. */
export function textPatchOf(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return value === null || value === '' ? null : value;
}
