/**
 * Segment condition operators, following `flag_engine/segments/evaluator.py`.
 *
 * Context values are typed as the reference types them (see `python.ts`): numeric-looking
 * strings become numbers, and the condition's string value is cast to the context value's
 * type before comparing (`bool`: anything but "False"/"false" is true; `int`/`float`: Python
 * parsing, failure means no match; `str` with a `:semver` suffix on the condition value:
 * semantic-version comparison).
 *
 * Numbers keep their JSON type (see `types.ts`): an int trait never compares with a
 * condition value `int()` refuses.
 */
import { hashedPercentageForPair } from './hashing.js';
import {
  PyFloat,
  isPyInt,
  parsePyFloat,
  parsePyInt,
  pyFloatRepr,
  pyRepr,
  pyStr,
  pyStrAny,
  pyStrCmp,
  pyTruthy,
  type PyValue,
} from './python.js';
import { pythonRegexMatch } from './pyregex.js';
import { compareSemver, parseSemver, semverContains, SEMVER_SUFFIX, type SemVer } from './semver.js';

export const OP_EQUAL = 0;
export const OP_NOT_EQUAL = 1;
export const OP_GREATER_THAN = 2;
export const OP_GREATER_THAN_INCLUSIVE = 3;
export const OP_LESS_THAN = 4;
export const OP_LESS_THAN_INCLUSIVE = 5;
export const OP_CONTAINS = 6;
export const OP_NOT_CONTAINS = 7;
export const OP_REGEX = 8;
export const OP_PERCENTAGE_SPLIT = 9;
export const OP_MODULO = 10;
export const OP_IS_SET = 11;
export const OP_IS_NOT_SET = 12;
export const OP_IN = 13;
export const OP_UNKNOWN = 14;

const OPERATORS: Record<string, number> = {
  EQUAL: OP_EQUAL,
  NOT_EQUAL: OP_NOT_EQUAL,
  GREATER_THAN: OP_GREATER_THAN,
  GREATER_THAN_INCLUSIVE: OP_GREATER_THAN_INCLUSIVE,
  LESS_THAN: OP_LESS_THAN,
  LESS_THAN_INCLUSIVE: OP_LESS_THAN_INCLUSIVE,
  CONTAINS: OP_CONTAINS,
  NOT_CONTAINS: OP_NOT_CONTAINS,
  REGEX: OP_REGEX,
  PERCENTAGE_SPLIT: OP_PERCENTAGE_SPLIT,
  MODULO: OP_MODULO,
  IS_SET: OP_IS_SET,
  IS_NOT_SET: OP_IS_NOT_SET,
  IN: OP_IN,
};

export function operatorCode(operator: unknown): number {
  return typeof operator === 'string' && Object.hasOwn(OPERATORS, operator) ? OPERATORS[operator] : OP_UNKNOWN;
}

const UNSET = Symbol('unset');

const MAX_IN_CACHE = 1024;
const inCache = new Map<string, ReadonlySet<string>>();
type Lazy<T> = T | typeof UNSET;

/**
 * The condition's value, with the parses the operators need computed once, on first use.
 * Holds no per-identity state.
 */
export class ConditionValue {
  private intValue: Lazy<number | bigint | undefined> = UNSET;
  private floatValue: Lazy<number | undefined> = UNSET;
  private semverValue: Lazy<SemVer | undefined> = UNSET;
  private inValues: Lazy<ReadonlySet<string>> = UNSET;
  private moduloValue: Lazy<readonly [number, number] | undefined> = UNSET;

  constructor(readonly raw: unknown) {}

  /** Python `int(value)`; undefined where it raises. */
  asInt(): number | bigint | undefined {
    if (this.intValue === UNSET) this.intValue = castInt(this.raw);
    return this.intValue;
  }

  /** Python `float(value)`; undefined where it raises. */
  asFloat(): number | undefined {
    if (this.floatValue === UNSET) this.floatValue = castFloat(this.raw);
    return this.floatValue;
  }

  /** The condition value without its `:semver` suffix, parsed. */
  asSemver(): SemVer | undefined {
    if (this.semverValue === UNSET) {
      this.semverValue = typeof this.raw === 'string' ? parseSemver(this.raw.slice(0, -SEMVER_SUFFIX.length)) : undefined;
    }
    return this.semverValue;
  }

