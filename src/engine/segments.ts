/**
 * Segment membership: rules, conditions and context values, following
 * `flag_engine/segments/evaluator.py` (`is_context_in_segment`, `context_matches_rule`,
 * `context_matches_condition`, `get_context_value`).
 */
import { compileJsonPath, findFirst, type CompiledPath } from './jsonpath.js';
import { ConditionValue, matchCondition, OP_PERCENTAGE_SPLIT, operatorCode } from './operators.js';
import { dictGet, mapStringValue, PyFloat, pyRepr, pyStrAny, pyTruthy, type PyDict, type PyValue } from './python.js';
import type {
  EnvironmentContext,
  EvaluationContext,
  IdentityContext,
  Metadata,
  SegmentCondition,
  SegmentContext,
  SegmentRule,
} from './types.js';

/** Per-evaluation (per-identity) state shared by every segment and feature. */
export class IdentityState {
  /** Hashing key: `identity.key`, or `<environment key>_<identifier>`. */
  readonly identityKey: string | null;
  readonly traits: PyDict<unknown> | null;
  private effectiveIdentity: IdentityContext | null;
  private root: unknown = undefined;

  constructor(
    private readonly base: EvaluationContext<unknown, unknown>,
    readonly environment: EnvironmentContext,
    readonly identity: IdentityContext | null,
  ) {
    if (identity === null) {
      this.identityKey = null;
      this.traits = null;
      this.effectiveIdentity = null;
    } else {
      const key = identity.key;
      if (!pyTruthy(key)) {
        this.identityKey = pyStrAny(environment.key) + '_' + pyStrAny(identity.identifier);
        this.effectiveIdentity = null; // built on demand (JSONPath only)
      } else {
        this.identityKey = pyStrAny(key);
        this.effectiveIdentity = identity;
      }
      const traits = identity.traits;
      this.traits = traits !== null && typeof traits === 'object' ? traits : null;
    }
  }

  /** The identity as JSONPath sees it: with its (possibly defaulted) `key`. */
  identityForPath(): IdentityContext | null {
    if (this.identity === null) return null;
    if (this.effectiveIdentity === null) this.effectiveIdentity = { ...this.identity, key: this.identityKey };
    return this.effectiveIdentity;
  }

  /** The whole context as JSONPath sees it. */
  rootForPath(): unknown {
    if (this.root === undefined) {
      const identity = this.identityForPath();
      this.root =
        this.base.identity === identity && this.base.environment === this.environment
          ? this.base
          : { ...this.base, environment: this.environment, identity };
    }
    return this.root;
  }

  /** `traits.get(name)`: undefined when absent. */
  trait(name: string): unknown {
    const traits = this.traits;
    return traits !== null ? dictGet(traits, name) : undefined;
  }
}

