/**
 * `get_evaluation_result`: matched segments, segment overrides, multivariate splits.
 *
 * - Segments are evaluated in context order; every matched one is listed in the result.
 * - A matched segment's override replaces the feature (matched by feature name) when its
 *   `priority` is strictly lower than the override chosen so far (absent: +infinity), so
 *   on a tie the first matched segment in context order wins.
 * - The chosen feature context (the environment default or the override) is then split:
 *   with an identity and variants, md5 of `"<feature context key>,<identity key>"` picks
 *   the variant whose cumulative range `[start, start + weight)` (variants by priority)
 *   holds it: its value, reason `SPLIT; weight=<weight>`, `variant` its key (or null). No
 *   range holds it: the context's own value and reason, `variant` "control". Without an
 *   identity or variants: `variant` null, reason `DEFAULT` (or `TARGETING_MATCH; segment=…`
 *   for an override).
 */
import { hashedPercentageForPair } from './hashing.js';
import { dictValues, pyFloatRepr, pyNumber, PyFloat, pyStrAny, pyTruthy } from './python.js';
import { CompiledSegment, IdentityState } from './segments.js';
import type {
  EnvironmentContext,
  EvaluationContext,
  EvaluationResult,
  FeatureContext,
  FeatureValue,
  FlagResult,
  IdentityContext,
  Metadata,
  SegmentResult,
} from './types.js';

export const REASON_DEFAULT = 'DEFAULT';
export const VARIANT_CONTROL = 'control';

/** Python `str()` of a weight as the reason shows it (`30`, `54.54`, `1e-05`). */
export function formatWeight(weight: unknown): string {
  if (weight instanceof PyFloat) return pyFloatRepr(weight.value);
  if (typeof weight === 'number') {
    return Number.isInteger(weight) && Math.abs(weight) < 1e21 ? String(weight) : pyFloatRepr(weight);
  }
  return pyStrAny(weight);
}

/** A weight's numeric value (`PyFloat` and bigint included); NaN when not a number. */
function weightValue(weight: unknown): number {
  return pyNumber(weight) ?? NaN;
}

class CompiledVariant {
  private splitReason: string | null = null;

  constructor(
    readonly lower: number,
    readonly upper: number,
    readonly weight: unknown,
    readonly value: unknown,
    readonly key: string | null,
  ) {}

  /** `SPLIT; weight=<weight>`, built on first use. */
  get reason(): string {
    return (this.splitReason ??= 'SPLIT; weight=' + formatWeight(this.weight));
  }
}

function priorityOf(v: { priority?: unknown }): number {
  return pyNumber(v.priority) ?? Infinity;
}

/** Variants in priority order (stable); the array itself when already in order. */
function variantsByPriority(variants: readonly FeatureValue[]): readonly FeatureValue[] {
  for (let i = 1; i < variants.length; i++) {
    if (priorityOf(variants[i]) < priorityOf(variants[i - 1])) {
      return [...variants].sort((a, b) => {
        const pa = priorityOf(a);
        const pb = priorityOf(b);
        return pa < pb ? -1 : pa > pb ? 1 : 0;
      });
    }
  }
  return variants;
}

function variantKey(v: FeatureValue): string | null {
  const key = v.key;
  return typeof key === 'string' ? key : key === undefined || key === null ? null : pyStrAny(key);
}

function compileVariants(variants: readonly FeatureValue[] | null | undefined): CompiledVariant[] | null {
  if (!Array.isArray(variants) || variants.length === 0) return null;
  const out: CompiledVariant[] = [];
  let start = 0;
  for (const v of variantsByPriority(variants)) {
    const weight = v.weight;
    const limit = weightValue(weight) + start;
    out.push(new CompiledVariant(start, limit, weight, v.value, variantKey(v)));
    start = limit;
  }
  return out;
}

/**
 * `get_flag_result_from_feature_context` straight from a feature context (one-off
 * evaluations; `CompiledFeatureContext.result` is the same for prepared environments).
 */
