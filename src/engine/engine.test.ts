import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { formatWeight } from './evaluator.js';
import { getHashedPercentageForObjectIds, hashedPercentageForPair, hexMod9999, percentageOfString } from './hashing.js';
import {
  getEvaluationResult,
  prepareEnvironment,
  type EvaluationContext,
  type EvaluationResult,
  type FeatureContext,
  type SegmentContext,
} from './index.js';
import { readPythonJson } from '../../test/helpers/python-json.js';
import { compileJsonPath, findFirst } from './jsonpath.js';
import { mapStringValue, parsePyFloat, parsePyInt, PyFloat, pyFloatRepr, pyStr, pyStrCmp } from './python.js';
import { pythonRegexMatch } from './pyregex.js';
import { compareSemver, parseSemver } from './semver.js';

const CORPUS_DIR = fileURLToPath(new URL('../../test/fixtures/flagsmith-engine-test-data/test_cases/', import.meta.url));

interface CorpusCase {
  context: EvaluationContext;
  result: EvaluationResult;
}

const corpusFiles = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.json') || f.endsWith('.jsonc'))
  .sort();

function loadCase(file: string): CorpusCase {
  // Some cases start with `//` comments; numbers keep their JSON type (`2.0` is a float).
  return readPythonJson(readFileSync(CORPUS_DIR + file, 'utf8'), 'jsonc') as CorpusCase;
}

/** Independent reference: md5 → full 128-bit BigInt → % 9999 / 9998 * 100, with the rehash rule. */
function referencePercentage(ids: string[]): number {
  for (let it = 1; ; it++) {
    const toHash = Array.from({ length: it }, () => ids).flat().join(',');
    const hex = createHash('md5').update(toHash, 'utf8').digest('hex');
    const value = (Number(BigInt('0x' + hex) % 9999n) / 9998) * 100;
    if (value !== 100) return value;
  }
}

describe('Flagsmith engine-test-data corpus (v3.9.0)', () => {
  it('holds all 199 cases', () => {
    expect(corpusFiles).toHaveLength(199);
  });

  for (const file of corpusFiles) {
    it(file, () => {
      const { context, result } = loadCase(file);
      expect(getEvaluationResult(context)).toEqual(result);
    });
  }

  it('gives the same results through a prepared environment, whole and per feature', () => {
    for (const file of corpusFiles) {
      const { context, result } = loadCase(file);
      const env = prepareEnvironment({ ...context, identity: undefined });
      expect(env.evaluate(context.identity), file).toEqual(result);
      const session = env.forIdentity(context.identity);
      for (const name of Object.keys(result.flags)) expect(session.flag(name), file).toEqual(result.flags[name]);
      expect(session.segments, file).toEqual(result.segments);
      expect(session.flag('no such feature')).toBeUndefined();
    }
  });
});

