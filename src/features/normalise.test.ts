import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/app-errors.js';
import { VariantKeyError } from './errors.js';
import { isFeatureName } from './feature-name.js';
import {
  featureStateReference,
  normaliseAllocations,
  normaliseFeatureChanges,
  normaliseFeatureName,
  normaliseNewFeature,
  normaliseOptionInput,
  normalisePriority,
  normaliseVariantKey,
  optionalText,
} from './normalise.js';

/** The error a call throws, for matching its class and fields. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('normaliseFeatureName', () => {
  it.each([
    ['plain', 'plain'],
    ['  trimmed  ', 'trimmed'],
    ['A-z_0.9', 'A-z_0.9'],
    ['x'.repeat(150), 'x'.repeat(150)],
  ])('takes %j as %j', (raw, name) => {
    expect(normaliseFeatureName(raw, ['name'])).toBe(name);
  });

  it.each(['', '   ', 'x'.repeat(151), 'with space', 'naïve', 'a/b', 'a\u0000b'])('refuses %j with INVALID_FEATURE_NAME', (raw) => {
    expect(thrown(() => normaliseFeatureName(raw, ['input', 'name']))).toMatchObject({
      constructor: ValidationError,
      code: 'INVALID_FEATURE_NAME',
      path: ['input', 'name'],
    });
  });

  it.each([
    ['ok', true],
    ['x'.repeat(150), true],
    ['x'.repeat(151), false],
    ['', false],
    [' padded', false],
  ])('isFeatureName(%j) is %s', (name, expected) => {
    expect(isFeatureName(name)).toBe(expected);
  });
});

describe('normaliseVariantKey', () => {
  it.each([
    [undefined, null],
    [null, null],
    ['', null],
    ['   ', null],
    [' variant_a ', 'variant_a'],
    ['9lives', '9lives'],
    ['a'.repeat(100), 'a'.repeat(100)],
    ['controls', 'controls'],
  ])('takes %j as %j', (raw, key) => {
    expect(normaliseVariantKey(raw, ['key'])).toBe(key);
  });

  it.each([
    ['-leading', 'INVALID_VARIANT_KEY'],
    ['_leading', 'INVALID_VARIANT_KEY'],
    ['has space', 'INVALID_VARIANT_KEY'],
    ['a'.repeat(101), 'INVALID_VARIANT_KEY'],
    ['control', 'RESERVED_VARIANT_KEY'],
    ['Control', 'RESERVED_VARIANT_KEY'],
    [' CONTROL ', 'RESERVED_VARIANT_KEY'],
  ])('refuses %j with %s', (raw, code) => {
    expect(thrown(() => normaliseVariantKey(raw, ['options', 2, 'key']))).toMatchObject({
      constructor: VariantKeyError,
      code,
      path: ['options', 2, 'key'],
    });
  });

  it('names the reserved key as trimmed, an invalid one shortened', () => {
    expect(thrown(() => normaliseVariantKey(' Control ', []))).toMatchObject({ key: 'Control' });
    expect((thrown(() => normaliseVariantKey('x'.repeat(500), [])) as VariantKeyError).key!.length).toBeLessThan(100);
  });
});

describe('optionalText and normalisePriority', () => {
  it.each([
    [undefined, undefined],
    [null, null],
    ['', null],
    ['  ', null],
    [' text ', 'text'],
    ['x'.repeat(10), 'x'.repeat(10)],
  ])('optionalText(%j) is %j', (raw, text) => {
    expect(optionalText(raw, 10, ['description'], 'A description')).toBe(text);
  });

  it('refuses text over the limit with INVALID_INPUT', () => {
    expect(thrown(() => optionalText('x'.repeat(11), 10, ['description'], 'A description'))).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'A description is at most 10 characters.',
      path: ['description'],
    });
  });

  it.each([0, -1, 2147483647, -2147483648])('takes priority %d', (priority) => {
    expect(normalisePriority(priority, ['priority'])).toBe(priority);
  });

  it.each([2147483648, -2147483649, 1.5, Number.NaN])('refuses priority %d', (priority) => {
    expect(thrown(() => normalisePriority(priority, ['priority']))).toMatchObject({ code: 'INVALID_INPUT', path: ['priority'] });
  });
});

describe('normaliseOptionInput', () => {
  it('normalises every field but the key, and leaves absent fields undefined', () => {
    expect(normaliseOptionInput({ key: ' k ', name: ' Name ', description: '', value: null, defaultWeight: 12.5, priority: 3 }, [])).toEqual({
      key: ' k ',
      name: 'Name',
      description: null,
      value: null,
      defaultWeight: 12.5,
      priority: 3,
    });
    expect(normaliseOptionInput({}, [])).toEqual({
      key: undefined,
      name: undefined,
      description: undefined,
      value: undefined,
      defaultWeight: undefined,
      priority: undefined,
    });
  });

  it.each([
    [{ name: 'x'.repeat(201) }, 'INVALID_INPUT', ['options', 0, 'name']],
    [{ description: 'x'.repeat(2001) }, 'INVALID_INPUT', ['options', 0, 'description']],
    [{ defaultWeight: 100.5 }, 'INVALID_WEIGHT', ['options', 0, 'defaultWeight']],
    [{ defaultWeight: 1.234 }, 'INVALID_WEIGHT', ['options', 0, 'defaultWeight']],
    [{ priority: 2 ** 40 }, 'INVALID_INPUT', ['options', 0, 'priority']],
  ])('refuses %j with %s at %j', (input, code, path) => {
    expect(thrown(() => normaliseOptionInput(input, ['options', 0]))).toMatchObject({ code, path });
  });
});

describe('normaliseNewFeature and normaliseFeatureChanges', () => {
  it('defaults what is left out', () => {
    expect(normaliseNewFeature({ projectId: 1, name: ' f ' })).toEqual({ name: 'f', description: null, options: [], defaultEnabled: false });
    expect(normaliseFeatureChanges({})).toEqual({ name: undefined, description: undefined });
    expect(normaliseFeatureChanges({ name: null, description: null })).toEqual({ name: undefined, description: null });
  });

  it.each([
    [{ projectId: 1, name: 'bad name' }, 'INVALID_FEATURE_NAME', ['name']],
    [{ projectId: 1, name: 'f', description: 'x'.repeat(2001) }, 'INVALID_INPUT', ['description']],
    [{ projectId: 1, name: 'f', options: Array.from({ length: 101 }, () => ({})) }, 'INVALID_INPUT', ['options']],
    [{ projectId: 1, name: 'f', options: [{}, { defaultWeight: -1 }] }, 'INVALID_WEIGHT', ['options', 1, 'defaultWeight']],
    // Fields are checked in order: the name before the options.
    [{ projectId: 1, name: '', options: [{ defaultWeight: -1 }] }, 'INVALID_FEATURE_NAME', ['name']],
  ])('refuses %#: %s at %j', (input, code, path) => {
    expect(thrown(() => normaliseNewFeature(input))).toMatchObject({ code, path });
  });

  it('leaves option keys to the write (they need the database)', () => {
    expect(normaliseNewFeature({ projectId: 1, name: 'f', options: [{ key: 'control' }] }).options[0].key).toBe('control');
  });
});

describe('normaliseAllocations', () => {
  it('takes weights and removals, with the path of each option id', () => {
    expect(normaliseAllocations(null)).toEqual([]);
    expect(
      normaliseAllocations([
        { optionId: 1, weight: 25 },
        { optionId: 2, weight: null },
        { optionId: 3, weight: undefined },
      ]),
    ).toEqual([
      { optionId: 1, weight: 25, path: ['allocations', 0, 'optionId'] },
      { optionId: 2, weight: null, path: ['allocations', 1, 'optionId'] },
      { optionId: 3, weight: null, path: ['allocations', 2, 'optionId'] },
    ]);
  });

  it.each([
    [Array.from({ length: 101 }, (_, i) => ({ optionId: i, weight: 0 })), 'INVALID_INPUT', ['allocations']],
    [[{ optionId: 1, weight: 0.001 }], 'INVALID_WEIGHT', ['allocations', 0, 'weight']],
    [
      [
        { optionId: 1, weight: 1 },
        { optionId: 1, weight: 2 },
      ],
      'INVALID_INPUT',
      ['allocations', 1, 'optionId'],
    ],
  ])('refuses %#: %s at %j', (input, code, path) => {
    expect(thrown(() => normaliseAllocations(input))).toMatchObject({ code, path });
  });
});

describe('featureStateReference', () => {
  it.each([
    [{ stateId: 1 }, { stateId: 1 }],
    [{ environmentId: 2, featureId: 3 }, { environmentId: 2, featureId: 3 }],
  ])('takes %j', (input, reference) => {
    expect(featureStateReference(input)).toEqual(reference);
  });

  it.each([{ stateId: 1, featureId: 3 }, { stateId: 1, environmentId: 2 }, {}, { environmentId: 2 }, { featureId: 3 }])(
    'refuses %j with INVALID_INPUT on id',
    (input) => {
      expect(thrown(() => featureStateReference(input))).toMatchObject({ code: 'INVALID_INPUT', path: ['id'] });
    },
  );
});
