import { describe, expect, it } from 'vitest';
import type { FlagResult } from '../engine/index.js';
import { OfrepError } from './errors.js';
import { contextFingerprint, describeFlag, ifNoneMatchHits, normaliseContext, parseEvaluationRequest, parseFlagKey } from './normalise.js';

const flag = (over: Partial<FlagResult>): FlagResult => ({ enabled: true, name: 'f', value: 'v', reason: 'DEFAULT', variant: null, ...over });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof OfrepError) return error.code;
    throw error;
  }
  return undefined;
}

describe('OFREP request parsing', () => {
  it('reads targetingKey as the identifier and the rest as traits, dropping nulls', () => {
    const context = parseEvaluationRequest(Buffer.from('{"context":{"targetingKey":"u1","plan":"pro","n":2,"b":false,"gone":null,"__proto__":"x"}}'));
    expect(context.identifier).toBe('u1');
    expect({ ...context.traits }).toEqual({ plan: 'pro', n: 2, b: false, ['__proto__']: 'x' });
  });

  it('takes a missing or null context as empty', () => {
    expect(parseEvaluationRequest(Buffer.from('{}'))).toEqual({ traits: {} });
    expect(parseEvaluationRequest(Buffer.from('{"context":null}'))).toEqual({ traits: {} });
  });

  it('refuses what is not JSON in UTF-8 with PARSE_ERROR', () => {
    expect(codeOf(() => parseEvaluationRequest(Buffer.from('{')))).toBe('PARSE_ERROR');
    expect(codeOf(() => parseEvaluationRequest(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('PARSE_ERROR');
    expect(codeOf(() => parseEvaluationRequest(Buffer.from('"context"')))).toBe('PARSE_ERROR');
  });

  it.each([
    ['a non-object context', 'x'],
    ['a non-string targetingKey', { targetingKey: 1 }],
    ['an empty targetingKey', { targetingKey: '' }],
    ['a NUL in targetingKey', { targetingKey: 'a\u0000' }],
    ['a lone surrogate in a value', { s: '\ud800' }],
    ['a lone surrogate in a name', { ['\udc00']: 1 }],
    ['an object value', { o: {} }],
    ['an array value', { a: [1] }],
    ['a long string', { s: 'x'.repeat(2001) }],
    ['a long name', { ['n'.repeat(201)]: 1 }],
    ['too many properties', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`t${i}`, i]))],
  ])('refuses %s with INVALID_CONTEXT', (_, context) => {
    expect(codeOf(() => normaliseContext(context))).toBe('INVALID_CONTEXT');
  });

  it('allows 100 traits besides targetingKey', () => {
    const context = { targetingKey: 'u', ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, i])) };
    expect(Object.keys(normaliseContext(context).traits)).toHaveLength(100);
  });

  it('reads flag keys: 404 for a key that cannot exist, 400 for one that cannot be a key', () => {
    expect(parseFlagKey('my.flag-1')).toBe('my.flag-1');
    expect(codeOf(() => parseFlagKey('has%20space'))).toBe('FLAG_NOT_FOUND');
    expect(codeOf(() => parseFlagKey('%E0%A4%A'))).toBe('PARSE_ERROR');
    expect(codeOf(() => parseFlagKey('x'.repeat(151)))).toBe('PARSE_ERROR');
  });
});

describe('OFREP results', () => {
  it('maps what decided to the OpenFeature reason', () => {
    expect(describeFlag({ flag: flag({ enabled: false, variant: 'a', reason: 'SPLIT; weight=50' }), multivariate: true }, true)).toMatchObject({
      reason: 'DISABLED',
      variant: 'a',
    });
    expect(describeFlag({ flag: flag({ reason: 'SPLIT; weight=50', variant: 'a' }), multivariate: true }, true).reason).toBe('SPLIT');
    expect(describeFlag({ flag: flag({ variant: 'control' }), multivariate: true }, true).reason).toBe('SPLIT');
    expect(describeFlag({ flag: flag({}), multivariate: true }, false).reason).toBe('DEFAULT');
    expect(describeFlag({ flag: flag({}), multivariate: false }, true).reason).toBe('STATIC');
    expect(describeFlag({ flag: flag({ reason: 'TARGETING_MATCH; segment=beta' }), multivariate: false }, true)).toEqual({
      key: 'f',
      value: 'v',
      reason: 'TARGETING_MATCH',
      metadata: { segment: 'beta' },
    });
    // The identity's own override decided (it serves one value: no variant).
    expect(describeFlag({ flag: flag({ reason: 'IDENTITY_OVERRIDE' }), multivariate: true }, true)).toEqual({
      key: 'f',
      value: 'v',
      reason: 'TARGETING_MATCH',
      metadata: {},
    });
    expect(describeFlag({ flag: flag({ reason: 'IDENTITY_OVERRIDE', enabled: false }), multivariate: false }, true).reason).toBe('DISABLED');
  });

  it('sends null values and leaves variant out when there is none', () => {
    const result = describeFlag({ flag: flag({ value: null }), multivariate: false }, false);
    expect(result).toEqual({ key: 'f', value: null, reason: 'STATIC', metadata: {} });
  });

  it('fingerprints a context whatever the order of its properties', () => {
    const a = normaliseContext({ targetingKey: 'u', x: 1, y: 'z' });
    const b = normaliseContext({ y: 'z', x: 1, targetingKey: 'u' });
    expect(contextFingerprint(a)).toBe(contextFingerprint(b));
    expect(contextFingerprint(a)).not.toBe(contextFingerprint(normaliseContext({ targetingKey: 'v', x: 1, y: 'z' })));
    expect(contextFingerprint(a)).not.toBe(contextFingerprint(normaliseContext({ targetingKey: 'u', x: '1', y: 'z' })));
  });

  it('fingerprints as the JSON of [identifier, sorted [name, value] pairs] (ETags stay as they were)', () => {
    const reference = (context: ReturnType<typeof normaliseContext>) =>
      JSON.stringify([context.identifier ?? null, Object.keys(context.traits).sort().map((name) => [name, context.traits[name]])]);
    for (const raw of [
      {},
      { targetingKey: 'user-1' },
      { targetingKey: 'u', plan: 'pro' },
      { n: -0, big: 1e21, small: 1.5e-7, t: true, f: false, s: 'quote " backslash \\ newline \n é 😀 \u2028' },
      { targetingKey: 'ü"\\', ['__proto__']: 'x', b: 2, a: 1, Z: 'upper', '10': 0, '9': 1 },
    ]) {
      const context = normaliseContext(raw);
      expect(contextFingerprint(context)).toBe(reference(context));
    }
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(ifNoneMatchHits('"b"', '"b"')).toBe(true);
    expect(ifNoneMatchHits('W/"b"', '"b"')).toBe(true);
    expect(ifNoneMatchHits('"a", W/"b"', '"b"')).toBe(true);
    expect(ifNoneMatchHits('*', '"b"')).toBe(true);
    expect(ifNoneMatchHits('"a"', '"b"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"b"')).toBe(false);
  });
});