describe('hashing', () => {
  it('matches known md5 percentages (computed with Python hashlib)', () => {
    expect(getHashedPercentageForObjectIds(['78986', 'test_env_foobar'])).toBe(54.53090618123625);
    expect(getHashedPercentageForObjectIds(['12345', 'test_env_foobar'])).toBe(51.990398079615915);
    expect(getHashedPercentageForObjectIds(['1', 'user'])).toBe(51.29025805161033);
    expect(getHashedPercentageForObjectIds(['feature', 'ünïcode-✓'])).toBe(8.461692338467694); // UTF-8 bytes
  });

  it('agrees with a BigInt computation over the full 128-bit digest', () => {
    for (let i = 0; i < 2000; i++) {
      const ids = [`feature-${i % 37}`, `identity-${i}-${(i * 7919) % 1000}`];
      expect(getHashedPercentageForObjectIds(ids)).toBe(referencePercentage(ids));
      expect(hashedPercentageForPair(ids[0], ids[1])).toBe(referencePercentage(ids));
    }
    const hex = 'ffffffffffffffffffffffffffffffff';
    expect(hexMod9999(hex)).toBe(Number(BigInt('0x' + hex) % 9999n));
    expect(hexMod9999('FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF')).toBe(Number(BigInt('0x' + hex) % 9999n));
  });

  it('rehashes with the id list repeated when the percentage is exactly 100', () => {
    // md5("rehash,identity_6196") % 9999 == 9998 (found by search, checked with Python).
    const ids = ['rehash', 'identity_6196'];
    expect(percentageOfString('rehash,identity_6196')).toBe(100);
    const expected = percentageOfString('rehash,identity_6196,rehash,identity_6196');
    expect(expected).toBe(64.10282056411283);
    expect(getHashedPercentageForObjectIds(ids)).toBe(expected);
    expect(hashedPercentageForPair(ids[0], ids[1])).toBe(expected);
  });

  it('keeps repeating (three times, ...) while the result is 100, with an injected hash', () => {
    const hex9998 = (9998).toString(16).padStart(32, '0'); // % 9999 == 9998 → 100
    const hex42 = (42).toString(16).padStart(32, '0');
    const hash = vi.fn((s: string) => (s.split(',').length < 6 ? hex9998 : hex42));
    expect(getHashedPercentageForObjectIds(['a', 'b'], 1, hash)).toBe((42 / 9998) * 100);
    expect(hash.mock.calls.map((c) => c[0])).toEqual(['a,b', 'a,b,a,b', 'a,b,a,b,a,b']);
  });

  it('is deterministic', () => {
    const a = getHashedPercentageForObjectIds(['f', 'id']);
    for (let i = 0; i < 10; i++) expect(getHashedPercentageForObjectIds(['f', 'id'])).toBe(a);
  });
});

function mvFeature(variants: FeatureContext['variants'], extra: Partial<FeatureContext> = {}): FeatureContext {
  return { key: '4242', name: 'mv', enabled: true, value: 'control_value', variants, ...extra };
}

function contextFor(identifier: string | null, features: FeatureContext[], segments: SegmentContext[] = []): EvaluationContext {
  return {
    environment: { key: 'env_key', name: 'Production' },
    identity: identifier === null ? null : { identifier },
    features: Object.fromEntries(features.map((f) => [f.name, f])),
    segments: Object.fromEntries(segments.map((s) => [s.key, s])),
  };
}

