/**
 * Pure flag evaluation engine, compatible with Flagsmith's flag engine
 * (`flag_engine.segments.evaluator.get_evaluation_result`) and checked against its public
 * conformance corpus (`test/fixtures/flagsmith-engine-test-data`).
 *
 * One-off:
 *
 *   const result = getEvaluationResult({ environment, identity, features, segments });
 *
 * Serving (many identities against one environment):
 *
 *   const env = prepareEnvironment({ environment, features, segments }); // per config version
 *   const result = env.evaluate(identity);          // all features, identity work done once
 *   const one = env.forIdentity(identity).flag(name); // or feature by feature
 *
 * Segments are visited in the context object's property order (JS puts integer-like keys
 * first, ascending): that order lists matched segments and breaks override priority ties.
 *
 * No I/O; the only module state is bounded caches keyed by pattern text (compiled regexes,
 * JSONPaths, parsed IN lists), which cannot change results.
 */
import { evaluateContext, PreparedEnvironment } from './evaluator.js';
import type { EvaluationContext, EvaluationResult } from './types.js';

export type {
  ConditionOperator,
  EnvironmentContext,
  EvaluationContext,
  EvaluationResult,
  FeatureContext,
  FeatureValue,
  FlagResult,
  IdentityContext,
  Metadata,
  RuleType,
  SegmentCondition,
  SegmentContext,
  SegmentResult,
  SegmentRule,
  TraitValue,
} from './types.js';
export { IdentityEvaluation, PreparedEnvironment, REASON_DEFAULT, VARIANT_CONTROL } from './evaluator.js';
export { PyFloat } from './python.js';
export { getHashedPercentageForObjectIds } from './hashing.js';

/** Evaluate every feature of `context` for `context.identity` (or for no identity). */
export function getEvaluationResult<SM = Record<string, unknown>, FM = Record<string, unknown>>(
  context: EvaluationContext<SM, FM>,
): EvaluationResult<SM, FM> {
  return evaluateContext(context as EvaluationContext<unknown, unknown>) as EvaluationResult<SM, FM>;
}

/**
 * Compile an environment (its `environment`, `features` and `segments`; any `identity` is
 * ignored) for evaluating many identities. Rebuild it when the environment changes.
 */
export function prepareEnvironment(context: EvaluationContext<unknown, unknown>): PreparedEnvironment {
  return new PreparedEnvironment(context);
}
export { MAX_CONDITIONS, MAX_RULE_DEPTH, validateSegmentRules, type SegmentRuleProblem } from './validate.js';