export function flagFromFeatureContext(
  fc: FeatureContext<unknown>,
  identityKey: string | null,
  reason: string,
): FlagResult {
  let value: unknown = fc.value === undefined ? null : fc.value;
  let variant: string | null = null;
  const variants = fc.variants;
  if (identityKey !== null && Array.isArray(variants) && variants.length > 0) {
    const percentage = hashedPercentageForPair(pyStrAny(fc.key), identityKey);
    variant = VARIANT_CONTROL;
    let start = 0;
    for (const v of variantsByPriority(variants)) {
      const limit = weightValue(v.weight) + start;
      if (start <= percentage && percentage < limit) {
        value = v.value;
        reason = 'SPLIT; weight=' + formatWeight(v.weight);
        variant = variantKey(v);
        break;
      }
      start = limit;
    }
  }
  const flag: FlagResult = { enabled: fc.enabled, name: fc.name, value, reason, variant };
  if (pyTruthy(fc.metadata)) flag.metadata = fc.metadata as Metadata;
  return flag;
}

/** `get_evaluation_result` for one context, without preparing the environment. */
export function evaluateContext(context: EvaluationContext<unknown, unknown>): EvaluationResult {
  const state = new IdentityState(context, context.environment, context.identity ?? null);
  const segments: SegmentResult[] = [];
  let chosen: Map<string, { fc: FeatureContext<unknown>; priority: number; reason: string }> | null = null;
  if (context.segments) {
    for (const segmentContext of dictValues(context.segments)) {
      const segment = new CompiledSegment(segmentContext);
      if (!segment.matches(state)) continue;
      segments.push(segment.metadata === undefined ? { name: segment.name } : { name: segment.name, metadata: segment.metadata });
      const overrides = segmentContext.overrides;
      if (!Array.isArray(overrides)) continue;
      for (const o of overrides) {
        chosen ??= new Map();
        const current = chosen.get(o.name);
        const priority = priorityOf(o);
        if (current === undefined || priority < current.priority) chosen.set(o.name, { fc: o, priority, reason: segment.reason });
      }
    }
  }
  const flags: Record<string, FlagResult> = {};
  if (context.features) {
    for (const fc of dictValues(context.features)) {
      const o = chosen === null ? undefined : chosen.get(fc.name);
      flags[fc.name] =
        o === undefined
          ? flagFromFeatureContext(fc, state.identityKey, REASON_DEFAULT)
          : flagFromFeatureContext(o.fc, state.identityKey, o.reason);
    }
  }
  return { flags, segments };
}

/** A feature context (environment default or segment override) ready to evaluate. */
class CompiledFeatureContext {
  readonly name: string;
  readonly enabled: boolean;
  readonly value: unknown;
  readonly hashKey: string;
  readonly variants: readonly CompiledVariant[] | null;
  readonly metadata: Metadata | undefined;

  constructor(fc: FeatureContext<unknown>) {
    this.name = fc.name;
    this.enabled = fc.enabled;
    this.value = fc.value === undefined ? null : fc.value;
    this.hashKey = pyStrAny(fc.key);
    this.variants = compileVariants(fc.variants);
    this.metadata = pyTruthy(fc.metadata) ? (fc.metadata as Metadata) : undefined;
  }

  /** `get_flag_result_from_feature_context` */
  result(identityKey: string | null, reason: string): FlagResult {
    let value = this.value;
    let variant: string | null = null;
    const variants = this.variants;
    if (identityKey !== null && variants !== null) {
      const percentage = hashedPercentageForPair(this.hashKey, identityKey);
      variant = VARIANT_CONTROL;
      for (let i = 0; i < variants.length; i++) {
        const v = variants[i];
        if (v.lower <= percentage && percentage < v.upper) {
          value = v.value;
          reason = v.reason;
          variant = v.key;
          break;
        }
      }
    }
    const flag: FlagResult = { enabled: this.enabled, name: this.name, value, reason, variant };
    if (this.metadata !== undefined) flag.metadata = this.metadata;
    return flag;
  }
}

interface OverrideCandidate {
  readonly segmentIndex: number;
  readonly priority: number;
  readonly reason: string;
  readonly feature: CompiledFeatureContext;
}

class CompiledFeature {
  readonly base: CompiledFeatureContext;
  /** Overrides for this feature, best first: lowest priority, then context order. */
  candidates: OverrideCandidate[] | null = null;