  /** The `IN` list, each member as Python `str()`. */
  asInValues(): ReadonlySet<string> {
    if (this.inValues === UNSET) {
      const raw = this.raw;
      if (typeof raw === 'string') {
        // Keyed by the string itself, so sharing across contexts is always safe.
        let set = inCache.get(raw);
        if (set === undefined) {
          set = new Set(parseInValues(raw));
          if (inCache.size >= MAX_IN_CACHE) inCache.delete(inCache.keys().next().value as string);
          inCache.set(raw, set);
        }
        this.inValues = set;
      } else this.inValues = new Set(parseInValues(raw));
    }
    return this.inValues;
  }

  /** `divisor|remainder`, both Python floats. */
  asModulo(): readonly [number, number] | undefined {
    if (this.moduloValue === UNSET) this.moduloValue = parseModulo(this.raw);
    return this.moduloValue;
  }
}

function castInt(v: unknown): number | bigint | undefined {
  if (typeof v === 'string') return parsePyInt(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'bigint') return v;
  if (v instanceof PyFloat) return Number.isFinite(v.value) ? Math.trunc(v.value) : undefined;
  return undefined;
}

function castFloat(v: unknown): number | undefined {
  if (typeof v === 'string') return parsePyFloat(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof PyFloat) return v.value;
  return undefined;
}

function parseModulo(v: unknown): readonly [number, number] | undefined {
  if (!pyTruthy(v) || typeof v !== 'string') return undefined;
  const parts = v.split('|');
  if (parts.length !== 2) return undefined;
  const divisor = parsePyFloat(parts[0]);
  const remainder = parsePyFloat(parts[1]);
  if (divisor === undefined || remainder === undefined) return undefined;
  return [divisor, remainder];
}

const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|-?Infinity|NaN/g;

/** Python's `json.loads` also reads `NaN`, `Infinity` and `-Infinity`: as numbers here. */
function withoutNonFinite(raw: string): string {
  return raw.replace(JSON_TOKEN, (t) => (t === 'NaN' || t === 'Infinity' || t === '-Infinity' ? '0' : t));
}

function containsObject(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsObject);
  return v !== null && typeof v === 'object';
}

function countNumbers(v: unknown): number {
  if (typeof v === 'number') return 1;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countNumbers(x), 0);
  return 0;
}

/** Python `str()` of a number from its JSON lexeme (`1.0` stays `1.0`, big ints stay exact). */
function strOfJsonNumber(lexeme: string): string {
  if (lexeme === 'NaN') return 'nan';
  if (lexeme === 'Infinity') return 'inf';
  if (lexeme === '-Infinity') return '-inf';
  return /[.eE]/.test(lexeme) ? pyFloatRepr(Number(lexeme)) : BigInt(lexeme).toString();
}

/**
 * `IN` values: a JSON array as is; a string holding a JSON array; otherwise the string
 * split on ",". Members compare as Python `str()`.
 */
export function parseInValues(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(pyStrAny);
  if (typeof raw !== 'string') return []; // the reference raises (json.loads of a non-str)
  if (!raw.startsWith('[')) return raw.split(',');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    try {
      parsed = JSON.parse(withoutNonFinite(raw));
    } catch {
      return raw.split(',');
    }
  }
  if (!Array.isArray(parsed)) return raw.split(',');
  let lexemes: string[] | null = null;
  if (!containsObject(parsed)) {
    lexemes = [];
    for (const m of raw.matchAll(JSON_TOKEN)) if (m[0][0] !== '"') lexemes.push(m[0]);
  }
  const out: string[] = [];
  let next = 0;
  for (const v of parsed) {
    if (typeof v === 'number' && lexemes !== null) out.push(strOfJsonNumber(lexemes[next++]));
    else {
      if (lexemes !== null) next += countNumbers(v);
      out.push(Array.isArray(v) ? pyRepr(v) : pyStrAny(v));
    }
  }
  return out;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Python `needle in hay`: by code point, so half of a surrogate pair is not found. */
export function pyContains(hay: string, needle: string): boolean {
  if (needle.length === 0) return true;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    const end = i + needle.length;
    const splitsStart = i > 0 && isHigh(hay.charCodeAt(i - 1)) && isLow(hay.charCodeAt(i));
    const splitsEnd = end < hay.length && isHigh(hay.charCodeAt(end - 1)) && isLow(hay.charCodeAt(end));
    if (!splitsStart && !splitsEnd) return true;
  }
  return false;
}

/** Python float `%` (sign of the divisor). */
function pyMod(a: number, b: number): number {
  const m = a % b;
  if (m !== 0) return b < 0 !== m < 0 ? m + b : m;
  return b < 0 ? -0 : 0;
}

