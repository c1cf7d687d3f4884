/**
 * Flagsmith's evaluation context / evaluation result shapes (the JSON the conformance
 * corpus uses, `sdk/evaluation-context.json` and `sdk/evaluation-result.json` upstream).
 */

import type { PyDict, PyFloat } from './python.js';

export type Metadata = Record<string, unknown>;

export interface EnvironmentContext {
  key: string;
  name: string;
}

/**
 * A trait value; anything else a client sends is compared as Python's `str()` of it.
 * Numbers keep their JSON type: a `number` is an int when integral and a float otherwise,
 * a `PyFloat` is an integral float (`50.0`), a bigint an int beyond 2^53.
 */
export type TraitValue = string | number | boolean | null | bigint | PyFloat;

export interface IdentityContext {
  identifier: string;
  /** Hashing key; defaults to `<environment key>_<identifier>` when absent. */
  key?: string | null;
  /** A Map where the order of integer-like names matters (`$.identity.traits.*`). */
  traits?: PyDict<TraitValue> | null;
}

export interface FeatureValue {
  value: unknown;
  /** Percentage (0-100) of identities that get this value (`PyFloat`: an integral float). */
  weight: number | PyFloat | bigint;
  /** Lower goes first when laying out the cumulative weight ranges. */
  priority?: number | PyFloat | bigint | null;
  /** Stable variant key, reported as the flag result's `variant`. */
  key?: string | null;
}

export interface FeatureContext<M = Metadata> {
  /** Hashed with the identity key to pick a variant. */
  key: string;
  name: string;
  enabled: boolean;
  value: unknown;
  variants?: FeatureValue[] | null;
  /** Segment overrides only: lower wins. */
  priority?: number | PyFloat | bigint | null;
  metadata?: M | null;
}

export type ConditionOperator =
  | 'EQUAL'
  | 'NOT_EQUAL'
  | 'GREATER_THAN'
  | 'GREATER_THAN_INCLUSIVE'
  | 'LESS_THAN'
  | 'LESS_THAN_INCLUSIVE'
  | 'CONTAINS'
  | 'NOT_CONTAINS'
  | 'REGEX'
  | 'PERCENTAGE_SPLIT'
  | 'MODULO'
  | 'IS_SET'
  | 'IS_NOT_SET'
  | 'IN';

export type RuleType = 'ALL' | 'ANY' | 'NONE';

export interface SegmentCondition {
  /** A trait name, or a JSONPath into the context such as `$.identity.identifier`. */
  property?: string | null;
  operator: ConditionOperator;
  /** A string; `IN` also takes a JSON array (or a JSON-array string, or a comma list). */
  value?: string | string[] | null;
}

export interface SegmentRule {
  type: RuleType;
  conditions?: SegmentCondition[] | null;
  rules?: SegmentRule[] | null;
}

export interface SegmentContext<SM = Metadata, FM = Metadata> {
  key: string;
  name: string;
  rules: SegmentRule[];
  overrides?: FeatureContext<FM>[] | null;
  metadata?: SM | null;
}

export interface EvaluationContext<SM = Metadata, FM = Metadata> {
  environment: EnvironmentContext;
  identity?: IdentityContext | null;
  /** Keyed by feature name. */
  features?: PyDict<FeatureContext<FM>> | null;
  /**
   * Keyed by segment key, visited in order: a Map keeps any order, a plain object puts
   * integer-like keys first.
   */
  segments?: PyDict<SegmentContext<SM, FM>> | null;
}

export interface FlagResult<M = Metadata> {
  enabled: boolean;
  name: string;
  value: unknown;
  /** `DEFAULT`, `SPLIT; weight=<w>` or `TARGETING_MATCH; segment=<segment name>`. */
  reason: string;
  /** The winning variant's key (null when it has none), `control`, or null. */
  variant: string | null;
  metadata?: M;
}

export interface SegmentResult<M = Metadata> {
  name: string;
  metadata?: M;
}

export interface EvaluationResult<SM = Metadata, FM = Metadata> {
  /** Keyed by feature name. */
  flags: Record<string, FlagResult<FM>>;
  /** Matched segments, in context order. */
  segments: SegmentResult<SM>[];
}
