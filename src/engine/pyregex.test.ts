import { describe, expect, it } from 'vitest';
import { compilePythonRegex, pythonRegexMatch } from './pyregex.js';
import { segmentMatches } from '../../test/helpers/engine.js';

describe('pythonRegexMatch: Python re.match', () => {
  it.each([
    ['[a-z]+', 'abc123', true], // anchored at the start only
    ['[a-z]+', '1abc', false],
    ['abc$', 'abc\n', true], // Python's $ before a final newline
    ['(?i)ABC', 'abc', true],
    ['(?P<x>a)(?P=x)', 'aa', true],
    ['\\d+', '\u0661\u0662\u0663', true], // Unicode digits
    ['(?a)\\d+', '\u0661\u0662\u0663', false],
    ['.', '\n', false],
    ['[', 'x', false], // invalid pattern never matches
    ['x{,2}y', 'xxy', true],
    ['a++a', 'aaa', false], // possessive
    ['(?>ab|a)b', 'ab', false], // atomic
    ['(?>ab|a)b', 'abb', true],
    ['(x)(y)\\2\\1', 'xyyx', true],
  ])('%j against %j: %s', (pattern, subject, expected) => {
    expect(pythonRegexMatch(pattern, subject)).toBe(expected);
  });

  it.each([
    [{ property: 'n', operator: 'REGEX', value: '^1\\.0$' }, { n: '1.0' }], // str(1.0)
    [{ property: 'b', operator: 'REGEX', value: 'True' }, { b: true }],
  ])('matches %j against the trait as str() shows it', (condition, traits) => {
    expect(segmentMatches(condition, traits)).toBe(true);
  });
});

/** Answers of CPython 3.11.7's `re.match(pattern, subject)`. */
describe('IGNORECASE folds as CPython 3.11 does', () => {
  it.each([
    ['(?i)\u0130', 'i', true],
    ['(?i)\u0130', 'I', true],
    ['(?i)\u0130', '\u0131', true],
    ['(?i)\u0130', 'inf', true],
    ['(?i)i', '\u0130', true],
    ['(?i)i', '\u0131', true],
    ['(?i)I', '\u0131', true],
    ['(?i)\u0131', 'I', true],
    ['(?i)[a-z]+', '\u0130', true],
    ['(?i)[a-z]+', '\u0131', true],
    ['(?i)s', '\u017f', true],
    ['(?i)k', '\u212a', true],
    ['(?i)\u212a', 'K', true],
    ['(?i)\u00df', '\u1e9e', true],
    ['(?i)\u1e9e', '\u00df', true],
    ['(?i)[\u00df]', '\u1e9e', true],
    ['(?i)[\u00dfx]', '\u1e9e', true],
    ['(?i)\u00b5', '\u039c', true],
    ['(?i)\u03c2', '\u03a3', true],
    ['(?i)\u03c3', '\u03c2', true],
    ['(?i)\u1c80', '\u0412', true],
    ['(?i)[^i]', '\u0131', false],
    ['(?i)[^a-z]', 'K', false],
    ['(?i)[^a-z]', '\u212a', false],
    ['(?ai)k', '\u212a', false],
    ['(?ai)k', 'K', true],
    ['(?ai)[a-z]', '\u017f', false],
    ['(?ai)s', '\u017f', false],
    ['(?i)\u{10400}', '\u{10428}', true],
    ['(?i)[\u{10400}a]', '\u{10400}', false],
    ['(?i)[\u{10400}a]', '\u{10428}', false],
    ['(?i)[\u{10400}-\u{10401}]', '\u{10428}', true],
    ['(?i)[\u{10428}-\u{10429}]', '\u{10400}', true],
    ['(?i)[\\w]', '\u0130', true],
    ['(?i)\\x49', '\u0131', true],
    ['(?i)\\u0130', 'i', true],
    ['(?i)\u01c5', '\u01c6', true],
    ['(?i)\u01c5', '\u01c4', true],
    ['(?i)\u10d0', '\u1c90', true],
    ['(?i)\u0345', '\u03b9', true],
    ['(?i)\u0345', '\u0399', true],
    ['(?i)\u0390', '\u1fd3', true],
    ['(?i)ABC', 'abc', true],
    ['(?i)abc$', 'ABC\u000a', true],
  ])('%j against %j: %s', (pattern, subject, expected) => {
    expect(pythonRegexMatch(pattern, subject)).toBe(expected);
  });
});

describe('backreferences', () => {
  it.each([
    ['(a)(?:b|c)\\1', 'aca', true],
    ['(?:(a)\\1)+', 'aaaa', true],
    ['(a)\\1', 'ab', false],
  ])('%j against %j: %s', (pattern, subject, expected) => {
    expect(pythonRegexMatch(pattern, subject)).toBe(expected);
  });

  // Python fails where JavaScript would match the empty string, or compares by its own
  // case folding: such patterns are refused (validateSegmentRules says so on write).
  it.each(['(a)?\\1b', '(?P<x>a)?(?P=x)b', '(a)|\\1', '(?:(a)b)+\\1', '(?=(a))\\1', '(a\\1)', '(?i)(a)\\1'])('refuses %j', (pattern) => {
    expect(compilePythonRegex(pattern)).toBeNull();
  });
});
