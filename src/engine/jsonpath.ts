/**
 * JSONPath (RFC 9535) for segment condition properties such as `$.identity.identifier`,
 * `$.environment.name` or `$.identity.traits['odd key']`. The reference compiles properties
 * with `jsonpath_rfc9535` and takes the first node (`find_one`); a property that is not a
 * valid query is looked up as a trait name instead.
 *
 * Supported: name selectors (shorthand and quoted), index, wildcard, slice, selector lists
 * and descendant segments. Filter selectors (`[?...]`) are recognised but not evaluated:
 * they select nothing.
 */

type Selector =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'slice'; readonly start: number | null; readonly end: number | null; readonly step: number | null }
  | { readonly kind: 'filter' };

interface PathSegment {
  readonly descendant: boolean;
  readonly selectors: readonly Selector[];
}

export interface CompiledPath {
  readonly segments: readonly PathSegment[];
  /** Set when every segment is one name or index selector (a singular query): its steps. */
  readonly steps: readonly (string | number)[] | null;
  /** The first selector when the query starts with a plain `.name` / `['name']`. */
  readonly head: string | null;
}

import { PyFloat } from './python.js';

class SyntaxErr extends Error {}

const MAX_INT = 2 ** 53 - 1;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isNameFirst(cp: number): boolean {
  return (
    (cp >= 0x41 && cp <= 0x5a) ||
    (cp >= 0x61 && cp <= 0x7a) ||
    cp === 0x5f ||
    (cp >= 0x80 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0x10ffff)
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  skipBlank(): void {
    while (this.i < this.s.length && isBlank(this.s.charCodeAt(this.i))) this.i++;
  }

  expect(c: number): void {
    if (this.peek() !== c) throw new SyntaxErr();
    this.i++;
  }

  parseQuery(): PathSegment[] {
    this.expect(0x24 /* $ */);
    const segments: PathSegment[] = [];
    for (;;) {
      const save = this.i;
      this.skipBlank();
      const c = this.peek();
      if (c === 0x2e /* . */ || c === 0x5b /* [ */) {
        segments.push(this.parseSegment());
      } else {
        this.i = save;
        break;
      }
    }
    if (this.i !== this.s.length) throw new SyntaxErr();
    return segments;
  }

  parseSegment(): PathSegment {
    if (this.peek() === 0x5b) return { descendant: false, selectors: this.parseBracketed() };
    this.expect(0x2e);
    let descendant = false;
    if (this.peek() === 0x2e) {
      this.i++;
      descendant = true;
      if (this.peek() === 0x5b) return { descendant, selectors: this.parseBracketed() };
    }
    if (this.peek() === 0x2a /* * */) {
      this.i++;
      return { descendant, selectors: [{ kind: 'wildcard' }] };
    }
    return { descendant, selectors: [{ kind: 'name', name: this.parseMemberName() }] };
  }

  parseMemberName(): string {
    const start = this.i;
    const first = this.s.codePointAt(this.i);
    if (first === undefined || !isNameFirst(first)) throw new SyntaxErr();
    this.i += first > 0xffff ? 2 : 1;
    for (;;) {
      const cp = this.s.codePointAt(this.i);
      if (cp === undefined || !(isNameFirst(cp) || isDigit(cp))) break;
      this.i += cp > 0xffff ? 2 : 1;
    }
    return this.s.slice(start, this.i);
  }

  parseBracketed(): Selector[] {
    this.expect(0x5b);
    const selectors: Selector[] = [];
    for (;;) {
      this.skipBlank();
      selectors.push(this.parseSelector());
      this.skipBlank();
      const c = this.peek();
      if (c === 0x2c /* , */) {
        this.i++;
        continue;
      }
      this.expect(0x5d /* ] */);
      return selectors;
    }
  }

  parseSelector(): Selector {
    const c = this.peek();
    if (c === 0x27 || c === 0x22) return { kind: 'name', name: this.parseString(c) };
    if (c === 0x2a) {
      this.i++;
      return { kind: 'wildcard' };
    }
    if (c === 0x3f /* ? */) {
      this.skipFilter();
      return { kind: 'filter' };
    }
    // index or slice
    let start: number | null = null;
    if (c === 0x2d || isDigit(c)) start = this.parseInt();
    this.skipBlank();
    if (this.peek() !== 0x3a /* : */) {
      if (start === null) throw new SyntaxErr();
      return { kind: 'index', index: start };
    }
    this.i++;
    this.skipBlank();
    let end: number | null = null;
    let step: number | null = null;
    if (this.peek() === 0x2d || isDigit(this.peek())) {
      end = this.parseInt();
      this.skipBlank();
    }
    if (this.peek() === 0x3a) {
      this.i++;
      this.skipBlank();
      if (this.peek() === 0x2d || isDigit(this.peek())) step = this.parseInt();
    }
    return { kind: 'slice', start, end, step };
  }

  parseInt(): number {
    const start = this.i;
    if (this.peek() === 0x2d) this.i++;
    const digitsStart = this.i;
    while (isDigit(this.peek())) this.i++;
    const digits = this.s.slice(digitsStart, this.i);
    if (digits.length === 0) throw new SyntaxErr();
    if (digits.length > 1 && digits[0] === '0') throw new SyntaxErr();
    if (digits === '0' && digitsStart !== start) throw new SyntaxErr(); // "-0"
    const n = Number(this.s.slice(start, this.i));
    if (Math.abs(n) > MAX_INT) throw new SyntaxErr();
    return n;
  }

  parseString(quote: number): string {
    this.i++;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new SyntaxErr();
      const c = this.s.charCodeAt(this.i);
      if (c === quote) {
        this.i++;
        return out;
      }
      if (c < 0x20) throw new SyntaxErr();
      if (c !== 0x5c /* \ */) {
        out += this.s[this.i++];
        continue;
      }
      this.i++;
      const e = this.peek();
      this.i++;
      switch (e) {
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x2f: out += '/'; break;
        case 0x5c: out += '\\'; break;
        case 0x75: out += this.parseUnicodeEscape(); break;
        default:
          if (e === quote) out += String.fromCharCode(e);
          else throw new SyntaxErr();
      }
    }
  }

  hex4(): number {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new SyntaxErr();
    this.i += 4;
    return parseInt(h, 16);
  }

  parseUnicodeEscape(): string {
    const hi = this.hex4();
    if (hi >= 0xdc00 && hi <= 0xdfff) throw new SyntaxErr();
    if (hi >= 0xd800 && hi <= 0xdbff) {
      if (this.s.charCodeAt(this.i) !== 0x5c || this.s.charCodeAt(this.i + 1) !== 0x75) throw new SyntaxErr();
      this.i += 2;
      const lo = this.hex4();
      if (lo < 0xdc00 || lo > 0xdfff) throw new SyntaxErr();
      return String.fromCharCode(hi, lo);
    }
    return String.fromCharCode(hi);
  }

  /** Skip a filter expression up to (not including) the `,` or `]` that ends it. */
  skipFilter(): void {
    this.i++;
    let depth = 0;
    let sawContent = false;
    while (this.i < this.s.length) {
      const c = this.peek();
      if (c === 0x27 || c === 0x22) {
        this.parseString(c);
        sawContent = true;
        continue;
      }
      if (c === 0x28 || c === 0x5b) depth++;
      else if (c === 0x29 || c === 0x5d) {
        if (depth === 0) {
          if (c === 0x29 || !sawContent) throw new SyntaxErr();
          return;
        }
        depth--;
      } else if (c === 0x2c && depth === 0) {
        if (!sawContent) throw new SyntaxErr();
        return;
      }
      if (!isBlank(c)) sawContent = true;
      this.i++;
    }
    throw new SyntaxErr();
  }
}

