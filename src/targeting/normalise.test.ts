import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/app-errors.js';
import { SegmentRulesError } from './errors.js';
import {
  normaliseDescription,
  normaliseIdentifier,
  normaliseNewSegment,
  normaliseOverrideAllocations,
  normalisePriority,
  normaliseSegmentChanges,
  normaliseSegmentName,
  normaliseSegmentRules,
} from './normalise.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const condition = (operator: string, value: unknown, property = 'plan') => ({ property, operator, value });
const rule = (conditions: unknown[], rules: unknown[] = []) => ({ type: 'ALL', conditions, rules });

describe('normaliseSegmentName', () => {
  it.each([
    ['pro_users', 'pro_users'],
    ['  ca.pro-users  ', 'ca.pro-users'],
    ['x'.repeat(150), 'x'.repeat(150)],
  ])('takes %j as %j', (raw, name) => {
    expect(normaliseSegmentName(raw, ['name'])).toBe(name);
  });

  it.each(['', '  ', 'pro users', 'x'.repeat(151), 'naïve', 'a\u0000b'])('refuses %j with INVALID_NAME', (raw) => {
    expect(thrown(() => normaliseSegmentName(raw, ['name']))).toMatchObject({ constructor: ValidationError, code: 'INVALID_NAME', path: ['name'] });
  });
});

describe('normaliseSegmentRules', () => {
  it('takes every operator with a value of its form', () => {
    const rules = [
      rule(
        [
          condition('EQUAL', 'pro'),
          condition('NOT_EQUAL', '1.2.3:semver', 'version'),
          condition('GREATER_THAN', '10', 'age'),
          condition('GREATER_THAN_INCLUSIVE', '10', 'age'),
          condition('LESS_THAN', '10', 'age'),
          condition('LESS_THAN_INCLUSIVE', '10', 'age'),
          condition('CONTAINS', 'ro'),
          condition('NOT_CONTAINS', 'x'),
          condition('IN', 'CA,US', 'country'),
          condition('IN', ['CA', 'US'], 'country'),
          condition('REGEX', '^p.o$'),
          condition('IS_SET', null),
          condition('IS_NOT_SET', null),
          condition('MODULO', '2|0', 'n'),
          condition('PERCENTAGE_SPLIT', '50', '$.identity.identifier'),
        ],
        [{ type: 'ANY', conditions: [condition('EQUAL', 'a')] }, { type: 'NONE', conditions: [] }],
      ),
    ];
    expect(normaliseSegmentRules(rules, ['rules'])).toBe(rules);
  });

  it.each([
    ['not a list', { type: 'ALL' }, ['rules'], 'list'],
    ['an unknown rule type', [{ type: 'SOME', conditions: [] }], ['rules', 0, 'type'], 'rule type'],
    ['an unknown operator', [rule([condition('LIKE', 'x')])], ['rules', 0, 'conditions', 0, 'operator'], 'operator'],
    ['a missing property', [rule([{ operator: 'EQUAL', value: 'x' }])], ['rules', 0, 'conditions', 0, 'property'], 'property'],
    ['a REGEX Python refuses', [rule([condition('REGEX', '(?<n>x)')])], ['rules', 0, 'conditions', 0, 'value'], ''],
    ['a REGEX that does not compile', [rule([condition('REGEX', '(unclosed')])], ['rules', 0, 'conditions', 0, 'value'], ''],
    ['a MODULO without remainder', [rule([condition('MODULO', '2')])], ['rules', 0, 'conditions', 0, 'value'], 'MODULO'],
    ['a MODULO by zero', [rule([condition('MODULO', '0|1')])], ['rules', 0, 'conditions', 0, 'value'], 'zero'],
    ['a PERCENTAGE_SPLIT that is not a number', [rule([condition('PERCENTAGE_SPLIT', 'half')])], ['rules', 0, 'conditions', 0, 'value'], 'number'],
    ['a bad semver', [rule([condition('EQUAL', 'one:semver')])], ['rules', 0, 'conditions', 0, 'value'], 'semantic'],
    ['a nested problem', [rule([], [rule([condition('EQUAL', 1)])])], ['rules', 0, 'rules', 0, 'conditions', 0, 'value'], 'string'],
  ])('refuses %s with INVALID_SEGMENT_RULES at its path', (_what, rules, path, message) => {
    const error = thrown(() => normaliseSegmentRules(rules, ['rules'])) as SegmentRulesError;
    expect(error).toBeInstanceOf(SegmentRulesError);
    expect(error.code).toBe('INVALID_SEGMENT_RULES');
    expect(error.path).toEqual(path);
    expect(error.problems[0].path).toEqual(path);
    expect(error.problems[0].message).toContain(message);
  });

  it('refuses nesting deeper than 10 and more than 100 conditions', () => {
    let deep: unknown = rule([]);
    for (let i = 0; i < 10; i++) deep = rule([], [deep]);
    expect(thrown(() => normaliseSegmentRules([deep], ['rules']))).toMatchObject({ code: 'INVALID_SEGMENT_RULES' });
    const many = [rule(Array.from({ length: 101 }, () => condition('EQUAL', 'x')))];
    expect(thrown(() => normaliseSegmentRules(many, ['rules']))).toMatchObject({ code: 'INVALID_SEGMENT_RULES', path: ['rules'] });
    expect(normaliseSegmentRules([rule(Array.from({ length: 100 }, () => condition('EQUAL', 'x')))], ['rules'])).toHaveLength(1);
  });

  it('lists every problem', () => {
    const error = thrown(() => normaliseSegmentRules([rule([condition('LIKE', 'x'), condition('MODULO', 'x')])], ['rules'])) as SegmentRulesError;
    expect(error.problems.map((problem) => problem.path)).toEqual([
      ['rules', 0, 'conditions', 0, 'operator'],
      ['rules', 0, 'conditions', 1, 'value'],
    ]);
  });
});