  constructor(readonly name: string, fc: FeatureContext<unknown>) {
    this.base = new CompiledFeatureContext(fc);
  }

  result(state: IdentityState, matched: Uint8Array): FlagResult {
    const candidates = this.candidates;
    if (candidates !== null) {
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i];
        if (matched[c.segmentIndex] === 1) return c.feature.result(state.identityKey, c.reason);
      }
    }
    return this.base.result(state.identityKey, REASON_DEFAULT);
  }
}

/** One identity against a prepared environment: segment matches computed once. */
export class IdentityEvaluation {
  /** `matched[i] === 1` when segment i (context order) matched. */
  private readonly matched: Uint8Array;
  /** Matched segments, in context order. */
  readonly segments: SegmentResult[];

  constructor(
    private readonly env: PreparedEnvironment,
    readonly state: IdentityState,
  ) {
    const segs = env.segmentList;
    this.matched = new Uint8Array(segs.length);
    this.segments = [];
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      if (seg.matches(state)) {
        this.matched[i] = 1;
        this.segments.push(seg.metadata === undefined ? { name: seg.name } : { name: seg.name, metadata: seg.metadata });
      }
    }
  }

  /** The flag for one feature (by name), or undefined when the environment has none. */
  flag(featureName: string): FlagResult | undefined {
    const f = this.env.featureByName.get(featureName);
    return f === undefined ? undefined : f.result(this.state, this.matched);
  }

  /** Flags for every feature of the environment, keyed by feature name. */
  flags(): Record<string, FlagResult> {
    const out: Record<string, FlagResult> = {};
    const features = this.env.featureList;
    for (let i = 0; i < features.length; i++) {
      const f = features[i];
      out[f.name] = f.result(this.state, this.matched);
    }
    return out;
  }

  result(): EvaluationResult {
    return { flags: this.flags(), segments: this.segments };
  }
}

/**
 * An environment's features and segments compiled once (variants sorted, condition
 * values parsed, overrides indexed by feature), to evaluate many identities.
 *
 * It reads the context when built: build a new one when the environment changes.
 */
export class PreparedEnvironment {
  readonly environment: EnvironmentContext;
  /** @internal Segments in context order. */
  readonly segmentList: readonly CompiledSegment[];
  /** @internal Features in context order. */
  readonly featureList: readonly CompiledFeature[];
  /** @internal */
  readonly featureByName: ReadonlyMap<string, CompiledFeature>;

  constructor(private readonly context: EvaluationContext<unknown, unknown>) {
    this.environment = context.environment;
    const segments = context.segments ? dictValues(context.segments) : [];
    this.segmentList = segments.map((s) => new CompiledSegment(s));

    const features = context.features ? dictValues(context.features) : [];
    const byName = new Map<string, CompiledFeature>();
    for (const fc of features) byName.set(fc.name, new CompiledFeature(fc.name, fc)); // last one wins, as in a dict
    this.featureByName = byName;
    this.featureList = [...byName.values()];

    segments.forEach((segment, segmentIndex) => {
      const overrides = segment.overrides;
      if (!Array.isArray(overrides)) return;
      const reason = this.segmentList[segmentIndex].reason;
      for (const o of overrides) {
        const feature = byName.get(o.name);
        if (feature === undefined) continue;
        (feature.candidates ??= []).push({
          segmentIndex,
          priority: priorityOf(o),
          reason,
          feature: new CompiledFeatureContext(o),
        });
      }
    });
    for (const f of this.featureList) {
      // Stable: equal priorities keep context order (segment, then override).
      f.candidates?.sort((a, b) => (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0));
    }
  }

  /** Identity-level work (key, segment matches) once; features on demand. */
  forIdentity(identity?: IdentityContext | null): IdentityEvaluation {
    return new IdentityEvaluation(this, new IdentityState(this.context, this.environment, identity ?? null));
  }

  /** The evaluation result for one identity (or none) across every feature. */
  evaluate(identity?: IdentityContext | null): EvaluationResult {
    return this.forIdentity(identity).result();
  }
}
