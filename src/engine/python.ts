/**
 * Python value semantics the reference engine (Flagsmith's Python `flag-engine`) relies on:
 * `int()` / `float()` parsing, `str()` / `repr()` formatting, truthiness, code-point string
 * ordering. Kept in one place so the evaluator reads like the reference.
 */

/**
 * A Python `float` whose value is integral (e.g. `1.0`). A plain JS number is read as a
 * Python `int` when `Number.isInteger` holds and as a `float` otherwise, so integral floats
 * need this box to keep their type (it changes `str()`, casting and `IN` matching).
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * A context value as the reference types it (`None | int | float | bool | str`):
 * - `null`: None
 * - `boolean`: bool
 * - `string`: str
 * - integral `number`, or `bigint` beyond 2^53: int
 * - non-integral `number` (incl. ±Infinity, NaN) or `PyFloat`: float
 */
export type PyValue = null | boolean | string | number | bigint | PyFloat;

export function isPyInt(v: PyValue): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** The numeric value of a JSON number as the engine holds it (number, `PyFloat`, bigint). */
export function pyNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** A JSON object as the engine accepts it: a plain object, or a Map where key order matters. */
export type PyDict<T> = Record<string, T> | ReadonlyMap<string, T>;

/** A dict's values in order. */
export function dictValues<T>(d: PyDict<T>): T[] {
  return d instanceof Map ? [...d.values()] : Object.values(d as Record<string, T>);
}

/** `d.get(key)`: undefined when absent. */
export function dictGet<T>(d: PyDict<T>, key: string): T | undefined {
  if (d instanceof Map) return d.get(key);
  const o = d as Record<string, T>;
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Python's `str.isspace()` characters, which `int()` / `float()` strip. */
const PY_WS = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const INT_RE = new RegExp(`^${PY_WS}*([+-]?)([0-9](?:_?[0-9])*)${PY_WS}*$`);
const FLOAT_RE = new RegExp(
  `^${PY_WS}*([+-]?(?:(?:[0-9](?:_?[0-9])*)?\\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?)${PY_WS}*$`,
);
const FLOAT_SPECIAL_RE = new RegExp(`^${PY_WS}*([+-]?)(inf|infinity|nan)${PY_WS}*$`, 'i');

/**
 * Unicode decimal digits (category Nd) as CPython 3.11 knows them (Unicode 14.0): `int()`
 * and `float()` read any of them. Runs of whole decimal sets `[first, last]`; JavaScript's
 * `\p{Nd}` follows a newer Unicode and would accept digits Python refuses.
 */
const PY_DECIMAL_RUNS: readonly (readonly [number, number])[] = [
  [0x660, 0x669], [0x6f0, 0x6f9], [0x7c0, 0x7c9], [0x966, 0x96f], [0x9e6, 0x9ef], [0xa66, 0xa6f],
  [0xae6, 0xaef], [0xb66, 0xb6f], [0xbe6, 0xbef], [0xc66, 0xc6f], [0xce6, 0xcef], [0xd66, 0xd6f],
  [0xde6, 0xdef], [0xe50, 0xe59], [0xed0, 0xed9], [0xf20, 0xf29], [0x1040, 0x1049], [0x1090,
  0x1099], [0x17e0, 0x17e9], [0x1810, 0x1819], [0x1946, 0x194f], [0x19d0, 0x19d9], [0x1a80,
  0x1a89], [0x1a90, 0x1a99], [0x1b50, 0x1b59], [0x1bb0, 0x1bb9], [0x1c40, 0x1c49], [0x1c50,
  0x1c59], [0xa620, 0xa629], [0xa8d0, 0xa8d9], [0xa900, 0xa909], [0xa9d0, 0xa9d9], [0xa9f0,
  0xa9f9], [0xaa50, 0xaa59], [0xabf0, 0xabf9], [0xff10, 0xff19], [0x104a0, 0x104a9], [0x10d30,
  0x10d39], [0x11066, 0x1106f], [0x110f0, 0x110f9], [0x11136, 0x1113f], [0x111d0, 0x111d9],
  [0x112f0, 0x112f9], [0x11450, 0x11459], [0x114d0, 0x114d9], [0x11650, 0x11659], [0x116c0,
  0x116c9], [0x11730, 0x11739], [0x118e0, 0x118e9], [0x11950, 0x11959], [0x11c50, 0x11c59],
  [0x11d50, 0x11d59], [0x11da0, 0x11da9], [0x16a60, 0x16a69], [0x16ac0, 0x16ac9], [0x16b50,
  0x16b59], [0x1d7ce, 0x1d7ff], [0x1e140, 0x1e149], [0x1e2f0, 0x1e2f9], [0x1e950, 0x1e959],
  [0x1fbf0, 0x1fbf9]
];

const PY_WS_CHAR = new RegExp(`^${PY_WS}$`);

/** The decimal value of a non-ASCII code point, or -1. */
function pyDecimal(cp: number): number {
  let lo = 0;
  let hi = PY_DECIMAL_RUNS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = PY_DECIMAL_RUNS[mid];
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return (cp - first) % 10;
  }
  return -1;
}

