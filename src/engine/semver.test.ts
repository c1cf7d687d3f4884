import { describe, expect, it } from 'vitest';
import { compareSemver, parseSemver } from './semver.js';
import { segmentMatches } from '../../test/helpers/engine.js';

describe(':semver conditions', () => {
  it.each([
    ['1.9.0:semver', 'GREATER_THAN', true],
    ['1.10.0-rc.1:semver', 'GREATER_THAN', true],
    ['1.10.0+build:semver', 'EQUAL', true],
    ['v1.0.0:semver', 'GREATER_THAN', false], // invalid
  ])('1.10.0 against %s with %s: %s', (value, operator, expected) => {
    expect(segmentMatches({ property: 'v', operator, value }, { v: '1.10.0' })).toBe(expected);
  });

  it.each([
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-2', '1.0.0-10', -1],
    ['1.0.0-beta', '1.0.0-10', 1],
  ])('compares %s with %s by precedence: %i', (a, b, expected) => {
    expect(compareSemver(parseSemver(a)!, parseSemver(b)!)).toBe(expected);
  });

  it('refuses a leading zero', () => {
    expect(parseSemver('01.0.0')).toBeUndefined();
  });
});