describe('multivariate', () => {
  it('splits 50/30/20 within ±3 percentage points over 5,000 identities', () => {
    const env = prepareEnvironment(
      contextFor(null, [
        mvFeature([
          { key: 'a', value: 'A', weight: 50, priority: 1 },
          { key: 'b', value: 'B', weight: 30, priority: 2 },
          { key: 'c', value: 'C', weight: 20, priority: 3 },
        ]),
      ]),
    );
    const counts: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) {
      const flag = env.evaluate({ identifier: `user-${i}` }).flags.mv;
      counts[String(flag.variant)] = (counts[String(flag.variant)] ?? 0) + 1;
      expect(flag.reason).toBe(`SPLIT; weight=${({ a: 50, b: 30, c: 20 } as Record<string, number>)[flag.variant!]}`);
    }
    expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c']);
    expect(Math.abs((counts.a / 5000) * 100 - 50)).toBeLessThanOrEqual(3);
    expect(Math.abs((counts.b / 5000) * 100 - 30)).toBeLessThanOrEqual(3);
    expect(Math.abs((counts.c / 5000) * 100 - 20)).toBeLessThanOrEqual(3);
  });

  it('lays out ranges by priority and hashes "<feature key>,<identity key>"', () => {
    const identityKey = 'env_key_someone'; // defaulted identity key
    const pct = referencePercentage(['4242', identityKey]);
    // One variant covering exactly [0, pct] misses by a hair; one covering [0, pct + ε) hits.
    const miss = getEvaluationResult(contextFor('someone', [mvFeature([{ value: 'v', weight: pct, priority: 1 }])]));
    expect(miss.flags.mv).toMatchObject({ value: 'control_value', variant: 'control', reason: 'DEFAULT' });
    const hit = getEvaluationResult(contextFor('someone', [mvFeature([{ value: 'v', weight: pct + 1e-9, priority: 1 }])]));
    expect(hit.flags.mv).toMatchObject({ value: 'v', variant: null });
    // Priority, not array order, decides which variant comes first.
    const ordered = getEvaluationResult(
      contextFor('someone', [
        mvFeature([
          { key: 'second', value: 2, weight: 100 - pct - 1e-9, priority: 20 },
          { key: 'first', value: 1, weight: pct + 1e-9, priority: 10 },
        ]),
      ]),
    );
    expect(ordered.flags.mv).toMatchObject({ value: 1, variant: 'first' });
  });

  it('reports null for an unkeyed variant and the key for a keyed one', () => {
    const unkeyed = getEvaluationResult(contextFor('u1', [mvFeature([{ value: 'only', weight: 100, priority: 1 }])]));
    expect(unkeyed.flags.mv).toEqual({ enabled: true, name: 'mv', value: 'only', reason: 'SPLIT; weight=100', variant: null });
    const keyed = getEvaluationResult(contextFor('u1', [mvFeature([{ key: 'k', value: 'only', weight: 100, priority: 1 }])]));
    expect(keyed.flags.mv.variant).toBe('k');
  });

  it('puts identities in the control bucket when weights sum below 100', () => {
    const env = prepareEnvironment(
      contextFor(null, [
        mvFeature([
          { key: 'a', value: 'A', weight: 10, priority: 1 },
          { key: 'b', value: 'B', weight: 15, priority: 2 },
        ]),
      ]),
    );
    let control = 0;
    for (let i = 0; i < 2000; i++) {
      const flag = env.evaluate({ identifier: `c-${i}` }).flags.mv;
      if (flag.variant === 'control') {
        control++;
        expect(flag).toEqual({ enabled: true, name: 'mv', value: 'control_value', reason: 'DEFAULT', variant: 'control' });
      }
    }
    expect(Math.abs((control / 2000) * 100 - 75)).toBeLessThanOrEqual(4);
  });

  it('gives variant null and DEFAULT without an identity or without variants', () => {
    const noIdentity = getEvaluationResult(contextFor(null, [mvFeature([{ value: 'x', weight: 100, priority: 1 }])]));
    expect(noIdentity.flags.mv).toEqual({ enabled: true, name: 'mv', value: 'control_value', reason: 'DEFAULT', variant: null });
    const noVariants = getEvaluationResult(contextFor('u', [mvFeature([])]));
    expect(noVariants.flags.mv).toEqual({ enabled: true, name: 'mv', value: 'control_value', reason: 'DEFAULT', variant: null });
  });

  it('formats weights as Python str() does', () => {
    expect(formatWeight(30)).toBe('30');
    expect(formatWeight(54.54)).toBe('54.54');
    expect(formatWeight(0.00001)).toBe('1e-05');
    expect(formatWeight(33.333333333333336)).toBe('33.333333333333336');
  });
});

