import { describe, expect, it } from 'vitest';
import { formatWeight } from './evaluator.js';
import { getEvaluationResult, prepareEnvironment, type EvaluationContext, type FeatureContext, type SegmentContext } from './index.js';
import { referencePercentage } from '../../test/helpers/engine.js';

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

  it.each([
    [30, '30'],
    [54.54, '54.54'],
    [0.00001, '1e-05'],
    [33.333333333333336, '33.333333333333336'],
  ])('formats weight %s as Python str() does: %s', (weight, text) => {
    expect(formatWeight(weight)).toBe(text);
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
