/**
 * Read JSON (or JSONC) as Python's `json.loads` sees it, in the engine's representation:
 * number lexemes decide the type (`50.0` a float, kept as `PyFloat` when integral; `50` an
 * int, a bigint beyond 2^53), and an object whose key order a JS object cannot keep
 * (integer-like keys after others) becomes a Map. `JSON.parse` loses both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type ValueNode } from '@humanwhocodes/momoa';
import { PyFloat, type EvaluationContext } from '../../src/engine/index.js';

/** An array index, which a JS object orders first, ascending. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

function toValue(node: ValueNode, text: string): unknown {
  switch (node.type) {
    case 'Object': {
      // Python's dict keeps the first position of a repeated key and its last value.
      const map = new Map<string, unknown>();
      for (const m of node.members) map.set((m.name as { value: string }).value, toValue(m.value, text));
      const keys = [...map.keys()];
      const jsOrder = [...keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !isArrayIndex(k))];
      return keys.every((k, i) => k === jsOrder[i]) ? Object.fromEntries(map) : map;
    }
    case 'Array':
      return node.elements.map((e) => toValue(e.value, text));
    case 'Number': {
      const lexeme = text.slice(node.range![0], node.range![1]);
      if (/[.eE]/.test(lexeme)) {
        const f = Number(lexeme);
        return Number.isInteger(f) ? new PyFloat(f) : f;
      }
      const n = Number(lexeme);
      return Number.isSafeInteger(n) ? n + 0 : BigInt(lexeme); // `-0` is the int 0
    }
    case 'String':
    case 'Boolean':
      return node.value;
    case 'Null':
      return null;
    default:
      throw new Error(`not JSON: ${node.type}`);
  }
}

export function readPythonJson(text: string, mode: 'json' | 'jsonc' = 'json'): unknown {
  return toValue(parse(text, { mode, ranges: true }).body, text);
}

const VECTORS_DIR = fileURLToPath(new URL('../fixtures/python-reference/', import.meta.url));

export interface Vector {
  context: EvaluationContext;
  expected: unknown;
  class: string;
}

/** A file of test/fixtures/python-reference, line by line (1-based line numbers). */
export function readVectors(file: string): { line: number; vector: Vector }[] {
  return readFileSync(VECTORS_DIR + file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => ({ line: i + 1, vector: readPythonJson(l) as Vector }));
}