describe('segment overrides', () => {
  const matchAll = (key: string, name: string, overrides: FeatureContext[]): SegmentContext => ({
    key,
    name,
    rules: [{ type: 'ALL', conditions: [{ property: '$.environment.name', operator: 'EQUAL', value: 'Production' }] }],
    overrides,
  });
  const base: FeatureContext = { key: '1', name: 'f', enabled: false, value: 'default' };

  it('lower priority wins; equal priorities keep the first matched segment', () => {
    const result = getEvaluationResult(
      contextFor(
        'u',
        [base],
        [
          matchAll('1', 'first', [{ ...base, key: '2', enabled: true, value: 'first', priority: 5 }]),
          matchAll('2', 'second', [{ ...base, key: '3', enabled: true, value: 'second', priority: 5 }]),
          matchAll('3', 'third', [{ ...base, key: '4', enabled: true, value: 'third', priority: 1 }]),
          matchAll('4', 'unprioritised', [{ ...base, key: '5', enabled: true, value: 'none' }]),
        ],
      ),
    );
    expect(result.flags.f).toEqual({ enabled: true, name: 'f', value: 'third', reason: 'TARGETING_MATCH; segment=third', variant: null });
    expect(result.segments.map((s) => s.name)).toEqual(['first', 'second', 'third', 'unprioritised']);

    const tie = getEvaluationResult(
      contextFor(
        'u',
        [base],
        [
          matchAll('1', 'first', [{ ...base, value: 'first', priority: 5 }]),
          matchAll('2', 'second', [{ ...base, value: 'second', priority: 5 }]),
        ],
      ),
    );
    expect(tie.flags.f.value).toBe('first');
  });

  it('passes metadata through from the chosen feature context', () => {
    const result = getEvaluationResult(
      contextFor('u', [{ ...base, metadata: { id: 1 } }], [{ ...matchAll('9', 's', [{ ...base, metadata: { id: 2 } }]), metadata: { kind: 'x' } }]),
    );
    expect(result.flags.f.metadata).toEqual({ id: 2 });
    expect(result.segments).toEqual([{ name: 's', metadata: { kind: 'x' } }]);
  });
});