function compareResult(op: number, c: number): boolean {
  switch (op) {
    case OP_EQUAL:
      return c === 0;
    case OP_NOT_EQUAL:
      return c !== 0;
    case OP_GREATER_THAN:
      return c > 0;
    case OP_GREATER_THAN_INCLUSIVE:
      return c >= 0;
    case OP_LESS_THAN:
      return c < 0;
    case OP_LESS_THAN_INCLUSIVE:
      return c <= 0;
    default:
      return false;
  }
}

function compareNumbers(op: number, a: number | bigint, b: number | bigint): boolean {
  switch (op) {
    case OP_EQUAL:
      return a == b;
    case OP_NOT_EQUAL:
      return a != b;
    case OP_GREATER_THAN:
      return a > b;
    case OP_GREATER_THAN_INCLUSIVE:
      return a >= b;
    case OP_LESS_THAN:
      return a < b;
    case OP_LESS_THAN_INCLUSIVE:
      return a <= b;
    default:
      return false;
  }
}

function compareStrings(op: number, a: string, b: string): boolean {
  switch (op) {
    case OP_EQUAL:
      return a === b;
    case OP_NOT_EQUAL:
      return a !== b;
    case OP_CONTAINS:
      return pyContains(a, b);
    default:
      return compareResult(op, pyStrCmp(a, b));
  }
}

/**
 * EQUAL, NOT_EQUAL, GREATER_THAN(_INCLUSIVE), LESS_THAN(_INCLUSIVE), CONTAINS: the
 * condition value cast to the context value's type (`_context_value_typed`).
 */
function matchTyped(op: number, cv: Exclude<PyValue, null>, value: ConditionValue): boolean {
  if (typeof cv === 'string') {
    const raw = value.raw;
    if (typeof raw !== 'string') {
      // Compared as str(value) (`None`, `['a', 'b']`); a number or bool value makes the
      // reference's is_semver() raise (no match).
      if (raw === null || raw === undefined || Array.isArray(raw)) return compareStrings(op, cv, pyStrAny(raw));
      return false;
    }
    if (raw.endsWith(SEMVER_SUFFIX)) {
      const version = parseSemver(cv);
      if (version === undefined) return false;
      if (op === OP_CONTAINS) return semverContains(version, raw.slice(0, -SEMVER_SUFFIX.length));
      const other = value.asSemver();
      return other !== undefined && compareResult(op, compareSemver(version, other));
    }
    return compareStrings(op, cv, raw);
  }
  if (op === OP_CONTAINS) return false; // `x in <bool|int|float>` raises TypeError
  if (typeof cv === 'boolean') {
    const raw = value.raw;
    const b = !(raw === 'False' || raw === 'false');
    return compareNumbers(op, +cv, +b);
  }
  if (isPyInt(cv)) {
    const n = value.asInt();
    return n !== undefined && compareNumbers(op, cv, n);
  }
  const f = value.asFloat();
  return f !== undefined && compareNumbers(op, cv instanceof PyFloat ? cv.value : cv, f);
}

/**
 * Whether a condition holds (`context_matches_condition` after the context value is
 * found). `cv` is the property's context value, null when unset.
 */
export function matchCondition(op: number, cv: PyValue, value: ConditionValue, segmentKey: string): boolean {
  switch (op) {
    case OP_IS_SET:
      return cv !== null;
    case OP_IS_NOT_SET:
      return cv === null;
    case OP_IN: {
      let s: string;
      if (typeof cv === 'string') s = cv;
      else if (isPyInt(cv)) s = pyStr(cv);
      else return false; // None, bool and float never equal a str
      return value.asInValues().has(s);
    }
    case OP_PERCENTAGE_SPLIT: {
      if (cv === null) return false;
      const threshold = value.asFloat();
      return threshold !== undefined && hashedPercentageForPair(segmentKey, pyStr(cv)) <= threshold;
    }
    default:
      break;
  }
  if (cv === null) return false;
  switch (op) {
    case OP_NOT_CONTAINS:
      return typeof cv === 'string' && !pyContains(cv, pyStrAny(value.raw));
    case OP_REGEX:
      return pythonRegexMatch(pyStrAny(value.raw), pyStr(cv));
    case OP_MODULO: {
      if (typeof cv === 'string') return false;
      const mod = value.asModulo();
      if (mod === undefined || mod[0] === 0) return false; // the reference raises on a zero divisor
      const x = cv instanceof PyFloat ? cv.value : Number(cv);
      return pyMod(x, mod[0]) === mod[1];
    }
    case OP_UNKNOWN:
      return false;
    default:
      return matchTyped(op, cv, value);
  }
}
