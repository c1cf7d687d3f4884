// Pure validation and normalisation of feature, option and feature-state inputs (SPEC.md
// sections 1 and 2). No I/O: the rules that need the database (keys already taken, weight
// sums, ids that exist) live in service.ts.
import { VARIANT_CONTROL } from '../engine/index.js';
import { ValidationError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';
import { VariantKeyError } from './errors.js';
import { FEATURE_NAME_RULE, isFeatureName } from './feature-name.js';
import { normaliseWeight } from './weights.js';

type Path = (string | number)[];

export const DESCRIPTION_MAX_LENGTH = 2000;
export const OPTION_NAME_MAX_LENGTH = 200;
export const OPTIONS_PER_INPUT_MAX = 100;
export const ALLOCATIONS_PER_INPUT_MAX = 100;
export const VARIANT_KEY_MAX_LENGTH = 100;
const VARIANT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Feature names: trimmed, 1-150 characters of A-Z, a-z, 0-9, "_", "." and "-". */
export function normaliseFeatureName(raw: string, path: Path): string {
  const name = raw.trim();
  if (!isFeatureName(name)) throw new ValidationError('INVALID_FEATURE_NAME', FEATURE_NAME_RULE, path);
  return name;
}

/** Optional text: trimmed, blank is null, at most `max` characters; undefined stays undefined (unchanged). */
export function optionalText(raw: string | null | undefined, max: number, path: Path, what: string): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  const text = raw.trim();
  if (text.length > max) throw new ValidationError('INVALID_INPUT', `${what} is at most ${max} characters.`, path);
  return text === '' ? null : text;
}

export function normalisePriority(raw: number, path: Path): number {
  if (!Number.isSafeInteger(raw) || raw < -2147483648 || raw > 2147483647) {
    throw new ValidationError('INVALID_INPUT', 'A priority is a 32-bit integer.', path);
  }
  return raw;
}

/**
 * Trims a key as given; blank becomes null (an option without a key). Throws
 * INVALID_VARIANT_KEY (format, 1-100 characters) or RESERVED_VARIANT_KEY (`control`, in any case).
 */
export function normaliseVariantKey(raw: string | null | undefined, path: Path): string | null {
  if (raw === null || raw === undefined) return null;
  const key = raw.trim();
  if (key === '') return null;
  if (key.length > VARIANT_KEY_MAX_LENGTH || !VARIANT_KEY_PATTERN.test(key)) {
    throw new VariantKeyError(
      'INVALID_VARIANT_KEY',
      `A variant key is 1-${VARIANT_KEY_MAX_LENGTH} characters of A-Z, a-z, 0-9, "_", "." and "-", starting with a letter or digit.`,
      echo(key),
      path,
    );
  }
  if (key.toLowerCase() === VARIANT_CONTROL) {
    throw new VariantKeyError('RESERVED_VARIANT_KEY', `"${key}" is reserved for the control bucket.`, key, path);
  }
  return key;
}

export interface OptionInput {
  key?: string | null;
  name?: string | null;
  description?: string | null;
  value?: unknown;
  defaultWeight?: number | null;
  priority?: number | null;
}

export interface NormalisedOption {
  key: string | null | undefined;
  name: string | null | undefined;
  description: string | null | undefined;
  value: unknown;
  defaultWeight: number | undefined;
  priority: number | undefined;
}

/** Everything of an option input but its key, whose rules need the database (checkVariantKeyWrites). */
export function normaliseOptionInput(input: OptionInput, path: Path): NormalisedOption {
  return {
    key: input.key,
    name: optionalText(input.name, OPTION_NAME_MAX_LENGTH, [...path, 'name'], 'An option name'),
    description: optionalText(input.description, DESCRIPTION_MAX_LENGTH, [...path, 'description'], 'A description'),
    value: input.value,
    defaultWeight:
      input.defaultWeight === undefined || input.defaultWeight === null
        ? undefined
        : normaliseWeight(input.defaultWeight, [...path, 'defaultWeight']),
    priority: input.priority === undefined || input.priority === null ? undefined : normalisePriority(input.priority, [...path, 'priority']),
  };
}