describe('conditions', () => {
  function segmentMatches(
    condition: { property?: string; operator: string; value?: unknown },
    traits: Record<string, unknown> = {},
    identity: Record<string, unknown> = {},
  ): boolean {
    const result = getEvaluationResult({
      environment: { key: 'env', name: 'Production' },
      identity: { identifier: 'someone', ...identity, traits } as EvaluationContext['identity'],
      segments: {
        '1': { key: '1', name: 's', rules: [{ type: 'ALL', conditions: [condition as never] }] },
      },
    });
    return result.segments.length === 1;
  }

  it('types numeric-looking string traits as numbers', () => {
    expect(segmentMatches({ property: 'age', operator: 'GREATER_THAN', value: '9' }, { age: '10' })).toBe(true);
    expect(segmentMatches({ property: 'code', operator: 'IN', value: '7,8' }, { code: '007' })).toBe(true); // int 7
    expect(segmentMatches({ property: 'code', operator: 'IN', value: '007' }, { code: '007' })).toBe(false);
    expect(segmentMatches({ property: 'big', operator: 'IN', value: '98765432109876543210' }, { big: '98765432109876543210' })).toBe(true);
    expect(segmentMatches({ property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: '2' })).toBe(false); // int('2.5') raises
    expect(segmentMatches({ property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: 2 })).toBe(false); // int 2
    expect(segmentMatches({ property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: new PyFloat(2) })).toBe(true); // 2.0
    expect(segmentMatches({ property: 'name', operator: 'CONTAINS', value: '12' }, { name: '123' })).toBe(false); // int
  });

  it('casts the condition value to booleans as the reference does', () => {
    expect(segmentMatches({ property: 'b', operator: 'EQUAL', value: 'true' }, { b: true })).toBe(true);
    expect(segmentMatches({ property: 'b', operator: 'EQUAL', value: 'False' }, { b: false })).toBe(true);
    expect(segmentMatches({ property: 'b', operator: 'EQUAL', value: 'anything' }, { b: true })).toBe(true);
  });

  it('compares :semver values by precedence', () => {
    const v = (value: string, operator = 'GREATER_THAN') => segmentMatches({ property: 'v', operator, value }, { v: '1.10.0' });
    expect(v('1.9.0:semver')).toBe(true);
    expect(v('1.10.0-rc.1:semver')).toBe(true);
    expect(v('1.10.0+build:semver', 'EQUAL')).toBe(true);
    expect(v('v1.0.0:semver')).toBe(false); // invalid
    expect(compareSemver(parseSemver('1.0.0-alpha')!, parseSemver('1.0.0-alpha.1')!)).toBe(-1);
    expect(compareSemver(parseSemver('1.0.0-2')!, parseSemver('1.0.0-10')!)).toBe(-1);
    expect(compareSemver(parseSemver('1.0.0-beta')!, parseSemver('1.0.0-10')!)).toBe(1);
    expect(parseSemver('01.0.0')).toBeUndefined();
  });

  it('handles MODULO with Python float semantics', () => {
    expect(segmentMatches({ property: 'n', operator: 'MODULO', value: '4|3' }, { n: -1 })).toBe(true);
    expect(segmentMatches({ property: 'n', operator: 'MODULO', value: '2|0' }, { n: '10' })).toBe(true);
    expect(segmentMatches({ property: 'n', operator: 'MODULO', value: '0|0' }, { n: 3 })).toBe(false);
    expect(segmentMatches({ property: 'n', operator: 'MODULO', value: '2|1|0' }, { n: 3 })).toBe(false);
  });

  it('parses IN values as JSON arrays or comma lists', () => {
    expect(segmentMatches({ property: 'x', operator: 'IN', value: '["a","b"]' }, { x: 'b' })).toBe(true);
    expect(segmentMatches({ property: 'x', operator: 'IN', value: ['1', '2'] }, { x: 2 })).toBe(true);
    expect(segmentMatches({ property: 'x', operator: 'IN', value: '[1.0, 2]' }, { x: 1 })).toBe(false); // "1.0"
    expect(segmentMatches({ property: 'x', operator: 'IN', value: '[1.0, 2]' }, { x: '2' })).toBe(true);
    expect(segmentMatches({ property: 'x', operator: 'IN', value: 'a, b' }, { x: 'b' })).toBe(false); // " b"
    expect(segmentMatches({ property: 'x', operator: 'IN', value: 'true,True' }, { x: true })).toBe(false);
  });

  it('evaluates REGEX as Python re.match', () => {
    expect(pythonRegexMatch('[a-z]+', 'abc123')).toBe(true); // anchored at the start only
    expect(pythonRegexMatch('[a-z]+', '1abc')).toBe(false);
    expect(pythonRegexMatch('abc$', 'abc\n')).toBe(true); // Python's $ before a final newline
    expect(pythonRegexMatch('(?i)ABC', 'abc')).toBe(true);
    expect(pythonRegexMatch('(?P<x>a)(?P=x)', 'aa')).toBe(true);
    expect(pythonRegexMatch('\\d+', '١٢٣')).toBe(true); // Unicode digits
    expect(pythonRegexMatch('(?a)\\d+', '١٢٣')).toBe(false);
    expect(pythonRegexMatch('.', '\n')).toBe(false);
    expect(pythonRegexMatch('[', 'x')).toBe(false); // invalid pattern never matches
    expect(pythonRegexMatch('x{,2}y', 'xxy')).toBe(true);
    expect(pythonRegexMatch('a++a', 'aaa')).toBe(false); // possessive
    expect(pythonRegexMatch('(?>ab|a)b', 'ab')).toBe(false); // atomic
    expect(pythonRegexMatch('(?>ab|a)b', 'abb')).toBe(true);
    expect(pythonRegexMatch('(x)(y)\\2\\1', 'xyyx')).toBe(true);
    expect(segmentMatches({ property: 'n', operator: 'REGEX', value: '^1\\.0$' }, { n: '1.0' })).toBe(true); // str(1.0)
    expect(segmentMatches({ property: 'b', operator: 'REGEX', value: 'True' }, { b: true })).toBe(true);
  });

  it('resolves JSONPath properties against the context, traits first', () => {
    expect(segmentMatches({ property: '$.identity.identifier', operator: 'EQUAL', value: 'someone' })).toBe(true);
    expect(segmentMatches({ property: '$.identity.key', operator: 'EQUAL', value: 'env_someone' })).toBe(true);
    expect(segmentMatches({ property: "$['environment']['name']", operator: 'EQUAL', value: 'Production' })).toBe(false); // not "$."
    expect(segmentMatches({ property: '$.environment["name"]', operator: 'EQUAL', value: 'Production' })).toBe(true);
    expect(segmentMatches({ property: '$.identity.identifier', operator: 'EQUAL', value: 'trait' }, { '$.identity.identifier': 'trait' })).toBe(true);
    expect(segmentMatches({ property: '$.not valid', operator: 'EQUAL', value: 'yes' }, { '$.not valid': 'yes' })).toBe(true);
    const path = compileJsonPath('$..b[-1]')!;
    expect(findFirst(path, { a: { b: [1, 2, 3] } })).toEqual({ value: 3 });
    expect(compileJsonPath('$.1abc')).toBeNull();
    expect(compileJsonPath('$[01]')).toBeNull();
  });

  it('splits by percentage on the property value, or the identity key without a property', () => {
    const pct = referencePercentage(['1', 'env_someone']);
    expect(segmentMatches({ property: '', operator: 'PERCENTAGE_SPLIT', value: String(pct) })).toBe(true);
    expect(segmentMatches({ property: '', operator: 'PERCENTAGE_SPLIT', value: String(pct - 1e-9) })).toBe(false);
    expect(segmentMatches({ property: 'company', operator: 'PERCENTAGE_SPLIT', value: '100' })).toBe(false); // unset trait
    const byTrait = referencePercentage(['1', 'acme']);
    expect(segmentMatches({ property: 'company', operator: 'PERCENTAGE_SPLIT', value: String(byTrait) }, { company: 'acme' })).toBe(true);
  });

  it('combines sub-rules with the parent rule type', () => {
    const result = (type: 'ALL' | 'ANY' | 'NONE') =>
      getEvaluationResult({
        environment: { key: 'env', name: 'Production' },
        identity: { identifier: 'u', traits: { a: 1 } },
        segments: {
          '1': {
            key: '1',
            name: 's',
            rules: [
              {
                type,
                rules: [
                  { type: 'ALL', conditions: [{ property: 'a', operator: 'EQUAL', value: '1' }] },
                  { type: 'ALL', conditions: [{ property: 'a', operator: 'EQUAL', value: '2' }] },
                ],
              },
            ],
          },
        },
      }).segments.length;
    expect(result('ALL')).toBe(0);
    expect(result('ANY')).toBe(1);
    expect(result('NONE')).toBe(0);
  });
});

