/**
 * Vectors computed by Flagsmith's reference Python engine (see
 * test/fixtures/python-reference/README.md): every context on which the first release
 * disagreed with it. Lines are read so that number lexemes (`50.0` is a float, `50` an int,
 * big integers exact) and object key order (Python keeps it; a JS object puts integer-like
 * keys first) reach the engine as the server holds them: integral floats as `PyFloat`,
 * integers beyond 2^53 as bigint, and objects whose order a JS object cannot keep as a Map.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readPythonJson } from '../../test/helpers/python-json.js';
import { describe, expect, it } from 'vitest';
import { getEvaluationResult, PyFloat, type EvaluationContext } from './index.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/python-reference/', import.meta.url));

interface Vector {
  context: EvaluationContext;
  expected: unknown;
  class: string;
}

export function readVectors(file: string): { line: number; vector: Vector }[] {
  return readFileSync(DIR + file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => ({ line: i + 1, vector: readPythonJson(l) as Vector }));
}

/** The result as compared: flags keyed by name, segments in order; Maps as entry lists. */
function comparable(v: unknown): unknown {
  if (v instanceof Map) return { map: [...v].map(([k, x]) => [k, comparable(x)]) };
  if (v instanceof PyFloat) return { float: v.value };
  if (typeof v === 'bigint') return { int: v.toString() };
  if (Array.isArray(v)) return v.map(comparable);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, comparable(x)]));
  }
  return v;
}

/** Flags are keyed by name (order free); segments are a list (order kept). */
function comparableResult(r: unknown): unknown {
  const { flags, segments } = r as { flags: unknown; segments: unknown };
  return comparable({ flags: flags instanceof Map ? Object.fromEntries(flags) : flags, segments });
}

const vectors = readVectors('vectors.jsonl');

describe('reference Python engine vectors', () => {
  it('holds all 2,570 vectors', () => {
    expect(vectors).toHaveLength(2570);
  });

  const byClass = new Map<string, { line: number; vector: Vector }[]>();
  for (const v of vectors) {
    const list = byClass.get(v.vector.class) ?? [];
    list.push(v);
    byClass.set(v.vector.class, list);
  }
  for (const [cls, list] of byClass) {
    it(`${cls} (${list.length})`, () => {
      const failures: string[] = [];
      for (const { line, vector } of list) {
        let actual: unknown;
        try {
          actual = comparableResult(getEvaluationResult(vector.context));
        } catch (e) {
          actual = { threw: String(e) };
        }
        const expected = comparableResult(vector.expected);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          failures.push(`line ${line}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
        }
      }
      expect(failures.slice(0, 5).join('\n') + (failures.length > 5 ? `\n... ${failures.length} failures` : '')).toBe('');
    });
  }
});
