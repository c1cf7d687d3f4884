// Pure validation and normalisation of targeting inputs (SPEC.md section 8). No I/O: what
// needs the database (names and priorities taken, ids that exist, options of the feature)
// lives in service.ts.
import { validateSegmentRules } from '../engine/index.js';
import { ValidationError } from '../errors/app-errors.js';
import { FEATURE_NAME_MAX_LENGTH, isFeatureName } from '../features/feature-name.js';
import { normaliseWeight } from '../features/weights.js';
import { IDENTIFIER_RULE, isValidIdentifier } from '../identities/identifier.js';
import { SegmentRulesError } from './errors.js';

type Path = (string | number)[];

export const SEGMENT_DESCRIPTION_MAX_LENGTH = 2000;
export const ALLOCATIONS_PER_INPUT_MAX = 100;
export const SEGMENT_NAME_RULE = `A segment name is 1-${FEATURE_NAME_MAX_LENGTH} characters of A-Z, a-z, 0-9, "_", "." and "-" (as feature names).`;

/** Segment names have the feature-name format, trimmed. */
export function normaliseSegmentName(raw: string, path: Path): string {
  const name = raw.trim();
  if (!isFeatureName(name)) throw new ValidationError('INVALID_NAME', SEGMENT_NAME_RULE, path);
  return name;
}

/** Optional text: trimmed, blank is null; undefined stays undefined (unchanged). */
export function normaliseDescription(raw: string | null | undefined, path: Path): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  const text = raw.trim();
  if (text.length > SEGMENT_DESCRIPTION_MAX_LENGTH) {
    throw new ValidationError('INVALID_INPUT', `A description is at most ${SEGMENT_DESCRIPTION_MAX_LENGTH} characters.`, path);
  }
  return text === '' ? null : text;
}

/**
 * A list of Flagsmith rule trees that the engine evaluates exactly and the reference engine
 * without raising; else INVALID_SEGMENT_RULES listing every problem with its input path.
 */
export function normaliseSegmentRules(raw: unknown, path: Path): unknown[] {
  const problems = validateSegmentRules(raw);
  if (problems.length) {
    throw new SegmentRulesError(problems.map((problem) => ({ path: [...path, ...problem.path], message: problem.message })));
  }
  return raw as unknown[];
}

export interface SegmentInput {
  name?: string | null;
  description?: string | null;
  rules?: unknown;
}

export interface NormalisedSegment {
  name: string;
  description: string | null;
  rules: unknown[];
}

/** A new segment: name and rules are required, checked in the order of the fields. */
export function normaliseNewSegment(input: SegmentInput): NormalisedSegment {
  if (input.name === undefined || input.name === null) throw new ValidationError('INVALID_NAME', SEGMENT_NAME_RULE, ['name']);
  const name = normaliseSegmentName(input.name, ['name']);
  const description = normaliseDescription(input.description, ['description']) ?? null;
  const rules = normaliseSegmentRules(input.rules, ['rules']);
  return { name, description, rules };
}

/** The changes of an update; undefined leaves a field as it is (null clears the description). */
export function normaliseSegmentChanges(input: SegmentInput): Partial<NormalisedSegment> {
  return {
    name: input.name === undefined || input.name === null ? undefined : normaliseSegmentName(input.name, ['name']),
    description: normaliseDescription(input.description, ['description']),
    rules: input.rules === undefined || input.rules === null ? undefined : normaliseSegmentRules(input.rules, ['rules']),
  };
}

export function normalisePriority(raw: number, path: Path): number {
  if (!Number.isSafeInteger(raw) || raw < -2147483648 || raw > 2147483647) {
    throw new ValidationError('INVALID_INPUT', 'A priority is a 32-bit integer.', path);
  }
  return raw;
}

export interface OverrideAllocationInput {
  optionId: number;
  weight: number;
}

export interface NormalisedOverrideAllocation extends OverrideAllocationInput {
  /** Input path of the option id, for errors about the option. */
  path: Path;
}

/** At most 100 allocations, each weight 0-100 with at most two decimals, no option twice. */
export function normaliseOverrideAllocations(input: OverrideAllocationInput[]): NormalisedOverrideAllocation[] {
  if (input.length > ALLOCATIONS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${ALLOCATIONS_PER_INPUT_MAX} allocations per input.`, ['allocations']);
  }
  const seen = new Set<number>();
  return input.map((allocation, index) => {
    const weight = normaliseWeight(allocation.weight, ['allocations', index, 'weight']);
    const path: Path = ['allocations', index, 'optionId'];
    if (seen.has(allocation.optionId)) throw new ValidationError('INVALID_INPUT', 'An option is listed twice in allocations.', path);
    seen.add(allocation.optionId);
    return { optionId: allocation.optionId, weight, path };
  });
}

/** An identifier as `flags` takes it (1-2000 characters, storable), else INVALID_IDENTIFIER. */
export function normaliseIdentifier(raw: string, path: Path): string {
  if (!isValidIdentifier(raw)) throw new ValidationError('INVALID_IDENTIFIER', IDENTIFIER_RULE, path);
  return raw;
}
