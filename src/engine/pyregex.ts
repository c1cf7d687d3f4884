/**
 * Python `re` patterns run on JS RegExp. The reference evaluates REGEX conditions as
 * `re.compile(pattern).match(str(value))`: anchored at the start, not at the end, with
 * Python's dialect and Unicode-aware `\d \w \s \b`. We translate the pattern into a JS
 * pattern for the `v` (Unicode sets) flag and match it sticky at index 0.
 *
 * Translated: leading global flags `(?aimsx)`, `(?P<name>…)`, `(?P=name)`, `(?#…)`, `\A`,
 * `\Z`, Python's `$` (end, or before a final newline), `.` (anything but `\n`), `{,n}`,
 * literal `{`, `[]…]`, octal and `\x \u \U` escapes, Unicode classes, atomic groups and
 * possessive quantifiers (as a lookahead capture plus backreference). Constructs JS cannot
 * express (scoped flags `(?i:…)`, conditionals, `\N{…}`) make the pattern invalid, as does
 * anything Python itself rejects: an invalid pattern never matches (the reference raises).
 * IGNORECASE follows CPython 3.11's case folding (see pycase.ts), expanded into explicit
 * classes rather than JS's `i` flag. A backreference is refused (so never stored) unless its
 * group surely participated: Python fails on an unset group where JS matches the empty
 * string, and Python's case-insensitive backreference has no JS equivalent.
 */

import { extraCaseKeys, extraCases, loweringCodePoints, lowerPreimage, pyIsCased, pyLower, upperingCodePoints } from './pycase.js';

class Unsupported extends Error {
  constructor(readonly reason = 'not a regular expression Python accepts, or uses a construct not supported here') {
    super(reason);
  }
}

/**
 * Python's Unicode `\\w` (`str.isalnum()` or `_`) and `\\d` (`str.isdecimal()`) as CPython 3.11
 * knows them (Unicode 14.0): JavaScript's property escapes follow a newer Unicode, so the
 * characters assigned since are taken out. Nested classes for the `v` flag.
 */
const WORD_SINCE_UNICODE_14 =
  '\\u{88f}\\u{c5c}\\u{cdc}\\u{1c89}-\\u{1c8a}\\u{a7cb}-\\u{a7cf}\\u{a7d2}\\u{a7d4}\\u{a7da}-\\u{a7dc}\\u{a7f1}\\u{105c0}-\\u{105f3}\\u{10940}-\\u{10959}\\u{10d40}-\\u{10d65}\\u{10d6f}-\\u{10d85}\\u{10ec2}-\\u{10ec7}\\u{1123f}-\\u{11240}\\u{11380}-\\u{11389}\\u{1138b}\\u{1138e}\\u{11390}-\\u{113b5}\\u{113b7}\\u{113d1}\\u{113d3}\\u{116d0}-\\u{116e3}\\u{11bc0}-\\u{11be0}\\u{11bf0}-\\u{11bf9}\\u{11db0}-\\u{11ddb}\\u{11de0}-\\u{11de9}\\u{11f02}\\u{11f04}-\\u{11f10}\\u{11f12}-\\u{11f33}\\u{11f50}-\\u{11f59}\\u{1342f}\\u{13441}-\\u{13446}\\u{13460}-\\u{143fa}\\u{16100}-\\u{1611d}\\u{16130}-\\u{16139}\\u{16d40}-\\u{16d6c}\\u{16d70}-\\u{16d79}\\u{16ea0}-\\u{16eb8}\\u{16ebb}-\\u{16ed3}\\u{16ff2}-\\u{16ff6}\\u{187f8}-\\u{187ff}\\u{18cff}\\u{18d09}-\\u{18d1e}\\u{18d80}-\\u{18df2}\\u{1b132}\\u{1b155}\\u{1ccf0}-\\u{1ccf9}\\u{1d2c0}-\\u{1d2d3}\\u{1df25}-\\u{1df2a}\\u{1e030}-\\u{1e06d}\\u{1e4d0}-\\u{1e4eb}\\u{1e4f0}-\\u{1e4f9}\\u{1e5d0}-\\u{1e5ed}\\u{1e5f0}-\\u{1e5fa}\\u{1e6c0}-\\u{1e6de}\\u{1e6e0}-\\u{1e6e2}\\u{1e6e4}-\\u{1e6e5}\\u{1e6e7}-\\u{1e6ed}\\u{1e6f0}-\\u{1e6f4}\\u{1e6fe}-\\u{1e6ff}\\u{2b739}-\\u{2b73f}\\u{2cea2}-\\u{2cead}\\u{2ebf0}-\\u{2ee5d}\\u{31350}-\\u{33479}';