/** `map_any_value_to_context_value`: numeric-looking strings become numbers. */
export function toContextValue(v: unknown): PyValue {
  switch (typeof v) {
    case 'string':
      return mapStringValue(v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return v;
    case 'undefined':
      return null;
    default:
      return v === null ? null : v instanceof PyFloat ? v : pyRepr(v);
  }
}

/** JSONPath results count only when they are scalars (`is_context_value`). */
function isScalar(v: unknown): boolean {
  const t = typeof v;
  return v === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint' || v instanceof PyFloat;
}

/** PERCENTAGE_SPLIT without a property: it hashes the identity key. */
const PROP_IDENTITY_KEY = 0;
const PROP_TRAIT = 1;
const PROP_PATH = 2;
/** Not a string: the reference raises; never matches. */
const PROP_INVALID = 3;

const MAX_PATH_CACHE = 512;
const pathCache = new Map<string, CompiledPath | null>();

function compilePathCached(property: string): CompiledPath | null {
  let path = pathCache.get(property);
  if (path === undefined) {
    path = compileJsonPath(property);
    if (pathCache.size >= MAX_PATH_CACHE) pathCache.delete(pathCache.keys().next().value as string);
    pathCache.set(property, path);
  }
  return path;
}

export class CompiledCondition {
  readonly op: number;
  readonly propertyKind: number;
  readonly property: string;
  readonly path: CompiledPath | null;
  readonly value: ConditionValue;

  constructor(condition: SegmentCondition) {
    this.op = operatorCode(condition.operator);
    const property = condition.property;
    this.property = typeof property === 'string' ? property : '';
    this.path = null;
    if (this.op === OP_PERCENTAGE_SPLIT && !pyTruthy(property)) {
      this.propertyKind = PROP_IDENTITY_KEY;
    } else if (typeof property !== 'string') {
      this.propertyKind = PROP_INVALID;
    } else if (property.startsWith('$.')) {
      // Not a valid JSONPath: the property is a trait name after all.
      this.path = compilePathCached(property);
      this.propertyKind = this.path === null ? PROP_TRAIT : PROP_PATH;
    } else {
      this.propertyKind = PROP_TRAIT;
    }
    this.value = new ConditionValue(condition.value);
  }

  /**
   * The property's value before `map_any_value_to_context_value` (undefined: None):
   * the trait, or the first JSONPath match when it is a scalar.
   */
  rawContextValue(state: IdentityState): unknown {
    if (this.propertyKind === PROP_TRAIT) return state.trait(this.property);
    // A trait named like the JSONPath wins over the path.
    const trait = state.trait(this.property);
    if (trait !== undefined && trait !== null) return trait;
    const path = this.path!;
    let found: { value: unknown } | undefined;
    if (path.head === 'identity') {
      const identity = state.identityForPath();
      found = identity === null ? undefined : findFirst(path, identity, 1);
    } else if (path.head === 'environment') {
      found = findFirst(path, state.environment, 1);
    } else {
      found = findFirst(path, state.rootForPath());
    }
    return found !== undefined && isScalar(found.value) ? found.value : undefined;
  }

  matches(state: IdentityState, segmentKey: string): boolean {
    switch (this.propertyKind) {
      case PROP_IDENTITY_KEY:
        return matchCondition(this.op, state.identityKey, this.value, segmentKey);
      case PROP_INVALID:
        return false;
      default:
        return matchCondition(this.op, toContextValue(this.rawContextValue(state)), this.value, segmentKey);
    }
  }
}

const RULE_ALL = 0;
const RULE_ANY = 1;
const RULE_NONE = 2;
const RULE_UNKNOWN = 3;

function ruleTypeCode(type: unknown): number {
  return type === 'ALL' ? RULE_ALL : type === 'ANY' ? RULE_ANY : type === 'NONE' ? RULE_NONE : RULE_UNKNOWN;
}

export class CompiledRule {
  readonly type: number;
  readonly conditions: readonly CompiledCondition[];
  readonly rules: readonly CompiledRule[];

  constructor(rule: SegmentRule) {
    this.type = ruleTypeCode(rule.type);
    this.conditions = (rule.conditions ?? []).map((c) => new CompiledCondition(c));
    this.rules = (rule.rules ?? []).map((r) => new CompiledRule(r));
  }

  /**
   * `context_matches_rule`: the rule type (ALL / ANY / NONE) over its conditions, and the
   * rule type over its sub-rules; each part holds when empty, and both must hold.
   */
  matches(state: IdentityState, segmentKey: string): boolean {
    const conditions = this.conditions;
    if (conditions.length > 0 && !this.combine(conditions, state, segmentKey)) return false;
    const rules = this.rules;
    return rules.length === 0 || this.combine(rules, state, segmentKey);
  }

  private combine(
    parts: readonly (CompiledCondition | CompiledRule)[],
    state: IdentityState,
    segmentKey: string,
  ): boolean {
    const n = parts.length;
    switch (this.type) {
      case RULE_ALL:
        for (let i = 0; i < n; i++) if (!parts[i].matches(state, segmentKey)) return false;
        return true;
      case RULE_ANY:
        for (let i = 0; i < n; i++) if (parts[i].matches(state, segmentKey)) return true;
        return false;
      case RULE_NONE:
        for (let i = 0; i < n; i++) if (parts[i].matches(state, segmentKey)) return false;
        return true;
      default:
        return false; // unknown rule type: the reference raises
    }
  }
}

export class CompiledSegment {
  /** `str(segment key)`, hashed by PERCENTAGE_SPLIT. */
  readonly key: string;
  readonly name: string;
  readonly metadata: Metadata | undefined;
  readonly rules: readonly CompiledRule[];
  readonly reason: string;

  constructor(readonly context: SegmentContext<unknown, unknown>) {
    this.key = pyStrAny(context.key);
    this.name = context.name;
    this.metadata = pyTruthy(context.metadata) ? (context.metadata as Metadata) : undefined;
    this.rules = (context.rules ?? []).map((r) => new CompiledRule(r));
    this.reason = 'TARGETING_MATCH; segment=' + pyStrAny(context.name);
  }

  /** `is_context_in_segment`: at least one rule, and every rule matches. */
  matches(state: IdentityState): boolean {
    const rules = this.rules;
    if (rules.length === 0) return false;
    for (let i = 0; i < rules.length; i++) if (!rules[i].matches(state, this.key)) return false;
    return true;
  }
}
