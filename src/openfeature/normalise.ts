// OFREP 0.3.0 (SPEC.md section 10), the pure part: reading an evaluation request's context and
// describing a flag result the way OpenFeature providers expect it. No I/O.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { FlagResult } from '../engine/index.js';
import { type ContextFlag, REASON_IDENTITY_OVERRIDE } from '../evaluation/service.js';
import { TRAIT_NAME_MAX, TRAIT_STRING_MAX, TRAITS_MAX, type Traits } from '../evaluation/inputs.js';
import { FEATURE_NAME_MAX_LENGTH, isFeatureName } from '../features/feature-name.js';
import { OfrepError } from './errors.js';
import { IDENTIFIER_RULE, isValidIdentifier, UNSTORABLE_TEXT } from '../identities/identifier.js';

/** Largest request body read; a context within the trait limits is far smaller. */
export const OFREP_BODY_MAX_BYTES = 512 * 1024;

export interface OfrepContext {
  /** `targetingKey`: the identity's identifier. */
  identifier?: string;
  /** Every other property with a value (null ones are absent). */
  traits: Traits;
}

const invalidContext = (message: string) => new OfrepError(400, 'INVALID_CONTEXT', message);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a request body `{ "context": {...} }` (a missing context is an empty one). */
export function parseEvaluationRequest(body: Buffer): OfrepContext {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    throw new OfrepError(400, 'PARSE_ERROR', 'The request body must be JSON in UTF-8: { "context": { "targetingKey": "...", ... } }.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OfrepError(400, 'PARSE_ERROR', 'The request body must be a JSON object: { "context": { ... } }.');
  }
  const context = (parsed as { context?: unknown }).context;
  if (context === undefined || context === null) return { traits: Object.create(null) as Traits };
  return normaliseContext(context);
}

/**
 * targetingKey is the identifier (the rule of every identifier); the other properties are
 * traits under the trait limits: strings, finite numbers and booleans; null means absent.
 */
export function normaliseContext(context: unknown): OfrepContext {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw invalidContext('context must be a JSON object.');
  }
  const names = Object.keys(context);
  if (names.length > TRAITS_MAX + 1) throw invalidContext(`At most ${TRAITS_MAX} context properties besides targetingKey.`);
  // Null prototype: a property named "__proto__" is just a trait.
  const traits = Object.create(null) as Traits;
  let identifier: string | undefined;
  let count = 0;
  for (const name of names) {
    const value = (context as Record<string, unknown>)[name];
    if (name === 'targetingKey') {
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string' || !isValidIdentifier(value)) throw invalidContext(`targetingKey: ${IDENTIFIER_RULE}`);
      identifier = value;
      continue;
    }
    if (name.length < 1 || name.length > TRAIT_NAME_MAX) throw invalidContext(`Context property names must be 1-${TRAIT_NAME_MAX} characters.`);
    if (UNSTORABLE_TEXT.test(name)) throw invalidContext('Context property names cannot hold NUL or unpaired surrogates.');
    if (value === null) continue;
    if (typeof value === 'string') {
      if (value.length > TRAIT_STRING_MAX) throw invalidContext(`Context strings are at most ${TRAIT_STRING_MAX} characters.`);
      if (UNSTORABLE_TEXT.test(value)) throw invalidContext('Context strings cannot hold NUL or unpaired surrogates.');
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalidContext('Context numbers must be finite.');
    } else if (typeof value !== 'boolean') {
      throw invalidContext('Context property values are strings, numbers, booleans or null (no objects or arrays).');
    }
    if (++count > TRAITS_MAX) throw invalidContext(`At most ${TRAITS_MAX} context properties besides targetingKey.`);
    traits[name] = value;
  }
  return identifier === undefined ? { traits } : { identifier, traits };
}

/**
 * The flag key of `/ofrep/v1/evaluate/flags/{key}`: a key that cannot be a feature name is
 * one that does not exist (404), unless it could not be a key at all (400).
 */
export function parseFlagKey(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new OfrepError(400, 'PARSE_ERROR', 'The flag key is not valid percent-encoded UTF-8.');
  }
  if (key.length > FEATURE_NAME_MAX_LENGTH) throw new OfrepError(400, 'PARSE_ERROR', `A flag key is at most ${FEATURE_NAME_MAX_LENGTH} characters.`);
  if (!isFeatureName(key)) throw flagNotFound(key);
  return key;
}

export function flagNotFound(key: string): OfrepError {
  return new OfrepError(404, 'FLAG_NOT_FOUND', `Flag '${key}' was not found.`);
}

export type OfrepReason = 'SPLIT' | 'TARGETING_MATCH' | 'DISABLED' | 'STATIC' | 'DEFAULT';
export type OfrepMetadata = Record<string, string | number | boolean>;

export interface OfrepResult {
  key: string;
  value: unknown;
  variant?: string;
  reason: OfrepReason;
  metadata: OfrepMetadata;
}

const SEGMENT_REASON = 'TARGETING_MATCH; segment=';

/**
 * A flag as OFREP describes it: `variant` the variant key served (absent when none); the reason
 * what decided: a disabled flag, a segment or identity override, a split (control included), the
 * environment's value of a flag without variants (STATIC), or, without a targetingKey, the
 * default of a flag with variants (DEFAULT). `extra` is flat metadata from elsewhere
 * (experiments).
 */
export function describeFlag({ flag, multivariate, experiment }: ContextFlag, hasIdentity: boolean, extra?: OfrepMetadata): OfrepResult {
  const metadata: OfrepMetadata = { ...extra };
  // The experiment's id as the GraphQL API spells it, so a hook can name it there.
  if (experiment) Object.assign(metadata, { experimentId: encodeGlobalID('Experiment', experiment.id), experimentIteration: experiment.iteration });
  const result: OfrepResult = { key: flag.name, value: flag.value ?? null, reason: reasonOf(flag, multivariate, hasIdentity, metadata), metadata };
  if (flag.variant !== null) result.variant = flag.variant;
  return result;
}

function reasonOf(flag: FlagResult, multivariate: boolean, hasIdentity: boolean, metadata: OfrepMetadata): OfrepReason {
  if (flag.reason.startsWith(SEGMENT_REASON)) metadata.segment = flag.reason.slice(SEGMENT_REASON.length);
  if (!flag.enabled) return 'DISABLED';
  if (flag.reason.startsWith('TARGETING_MATCH') || flag.reason === REASON_IDENTITY_OVERRIDE) return 'TARGETING_MATCH';
  if (flag.reason.startsWith('SPLIT') || flag.variant !== null) return 'SPLIT';
  if (multivariate && !hasIdentity) return 'DEFAULT';
  return 'STATIC';
}

/**
 * Canonical text of a context (trait order does not matter), for the bulk ETag:
 * `JSON.stringify([identifier ?? null, [[name, value], ...]])` with the names sorted, written
 * out without building those arrays.
 */
export function contextFingerprint(context: OfrepContext): string {
  const { traits } = context;
  const names = Object.keys(traits);
  if (names.length > 1) names.sort();
  let text = `[${JSON.stringify(context.identifier ?? null)},[`;
  for (let i = 0; i < names.length; i++) {
    text += `${i === 0 ? '' : ','}[${JSON.stringify(names[i])},${JSON.stringify(traits[names[i]])}]`;
  }
  return `${text}]]`;
}

/** Whether `If-None-Match` names this ETag (weak comparison, `*` included). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  // What a client that revalidates sends: the one tag it was given.
  if (header === etag) return true;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