const DIGIT_SINCE_UNICODE_14 = '\\u{10d40}-\\u{10d49}\\u{116d0}-\\u{116e3}\\u{11bf0}-\\u{11bf9}\\u{11de0}-\\u{11de9}\\u{11f50}-\\u{11f59}\\u{16130}-\\u{16139}\\u{16d70}-\\u{16d79}\\u{1ccf0}-\\u{1ccf9}\\u{1e4f0}-\\u{1e4f9}\\u{1e5f1}-\\u{1e5fa}';
const WORD = `[[\\p{L}\\p{N}_]--[${WORD_SINCE_UNICODE_14}]]`;
const DIGIT = `[\\p{Nd}--[${DIGIT_SINCE_UNICODE_14}]]`;
const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ASCII_WORD = 'a-zA-Z0-9_';
const ASCII_SPACE = '\\t\\n\\v\\f\\r\\x20';

interface Flags {
  ascii: boolean;
  ignoreCase: boolean;
  multiline: boolean;
  dotAll: boolean;
  verbose: boolean;
}

function lit(cp: number): string {
  const isAlnum = (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return isAlnum ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

const ASCII_LOWERING: ReadonlyMap<number, number> = new Map(Array.from({ length: 26 }, (_, k) => [0x41 + k, 0x61 + k]));

type ClassItem = { kind: 'lit'; cp: number } | { kind: 'range'; lo: number; hi: number } | { kind: 'set'; text: string };

function renderItem(item: ClassItem): string {
  return item.kind === 'lit' ? lit(item.cp) : item.kind === 'range' ? `${lit(item.lo)}-${lit(item.hi)}` : item.text;
}

/** A class of the given code points, compressed into ranges. */
function classOf(cps: Iterable<number>, negate = false): string {
  const sorted = [...new Set(cps)].sort((a, b) => a - b);
  let out = '';
  for (let k = 0; k < sorted.length; ) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out += j > k ? `${lit(sorted[k])}-${lit(sorted[j])}` : lit(sorted[k]);
    k = j + 1;
  }
  return (negate ? '[^' : '[') + out + ']';
}

const MAX_CACHE = 512;
/** IGNORECASE classes already expanded (each costs a pass over the case tables). */
const foldedClasses = new Map<string, string>();

class Translator {
  i = 0;
  groupCount = 0;
  /** Python group numbers by name. */
  readonly groupNames = new Map<string, number>();
  /**
   * Scopes (alternation branches and atoms) enclosing the parse position, and whether each
   * is conditional (a branch of a real alternation, a quantified atom, a lookaround): a
   * backreference is only exact when its group surely participated before it.
   */
  readonly scopeStack: number[] = [];
  readonly conditional: boolean[] = [];
  /** For each closed Python group, the scopes that enclosed it. */
  readonly groupScopes: (readonly number[] | undefined)[] = [undefined];
  /** The code point of the last escape when it was a single character, else -1. */
  escCp = -1;
  /** JS group name for each Python group number (every group is named in the output). */
  readonly jsGroupNames: string[] = [''];
  atomicCount = 0;
  constructor(
    readonly p: string,
    readonly f: Flags,
  ) {}

  next(): number {
    const c = this.p.codePointAt(this.i)!;
    this.i += c > 0xffff ? 2 : 1;
    return c;
  }

  eof(): boolean {
    return this.i >= this.p.length;
  }

  word(): string {
    return this.f.ascii ? ASCII_WORD : WORD;
  }

  space(): string {
    return this.f.ascii ? ASCII_SPACE : SPACE;
  }

  digit(): string {
    return this.f.ascii ? '0-9' : DIGIT;
  }

  /** Skip verbose-mode whitespace and comments outside classes. */
  skipVerbose(): void {
    if (!this.f.verbose) return;
    while (!this.eof()) {
      const c = this.p.charCodeAt(this.i);
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) this.i++;
      else if (c === 0x23 /* # */) {
        while (!this.eof() && this.p.charCodeAt(this.i) !== 0x0a) this.i++;
      } else break;
    }
  }

  translate(): string {
    const out = this.alternation();
    if (!this.eof()) throw new Unsupported(); // unbalanced ')'
    return out;
  }

  openScope(): number {
    const id = this.conditional.length;
    this.conditional.push(false);
    this.scopeStack.push(id);
    return id;
  }

  alternation(): string {
    const branches: number[] = [];
    const branch = (): string => {
      branches.push(this.openScope());
      const text = this.sequence();
      this.scopeStack.pop();
      return text;
    };
    let out = branch();
    while (!this.eof() && this.p[this.i] === '|') {
      this.i++;
      for (const b of branches) this.conditional[b] = true;
      out += '|' + branch();
      this.conditional[branches[branches.length - 1]] = true;
    }
    return out;
  }

  /** `\N` or `(?P=name)`: refused where JavaScript would answer differently from Python. */
  backreference(n: number): string {
    const scopes = this.groupScopes[n];
    if (scopes === undefined) throw new Unsupported('a backreference to a group that is still open');
    // Python compares case-insensitively by its own lowercase mapping; JS cannot here.
    if (this.f.ignoreCase) throw new Unsupported('backreferences are not supported with the IGNORECASE flag');
    // Python fails on a group that did not participate; JS matches the empty string.
    if (scopes.some((s) => this.conditional[s] && !this.scopeStack.includes(s))) {
      throw new Unsupported('a backreference is only supported to a group that surely matched before it (not optional, repeated, in another alternative or in a lookaround)');
    }
    return `\\k<${this.jsGroupNames[n]}>`;
  }

  /** The code points Python's IGNORECASE matching lets a literal `cp` match. */
  literalSet(cp: number): number[] {
    if (!this.f.ignoreCase) return [cp];
    if (this.f.ascii) {
      const lo = cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp;
      return lo >= 0x61 && lo <= 0x7a ? [lo, lo - 32] : [cp];
    }
    if (!pyIsCased(cp)) return [cp];
    const lo = pyLower(cp);
    return [lo, ...extraCases(lo)].flatMap((k) => lowerPreimage(k));
  }

  literal(cp: number): string {
    const set = this.literalSet(cp);
    return set.length === 1 ? lit(set[0]) : classOf(set);
  }

  /**
   * A class under IGNORECASE, as CPython 3.11 compiles it (`_optimize_charset`): the subject
   * character's lowercase is tested against the members' lowercases (plus `_EXTRA_CASES`),
   * categories and members beyond the BMP as written, ranges beyond the BMP also by the
   * uppercase. The JS class is the set of characters whose lowercase passes that test.
   */
  foldedClass(items: ClassItem[], negate: boolean): string {
    const key = JSON.stringify([this.f.ascii, negate, items]);
    let text = foldedClasses.get(key);
    if (text === undefined) {
      text = this.foldClass(items, negate);
      if (foldedClasses.size >= MAX_CACHE) foldedClasses.delete(foldedClasses.keys().next().value as string);
      foldedClasses.set(key, text);
    }
    return text;
  }

  foldClass(items: ClassItem[], negate: boolean): string {
    const ascii = this.f.ascii;
    const lowering = ascii ? ASCII_LOWERING : loweringCodePoints();
    const lower = (cp: number): number => lowering.get(cp) ?? cp;
    const isCased = ascii ? (cp: number) => lowering.has(cp) || lowering.has(cp - 32) : pyIsCased;
    const inRange = (cp: number, lo: number, hi: number): boolean => cp >= lo && cp <= hi;
    let hascased = false;
    const members: string[] = [];
    const add = (lo: number, present = (_cp: number) => false): void => {
      for (const cp of [lo, ...(ascii ? [] : extraCases(lo))]) if (!present(cp)) members.push(lit(cp));
    };
    for (const item of items) {
      if (item.kind === 'set') members.push(item.text);
      else if (item.kind === 'lit') {
        if (item.cp > 0xffff) {
          members.push(lit(item.cp));
          hascased = true;
        } else {
          add(lower(item.cp));
          if (isCased(item.cp)) hascased = true;
        }
      } else {
        const bmpHi = Math.min(item.hi, 0xffff);
        if (item.lo <= bmpHi) {
          // The range's own lowering members stay in: they never are a lowercase (the mapping
          // is idempotent), so only the subtraction below decides about them.
          const changing = [...lowering.keys()].filter((cp) => inRange(cp, item.lo, bmpHi));
          members.push(renderItem({ ...item, hi: bmpHi }));
          const present = (cp: number): boolean => inRange(cp, item.lo, bmpHi);
          if (!ascii) for (const cp of extraCaseKeys()) if (present(cp) && !lowering.has(cp)) add(cp, present);
          for (const cp of changing) add(lower(cp), present);
          if (changing.length > 0 || (ascii ? [...lowering.values()] : [...upperingCodePoints().keys()]).some((cp) => inRange(cp, item.lo, bmpHi))) hascased = true;
        }
        if (item.hi > 0xffff) {
          hascased = true;
          members.push(renderItem(item));
          for (const [cp, up] of upperingCodePoints()) if (inRange(up, item.lo, item.hi)) members.push(lit(cp));
        }
      }
    }
    if (!hascased) return (negate ? '[^' : '[') + items.map(renderItem).join('') + ']';
    // Characters that lowercase to themselves pass as members; the others by their lowercase.
    const tested = `[${members.join('')}]`;
    const re = new RegExp(tested, 'v');
    const has = (cp: number): boolean => re.test(String.fromCodePoint(cp));
    const removed: number[] = [];
    const added: number[] = [];
    for (const [cp, lo] of lowering) {
      const passes = has(lo);
      if (has(cp) !== passes) (passes ? added : removed).push(cp);
    }
    const kept = removed.length === 0 ? tested : `[${tested}--${classOf(removed)}]`;
    return `[${negate ? '^' : ''}${kept}${added.length === 0 ? '' : classOf(added)}]`;
  }

  sequence(): string {
    let out = '';
    for (;;) {
      this.skipVerbose();
      if (this.eof()) return out;
      const ch = this.p[this.i];
      if (ch === '|' || ch === ')') return out;
      const scope = this.openScope();
      const atom = this.atom();
      this.scopeStack.pop();
      if (atom === null) continue;
      const q = this.quantifier();
      if (q !== '' && !atom.quantifiable) throw new Unsupported(); // nothing to repeat
      if (q !== '') this.conditional[scope] = true;
      out += q.endsWith('+') && q.length > 1 ? this.atomic(atom.text + q.slice(0, -1)) : atom.text + q;
    }
  }

  /** `(?>body)`: match body once, no backtracking into it. */
  atomic(body: string): string {
    const name = `$a${++this.atomicCount}`;
    return `(?:(?=(?<${name}>${body}))\\k<${name}>)`;
  }

  /** A quantifier at the cursor ('' when none), with its lazy `?` or possessive `+`. */
  quantifier(): string {
    this.skipVerbose();
    const q = this.readQuantifier();
    if (q === '') return '';
    let lazy = '';
    if (this.p[this.i] === '?') {
      this.i++;
      lazy = '?';
    } else if (this.p[this.i] === '+') {
      this.i++;
      lazy = '+'; // possessive
    }
    this.skipVerbose();
    if (this.readQuantifier() !== '') throw new Unsupported(); // multiple repeat
    return q + lazy;
  }

  readQuantifier(): string {
    if (this.eof()) return '';
    const ch = this.p[this.i];
    if (ch === '*' || ch === '+' || ch === '?') {
      this.i++;
      return ch;
    }
    if (ch !== '{') return '';
    const m = /^\{([0-9]*)(?:(,)([0-9]*))?\}/.exec(this.p.slice(this.i));
    if (m === null || (m[2] === undefined && m[1] === '')) return ''; // a literal '{'
    this.i += m[0].length;
    const lo = m[1] === '' ? '0' : m[1];
    if (m[2] === undefined) return `{${lo}}`;
    if (m[3] !== '' && Number(m[3]) < Number(lo)) throw new Unsupported(); // min > max
    return `{${lo},${m[3]}}`;
  }

  /** One atom; `null` for something that produces nothing (a comment). */
  atom(): { text: string; quantifiable: boolean } | null {
    const c = this.next();
    switch (c) {
      case 0x2e: // .
        return { text: this.f.dotAll ? '[\\s\\S]' : '[^\\n]', quantifiable: true };
      case 0x5e: // ^
        return { text: this.f.multiline ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?<![\\s\\S])', quantifiable: false };
      case 0x24: // $
        return { text: this.f.multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))', quantifiable: false };
      case 0x28: {
        // (
        const g = this.group();
        return g === null ? null : { text: g, quantifiable: !/^\(\?<?[=!]/.test(g) };
      }
      case 0x5b: // [
        return { text: this.charClass(), quantifiable: true };
      case 0x5c: {
        // \
        const e = this.escape(false);
        if (this.escCp >= 0) return { text: this.literal(this.escCp), quantifiable: true };
        return { text: e, quantifiable: !/^(\(\?<?[=!]|\(\?:\(\?<?[=!]|\\b$|\\B$)/.test(e) };
      }
      case 0x2a: // *
      case 0x2b: // +
      case 0x3f: // ?
        throw new Unsupported(); // nothing to repeat
      case 0x7b: {
        // {
        this.i--;
        if (this.readQuantifier() !== '') throw new Unsupported(); // `{1}` with nothing to repeat
        this.i++;
        return { text: this.literal(c), quantifiable: true };
      }
      default:
        return { text: this.literal(c), quantifiable: true }; // includes a '{' that is no quantifier
    }
  }

  group(): string | null {
    if (this.p[this.i] !== '?') {
      const n = ++this.groupCount;
      const name = `$g${n}`;
      this.jsGroupNames.push(name);
      return this.capture(n, name);
    }
    this.i++;
    const rest = this.p.slice(this.i);
    if (rest.startsWith(':')) {
      this.i++;
      return '(?:' + this.groupBody() + ')';
    }
    if (rest.startsWith('P<')) {
      this.i += 2;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)>/.exec(this.p.slice(this.i));
      if (m === null || this.groupNames.has(m[1])) throw new Unsupported();
      this.i += m[0].length;
      const n = ++this.groupCount;
      this.groupNames.set(m[1], n);
      this.jsGroupNames.push(m[1]);
      return this.capture(n, m[1]);
    }
    if (rest.startsWith('P=')) {
      this.i += 2;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\)/.exec(this.p.slice(this.i));
      if (m === null || !this.groupNames.has(m[1])) throw new Unsupported();
      this.i += m[0].length;
      return this.backreference(this.groupNames.get(m[1])!);
    }
    for (const look of ['=', '!', '<=', '<!']) {
      if (rest.startsWith(look)) {
        this.i += look.length;
        this.conditional[this.scopeStack[this.scopeStack.length - 1]] = true;
        return `(?${look}` + this.groupBody() + ')';
      }
    }
    if (rest.startsWith('#')) {
      const end = this.p.indexOf(')', this.i);
      if (end < 0) throw new Unsupported();
      this.i = end + 1;
      return null;
    }
    if (rest.startsWith('>')) {
      this.i++;
      return this.atomic(this.groupBody());
    }
    // Global flags are only valid at the very start (consumed in buildRegExp); scoped
    // flags and conditionals have no JS equivalent.
    throw new Unsupported();
  }

  capture(n: number, name: string): string {
    const text = `(?<${name}>` + this.groupBody() + ')';
    this.groupScopes[n] = [...this.scopeStack];
    return text;
  }

  groupBody(): string {
    const body = this.alternation();
    if (this.eof() || this.p[this.i] !== ')') throw new Unsupported();
    this.i++;
    return body;
  }

  /** A backslash escape; `inClass` selects class-member output. */
  escape(inClass: boolean): string {
    this.escCp = -1;
    if (this.eof()) throw new Unsupported();
    const c = this.next();
    const ch = String.fromCodePoint(c);
    switch (ch) {
      case 'd':
        return inClass ? this.digit() : `[${this.digit()}]`;
      case 'D':
        return `[^${this.digit()}]`;
      case 'w':
        return inClass ? this.word() : `[${this.word()}]`;
      case 'W':
        return `[^${this.word()}]`;
      case 's':
        return inClass ? this.space() : `[${this.space()}]`;
      case 'S':
        return `[^${this.space()}]`;
      case 'b':
        if (inClass) return this.escLit(8);
        return this.f.ascii
          ? '\\b'
          : `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
      case 'B':
        if (inClass) throw new Unsupported();
        // Python's \\B never matches in an empty string.
        return (
          '(?:(?<=[\\s\\S])|(?=[\\s\\S]))' +
          (this.f.ascii ? '\\B' : `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`)
        );
      case 'A':
        if (inClass) throw new Unsupported();
        return '(?<![\\s\\S])';
      case 'Z':
        if (inClass) throw new Unsupported();
        return '(?![\\s\\S])';
      case 'a':
        return this.escLit(7);
      case 'f':
        return this.escLit(12);
      case 'n':
        return this.escLit(10);
      case 'r':
        return this.escLit(13);
      case 't':
        return this.escLit(9);
      case 'v':
        return this.escLit(11);
      case 'x':
        return this.escLit(this.hexDigits(2));
      case 'u':
        return this.escLit(this.hexDigits(4));
      case 'U': {
        const cp = this.hexDigits(8);
        if (cp > 0x10ffff) throw new Unsupported();
        return this.escLit(cp);
      }
      case '0': {
        // \0 followed by up to two more octal digits
        let v = 0;
        for (let k = 0; k < 2 && /[0-7]/.test(this.p[this.i] ?? ''); k++) v = v * 8 + Number(this.p[this.i++]);
        return this.escLit(v);
      }
      default:
        break;
    }
    if (c >= 0x31 && c <= 0x39) {
      // octal escape (three octal digits) or a group reference
      const three = this.p.slice(this.i - 1, this.i + 2);
      if (/^[0-7]{3}$/.test(three)) {
        this.i += 2;
        const v = parseInt(three, 8);
        if (v > 0o377) throw new Unsupported();
        return this.escLit(v);
      }
      if (inClass) throw new Unsupported();
      let digits = ch;
      if (/[0-9]/.test(this.p[this.i] ?? '')) digits += this.p[this.i++];
      const n = Number(digits);
      if (n > this.groupCount) throw new Unsupported(); // invalid group reference
      return this.backreference(n);
    }
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
      throw new Unsupported(); // Python rejects unknown ASCII-letter escapes (and \N{...} is not supported)
    }
    return this.escLit(c);
  }

  escLit(cp: number): string {
    this.escCp = cp;
    return lit(cp);
  }

  hexDigits(n: number): number {
    const h = this.p.slice(this.i, this.i + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Unsupported();
    this.i += n;
    return parseInt(h, 16);
  }

  /** A class member for a range end: a single code point, or -1 when it is a set. */
  classItem(): { text: string; cp: number } {
    if (this.p[this.i] === '\\') {
      this.i++;
      const text = this.escape(true);
      return { text, cp: this.escCp };
    }
    const cp = this.next();
    return { text: lit(cp), cp };
  }

  charClass(): string {
    let negate = false;
    if (this.p[this.i] === '^') {
      negate = true;
      this.i++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.eof()) throw new Unsupported(); // unterminated class
      if (this.p[this.i] === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      const start = this.classItem();
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        const end = this.classItem();
        if (start.cp < 0 || end.cp < 0 || end.cp < start.cp) throw new Unsupported(); // bad range
        items.push({ kind: 'range', lo: start.cp, hi: end.cp });
      } else {
        items.push(start.cp < 0 ? { kind: 'set', text: start.text } : { kind: 'lit', cp: start.cp });
      }
    }
    if (!this.f.ignoreCase) return (negate ? '[^' : '[') + items.map(renderItem).join('') + ']';
    // Python compiles a class of one (repeated) literal as that literal.
    if (items.every((it) => it.kind === 'lit' && it.cp === (items[0] as { cp: number }).cp)) {
      return classOf(this.literalSet((items[0] as { cp: number }).cp), negate);
    }
    return this.foldedClass(items, negate);
  }
}

function buildRegExp(pattern: string): RegExp {
  const flags: Flags = { ascii: false, ignoreCase: false, multiline: false, dotAll: false, verbose: false };
  // Python 3.11+ only accepts global inline flags at the very start of the pattern.
  let body = pattern;
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(body);
    if (m === null) break;
    for (const fl of m[1]) {
      if (fl === 'a') flags.ascii = true;
      else if (fl === 'i') flags.ignoreCase = true;
      else if (fl === 'm') flags.multiline = true;
      else if (fl === 's') flags.dotAll = true;
      else if (fl === 'x') flags.verbose = true;
      else if (fl === 'L') throw new Unsupported(); // LOCALE is bytes-only
    }
    body = body.slice(m[0].length);
  }
  const source = new Translator(body, flags).translate();
  return new RegExp(source, 'vy');
}

const cache = new Map<string, RegExp | null>();

/** Why a pattern cannot be used (Python refuses it, or it cannot be run exactly), or undefined. */
export function pythonRegexProblem(pattern: string): string | undefined {
  try {
    buildRegExp(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Unsupported ? e.reason : 'not a regular expression Python accepts, or uses a construct not supported here';
  }
}

/** Compile (and cache) a Python pattern; `null` when it cannot be compiled. */
export function compilePythonRegex(pattern: string): RegExp | null {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let re: RegExp | null;
  try {
    re = buildRegExp(pattern);
  } catch {
    re = null;
  }
  if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, re);
  return re;
}

/** Python `re.compile(pattern).match(subject) is not None`; false for invalid patterns. */
export function pythonRegexMatch(pattern: string, subject: string): boolean {
  const re = compilePythonRegex(pattern);
  if (re === null) return false;
  re.lastIndex = 0;
  return re.test(subject);
}
