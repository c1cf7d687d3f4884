import { describe, expect, it } from 'vitest';
import { PyFloat } from './index.js';
import { referencePercentage, segmentMatches } from '../../test/helpers/engine.js';

type Row = [string, { property?: string; operator: string; value?: unknown }, Record<string, unknown>, boolean];

describe('conditions', () => {
  it.each<Row>([
    ['GREATER_THAN on a numeric string', { property: 'age', operator: 'GREATER_THAN', value: '9' }, { age: '10' }, true],
    ['IN with a zero-padded int', { property: 'code', operator: 'IN', value: '7,8' }, { code: '007' }, true], // int 7
    ['IN by the int, not the text', { property: 'code', operator: 'IN', value: '007' }, { code: '007' }, false],
    ['IN with a big int', { property: 'big', operator: 'IN', value: '98765432109876543210' }, { big: '98765432109876543210' }, true],
    ['LESS_THAN 2.5 on "2"', { property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: '2' }, false], // int('2.5') raises
    ['LESS_THAN 2.5 on int 2', { property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: 2 }, false],
    ['LESS_THAN 2.5 on float 2.0', { property: 'n', operator: 'LESS_THAN', value: '2.5' }, { n: new PyFloat(2) }, true],
    ['CONTAINS on a numeric string', { property: 'name', operator: 'CONTAINS', value: '12' }, { name: '123' }, false], // int
  ])('types numeric-looking string traits as numbers: %s', (_name, condition, traits, expected) => {
    expect(segmentMatches(condition, traits)).toBe(expected);
  });

  it.each<Row>([
    ['true', { property: 'b', operator: 'EQUAL', value: 'true' }, { b: true }, true],
    ['False', { property: 'b', operator: 'EQUAL', value: 'False' }, { b: false }, true],
    ['anything', { property: 'b', operator: 'EQUAL', value: 'anything' }, { b: true }, true],
  ])('casts the condition value %s to a boolean as the reference does', (_name, condition, traits, expected) => {
    expect(segmentMatches(condition, traits)).toBe(expected);
  });

  it.each<Row>([
    ['-1 % 4 == 3', { property: 'n', operator: 'MODULO', value: '4|3' }, { n: -1 }, true],
    ['"10" % 2 == 0', { property: 'n', operator: 'MODULO', value: '2|0' }, { n: '10' }, true],
    ['zero divisor', { property: 'n', operator: 'MODULO', value: '0|0' }, { n: 3 }, false],
    ['three parts', { property: 'n', operator: 'MODULO', value: '2|1|0' }, { n: 3 }, false],
  ])('handles MODULO with Python float semantics: %s', (_name, condition, traits, expected) => {
    expect(segmentMatches(condition, traits)).toBe(expected);
  });

  it.each<Row>([
    ['JSON array', { property: 'x', operator: 'IN', value: '["a","b"]' }, { x: 'b' }, true],
    ['list of strings', { property: 'x', operator: 'IN', value: ['1', '2'] }, { x: 2 }, true],
    ['JSON 1.0 is "1.0"', { property: 'x', operator: 'IN', value: '[1.0, 2]' }, { x: 1 }, false],
    ['JSON 2 is "2"', { property: 'x', operator: 'IN', value: '[1.0, 2]' }, { x: '2' }, true],
    ['comma list keeps spaces', { property: 'x', operator: 'IN', value: 'a, b' }, { x: 'b' }, false], // " b"
    ['booleans are not "true"', { property: 'x', operator: 'IN', value: 'true,True' }, { x: true }, false],
  ])('parses IN values as JSON arrays or comma lists: %s', (_name, condition, traits, expected) => {
    expect(segmentMatches(condition, traits)).toBe(expected);
  });

  describe('PERCENTAGE_SPLIT', () => {
    const pct = referencePercentage(['1', 'env_someone']);
    const byTrait = referencePercentage(['1', 'acme']);
    it.each<Row>([
      ['the identity key, at the boundary', { property: '', operator: 'PERCENTAGE_SPLIT', value: String(pct) }, {}, true],
      ['the identity key, just below', { property: '', operator: 'PERCENTAGE_SPLIT', value: String(pct - 1e-9) }, {}, false],
      ['an unset trait', { property: 'company', operator: 'PERCENTAGE_SPLIT', value: '100' }, {}, false],
      ['the trait value', { property: 'company', operator: 'PERCENTAGE_SPLIT', value: String(byTrait) }, { company: 'acme' }, true],
    ])('splits on %s', (_name, condition, traits, expected) => {
      expect(segmentMatches(condition, traits)).toBe(expected);
    });
  });
});