/**
 * What `int()` / `float()` parse after CPython's transform: Unicode digits become ASCII
 * digits, Unicode whitespace a space; any other non-ASCII character makes the parse fail.
 */
function asciiNumeric(s: string): string | undefined {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0x7f) out += ch;
    else if (PY_WS_CHAR.test(ch)) out += ' ';
    else {
      const d = pyDecimal(cp);
      if (d < 0) return undefined;
      out += String.fromCharCode(0x30 + d);
    }
  }
  return out;
}

/** Digits (no sign, no underscores) to an exact int: a number when safe, else a bigint. */
function digitsToInt(digits: string, negative: boolean): number | bigint {
  if (digits.length <= 15) {
    const n = Number(digits);
    return negative ? -n : n;
  }
  const b = BigInt(digits);
  const signed = negative ? -b : b;
  const n = Number(signed);
  return Number.isSafeInteger(n) ? n : signed;
}

/** Python `int(s)` for a str; `undefined` where Python raises ValueError. */
export function parsePyInt(text: string): number | bigint | undefined {
  const s = asciiNumeric(text);
  if (s === undefined) return undefined;
  const m = INT_RE.exec(s);
  if (m === null) return undefined;
  const digits = m[2].includes('_') ? m[2].replace(/_/g, '') : m[2];
  return digitsToInt(digits, m[1] === '-');
}

/** Python `float(s)` for a str; `undefined` where Python raises ValueError. */
export function parsePyFloat(text: string): number | undefined {
  const s = asciiNumeric(text);
  if (s === undefined) return undefined;
  const m = FLOAT_RE.exec(s);
  if (m !== null) {
    return Number(m[1].includes('_') ? m[1].replace(/_/g, '') : m[1]);
  }
  const sp = FLOAT_SPECIAL_RE.exec(s);
  if (sp === null) return undefined;
  const word = sp[2].toLowerCase();
  if (word === 'nan') return NaN;
  return sp[1] === '-' ? -Infinity : Infinity;
}

/**
 * The reference maps string context values that look like numbers to numbers
 * (`-?[0-9]+` → int, `-?[0-9]+\.[0-9]+` → float); other strings stay strings.
 */
export function mapStringValue(s: string): PyValue {
  const len = s.length;
  if (len === 0) return s;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) i = 1;
  const intStart = i;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === intStart) return s;
  if (i === len) return digitsToInt(s.slice(intStart), intStart === 1);
  if (s.charCodeAt(i) !== 46 /* . */) return s;
  i++;
  const fracStart = i;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return s;
    i++;
  }
  if (i === fracStart) return s;
  const f = Number(s);
  return Number.isInteger(f) ? new PyFloat(f) : f;
}

/** Python `repr(float)` (also its `str()`): shortest round-trip digits, Python's layout. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exp = x.toExponential(); // shortest round-trip digits, e.g. "-1.2345e+2"
  const ePos = exp.indexOf('e');
  const negative = exp.charCodeAt(0) === 45;
  const mantissa = exp.slice(negative ? 1 : 0, ePos);
  const e = Number(exp.slice(ePos + 1));
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa;
  let out: string;
  if (e < -4 || e >= 16) {
    const abs = Math.abs(e);
    out =
      digits[0] +
      (digits.length > 1 ? '.' + digits.slice(1) : '') +
      (e < 0 ? 'e-' : 'e+') +
      (abs < 10 ? '0' + abs : String(abs));
  } else if (e >= 0) {
    out =
      digits.length <= e + 1
        ? digits + '0'.repeat(e + 1 - digits.length) + '.0'
        : digits.slice(0, e + 1) + '.' + digits.slice(e + 1);
  } else {
    out = '0.' + '0'.repeat(-e - 1) + digits;
  }
  return negative ? '-' + out : out;
}

function intToStr(n: number): string {
  return Math.abs(n) < 1e21 ? String(n === 0 ? 0 : n) : BigInt(n).toString();
}

/** Python `str()` of a context value. */
export function pyStr(v: PyValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? intToStr(v) : pyFloatRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (v === null) return 'None';
  return pyFloatRepr(v.value);
}

function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a JSON value (used for containers nested in `str()`). */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v instanceof Map) {
    return '{' + [...v].map(([k, x]) => pyRepr(k) + ': ' + pyRepr(x)).join(', ') + '}';
  }
  if (v !== null && typeof v === 'object' && !(v instanceof PyFloat)) {
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => pyStrRepr(k) + ': ' + pyRepr(x))
        .join(', ') +
      '}'
    );
  }
  return pyStr(v === undefined ? null : (v as PyValue));
}

/** Python `str()` of an arbitrary JSON value (condition values, `IN` list members, ids). */
export function pyStrAny(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return 'None';
  if (typeof v === 'object' && !(v instanceof PyFloat)) return pyRepr(v);
  return pyStr(v as PyValue);
}

/** Python truthiness of a JSON value. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'object') {
    for (const _ in v) return true;
    return false;
  }
  return true; // non-zero numbers (NaN included), non-empty strings, True
}

/** Python string ordering: by code point (a lone surrogate is its own code point). */
export function pyStrCmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const ra = i < a.length;
  const rb = j < b.length;
  return ra === rb ? 0 : ra ? 1 : -1;
}