/** Compile an RFC 9535 query; `null` when it is not valid syntax. */
export function compileJsonPath(query: string): CompiledPath | null {
  try {
    const segments = new Parser(query).parseQuery();
    const first = segments[0];
    const head =
      first !== undefined && !first.descendant && first.selectors.length === 1 && first.selectors[0].kind === 'name'
        ? first.selectors[0].name
        : null;
    let steps: (string | number)[] | null = [];
    for (const seg of segments) {
      const sel = seg.selectors[0];
      if (seg.descendant || seg.selectors.length !== 1 || (sel.kind !== 'name' && sel.kind !== 'index')) {
        steps = null;
        break;
      }
      steps.push(sel.kind === 'name' ? sel.name : sel.index);
    }
    return { segments, head, steps };
  } catch (e) {
    if (e instanceof SyntaxErr) return null;
    throw e;
  }
}

type Found = { value: unknown } | undefined;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof PyFloat);
}

/** An object member (plain object or Map), undefined when absent. */
function member(node: unknown, name: string): Found {
  if (node instanceof Map) return node.has(name) ? { value: node.get(name) } : undefined;
  if (isObject(node) && Object.hasOwn(node, name)) return { value: node[name] };
  return undefined;
}

/** An object's member values in order (plain object or Map); null when not an object. */
function memberValues(node: unknown): unknown[] | null {
  if (node instanceof Map) return [...node.values()];
  if (isObject(node)) return Object.values(node);
  return null;
}

