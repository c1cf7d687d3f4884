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

export function isPyFloat(v: PyValue): v is number | PyFloat {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** Python's `str.isspace()` characters, which `int()` / `float()` strip. */
const PY_WS = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const INT_RE = new RegExp(`^${PY_WS}*([+-]?)([0-9](?:_?[0-9])*)${PY_WS}*$`);
const FLOAT_RE = new RegExp(
  `^${PY_WS}*([+-]?(?:(?:[0-9](?:_?[0-9])*)?\\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?)${PY_WS}*$`,
);
const FLOAT_SPECIAL_RE = new RegExp(`^${PY_WS}*([+-]?)(inf|infinity|nan)${PY_WS}*$`, 'i');

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
export function parsePyInt(s: string): number | bigint | undefined {
  const m = INT_RE.exec(s);
  if (m === null) return undefined;
  const digits = m[2].includes('_') ? m[2].replace(/_/g, '') : m[2];
  return digitsToInt(digits, m[1] === '-');
}

/** Python `float(s)` for a str; `undefined` where Python raises ValueError. */
export function parsePyFloat(s: string): number | undefined {
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
  if (typeof v === 'object') {
    for (const _ in v) return true;
    return false;
  }
  return true; // non-zero numbers (NaN included), non-empty strings, True
}

/**
 * Python string ordering (by code point). JS compares UTF-16 code units, which disagrees
 * only when a supplementary character meets a BMP character at or above U+E000.
 */
export function pyStrCmp(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      // A surrogate stands for a code point above the whole BMP.
      if (sa !== sb) return sa ? 1 : -1;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