export interface CreateFeatureInput {
  projectId: number;
  name: string;
  description?: string | null;
  initialValue?: unknown;
  defaultEnabled?: boolean | null;
  options?: OptionInput[] | null;
}

export interface NormalisedNewFeature {
  name: string;
  description: string | null;
  options: NormalisedOption[];
  defaultEnabled: boolean;
}

/** A new feature's input, checked in the order of its fields (option keys are checked later, in the write). */
export function normaliseNewFeature(input: CreateFeatureInput): NormalisedNewFeature {
  const name = normaliseFeatureName(input.name, ['name']);
  const description = optionalText(input.description, DESCRIPTION_MAX_LENGTH, ['description'], 'A description') ?? null;
  const optionInputs = input.options ?? [];
  if (optionInputs.length > OPTIONS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${OPTIONS_PER_INPUT_MAX} options per input.`, ['options']);
  }
  const options = optionInputs.map((option, index) => normaliseOptionInput(option, ['options', index]));
  return { name, description, options, defaultEnabled: input.defaultEnabled ?? false };
}

export interface UpdateFeatureInput {
  name?: string | null;
  description?: string | null;
  initialValue?: unknown;
  defaultEnabled?: boolean | null;
}

/** The name and description of an update; undefined leaves them as they are. */
export function normaliseFeatureChanges(input: UpdateFeatureInput): { name: string | undefined; description: string | null | undefined } {
  const name = input.name === undefined || input.name === null ? undefined : normaliseFeatureName(input.name, ['name']);
  const description = optionalText(input.description, DESCRIPTION_MAX_LENGTH, ['description'], 'A description');
  return { name, description };
}

export interface AllocationInput {
  optionId: number;
  /** null removes the environment's override: the option's defaultWeight applies again. */
  weight: number | null | undefined;
}

export interface NormalisedAllocation {
  optionId: number;
  weight: number | null;
  /** Input path of the option id, for errors about the option. */
  path: Path;
}

/** At most 100 allocations, each weight valid, no option twice. */
export function normaliseAllocations(input: AllocationInput[] | null | undefined): NormalisedAllocation[] {
  if (input && input.length > ALLOCATIONS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${ALLOCATIONS_PER_INPUT_MAX} allocations per input.`, ['allocations']);
  }
  const allocations = (input ?? []).map((allocation, index) => ({
    optionId: allocation.optionId,
    weight:
      allocation.weight === null || allocation.weight === undefined
        ? null
        : normaliseWeight(allocation.weight, ['allocations', index, 'weight']),
    path: ['allocations', index, 'optionId'] as Path,
  }));
  const seen = new Set<number>();
  for (const allocation of allocations) {
    if (seen.has(allocation.optionId)) {
      throw new ValidationError('INVALID_INPUT', 'An option is listed twice in allocations.', allocation.path);
    }
    seen.add(allocation.optionId);
  }
  return allocations;
}

/** How a feature-state input names its state: by id, or by environment and feature. */
export type FeatureStateReference = { stateId: number } | { environmentId: number; featureId: number };

/** Exactly one way of naming the state, else INVALID_INPUT on `id`. */
export function featureStateReference(input: { stateId?: number; environmentId?: number; featureId?: number }): FeatureStateReference {
  if (input.stateId !== undefined) {
    if (input.environmentId !== undefined || input.featureId !== undefined) {
      throw new ValidationError('INVALID_INPUT', 'Name the feature state by id, or by environmentId and featureId, not both.', ['id']);
    }
    return { stateId: input.stateId };
  }
  if (input.environmentId === undefined || input.featureId === undefined) {
    throw new ValidationError('INVALID_INPUT', 'Name the feature state by id, or by environmentId and featureId.', ['id']);
  }
  return { environmentId: input.environmentId, featureId: input.featureId };
}