function normalizeIndex(i: number, len: number): number {
  return i >= 0 ? i : len + i;
}

/** Visit the children a selector picks from `node`, in order, until `visit` returns a hit. */
function select(node: unknown, sel: Selector, visit: (child: unknown) => Found): Found {
  switch (sel.kind) {
    case 'name': {
      const m = member(node, sel.name);
      return m === undefined ? undefined : visit(m.value);
    }
    case 'index':
      if (Array.isArray(node)) {
        const i = normalizeIndex(sel.index, node.length);
        if (i >= 0 && i < node.length) return visit(node[i]);
      }
      return undefined;
    case 'wildcard':
      if (Array.isArray(node)) {
        for (const child of node) {
          const r = visit(child);
          if (r !== undefined) return r;
        }
      } else {
        for (const child of memberValues(node) ?? []) {
          const r = visit(child);
          if (r !== undefined) return r;
        }
      }
      return undefined;
    case 'slice': {
      if (!Array.isArray(node)) return undefined;
      const len = node.length;
      const step = sel.step ?? 1;
      if (step === 0) return undefined;
      if (step > 0) {
        const start = sel.start === null ? 0 : normalizeIndex(sel.start, len);
        const end = sel.end === null ? len : normalizeIndex(sel.end, len);
        const lower = Math.min(Math.max(start, 0), len);
        const upper = Math.min(Math.max(end, 0), len);
        for (let i = lower; i < upper; i += step) {
          const r = visit(node[i]);
          if (r !== undefined) return r;
        }
      } else {
        const start = sel.start === null ? len - 1 : normalizeIndex(sel.start, len);
        const end = sel.end === null ? -len - 1 : normalizeIndex(sel.end, len);
        const upper = Math.min(Math.max(start, -1), len - 1);
        const lower = Math.min(Math.max(end, -1), len - 1);
        for (let i = upper; lower < i; i += step) {
          const r = visit(node[i]);
          if (r !== undefined) return r;
        }
      }
      return undefined;
    }
    case 'filter':
      return undefined;
  }
}

function findFrom(node: unknown, segments: readonly PathSegment[], index: number): Found {
  if (index === segments.length) return { value: node };
  const seg = segments[index];
  const next = (child: unknown): Found => findFrom(child, segments, index + 1);
  if (!seg.descendant) {
    for (const sel of seg.selectors) {
      const r = select(node, sel, next);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  // Descendant segment: the node itself, then its descendants, parents before children.
  const visitTree = (n: unknown): Found => {
    for (const sel of seg.selectors) {
      const r = select(n, sel, next);
      if (r !== undefined) return r;
    }
    if (Array.isArray(n)) {
      for (const child of n) {
        const r = visitTree(child);
        if (r !== undefined) return r;
      }
    } else {
      for (const child of memberValues(n) ?? []) {
        const r = visitTree(child);
        if (r !== undefined) return r;
      }
    }
    return undefined;
  };
  return visitTree(node);
}

/**
 * The first node the query selects, as `find_one` does, or `undefined` when it selects
 * nothing. `startAt` lets the caller resolve the head selector itself (see `head`).
 */
export function findFirst(path: CompiledPath, root: unknown, startAt = 0): Found {
  const steps = path.steps;
  if (steps === null) return findFrom(root, path.segments, startAt);
  let node = root;
  for (let i = startAt; i < steps.length; i++) {
    const step = steps[i];
    if (typeof step === 'string') {
      const m = member(node, step);
      if (m === undefined) return undefined;
      node = m.value;
    } else {
      if (!Array.isArray(node)) return undefined;
      const j = normalizeIndex(step, node.length);
      if (j < 0 || j >= node.length) return undefined;
      node = node[j];
    }
  }
  return { value: node };
}