describe('segment inputs', () => {
  it('checks a new segment field by field', () => {
    expect(normaliseNewSegment({ name: ' pro ', description: '  ', rules: [] })).toEqual({ name: 'pro', description: null, rules: [] });
    expect(thrown(() => normaliseNewSegment({ name: null, rules: [] }))).toMatchObject({ code: 'INVALID_NAME', path: ['name'] });
    expect(thrown(() => normaliseNewSegment({ name: 'ok', rules: 'x' }))).toMatchObject({ code: 'INVALID_SEGMENT_RULES', path: ['rules'] });
  });

  it('leaves out what an update does not give', () => {
    expect(normaliseSegmentChanges({})).toEqual({ name: undefined, description: undefined, rules: undefined });
    expect(normaliseSegmentChanges({ description: null })).toMatchObject({ description: null });
    expect(thrown(() => normaliseDescription('x'.repeat(2001), ['description']))).toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('override inputs', () => {
  it('takes 32-bit priorities only', () => {
    expect(normalisePriority(-5, ['priority'])).toBe(-5);
    for (const bad of [1.5, 2 ** 31, Number.NaN]) {
      expect(thrown(() => normalisePriority(bad, ['priority']))).toMatchObject({ code: 'INVALID_INPUT', path: ['priority'] });
    }
  });

  it('checks allocation weights and repeats', () => {
    expect(normaliseOverrideAllocations([{ optionId: 1, weight: 33.33 }])).toEqual([{ optionId: 1, weight: 33.33, path: ['allocations', 0, 'optionId'] }]);
    for (const weight of [-1, 100.01, 1.234]) {
      expect(thrown(() => normaliseOverrideAllocations([{ optionId: 1, weight }]))).toMatchObject({
        code: 'INVALID_WEIGHT',
        path: ['allocations', 0, 'weight'],
      });
    }
    expect(
      thrown(() =>
        normaliseOverrideAllocations([
          { optionId: 1, weight: 1 },
          { optionId: 1, weight: 2 },
        ]),
      ),
    ).toMatchObject({ code: 'INVALID_INPUT', path: ['allocations', 1, 'optionId'] });
  });

  it('takes identifiers as flags does', () => {
    expect(normaliseIdentifier('user-1', ['identifier'])).toBe('user-1');
    for (const bad of ['', 'x'.repeat(2001), 'a\u0000b']) {
      expect(thrown(() => normaliseIdentifier(bad, ['identifier']))).toMatchObject({ code: 'INVALID_IDENTIFIER', path: ['identifier'] });
    }
  });
});
