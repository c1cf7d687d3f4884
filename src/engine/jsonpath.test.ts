import { describe, expect, it } from 'vitest';
import { compileJsonPath, findFirst } from './jsonpath.js';
import { segmentMatches } from '../../test/helpers/engine.js';

describe('JSONPath properties', () => {
  it.each([
    ['$.identity.identifier', 'someone', {}, true],
    ['$.identity.key', 'env_someone', {}, true],
    ["$['environment']['name']", 'Production', {}, false], // not "$."
    ['$.environment["name"]', 'Production', {}, true],
    ['$.identity.identifier', 'trait', { '$.identity.identifier': 'trait' }, true], // traits first
    ['$.not valid', 'yes', { '$.not valid': 'yes' }, true],
  ])('%s EQUAL %j with traits %j: %s', (property, value, traits, expected) => {
    expect(segmentMatches({ property, operator: 'EQUAL', value }, traits)).toBe(expected);
  });

  it('finds the first match of a descendant selector', () => {
    const path = compileJsonPath('$..b[-1]')!;
    expect(findFirst(path, { a: { b: [1, 2, 3] } })).toEqual({ value: 3 });
  });

  it.each(['$.1abc', '$[01]'])('refuses %s', (path) => {
    expect(compileJsonPath(path)).toBeNull();
  });
});