describe('python value helpers', () => {
  it('formats floats as repr()', () => {
    expect(pyFloatRepr(1)).toBe('1.0');
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(1e15)).toBe('1000000000000000.0');
    expect(pyFloatRepr(0.0001)).toBe('0.0001');
    expect(pyFloatRepr(0.00001)).toBe('1e-05');
    expect(pyFloatRepr(-1.5e-7)).toBe('-1.5e-07');
    expect(pyFloatRepr(Infinity)).toBe('inf');
    expect(pyStr(new PyFloat(2))).toBe('2.0');
    expect(pyStr(true)).toBe('True');
  });

  it('parses like int() and float()', () => {
    expect(parsePyInt(' +1_000 ')).toBe(1000);
    expect(parsePyInt('1.5')).toBeUndefined();
    expect(parsePyInt('12345678901234567890')).toBe(12345678901234567890n);
    expect(parsePyFloat('1e3')).toBe(1000);
    expect(parsePyFloat('-inf')).toBe(-Infinity);
    expect(parsePyFloat('0x10')).toBeUndefined();
    expect(parsePyFloat('')).toBeUndefined();
    expect(mapStringValue('2.0')).toEqual(new PyFloat(2));
    expect(mapStringValue('-12')).toBe(-12);
    expect(mapStringValue('1e3')).toBe('1e3');
  });

  it('orders strings by code point', () => {
    expect(pyStrCmp('\u{1F600}', '\uFFFD')).toBe(1);
    expect(pyStrCmp('a', 'b')).toBe(-1);
    expect(pyStrCmp('ab', 'a')).toBe(1);
  });
});
