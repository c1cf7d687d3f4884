import { describe, expect, it } from 'vitest';
import { percentEncodedProblem, requestTargetProblem, textProblem } from './input-integrity.js';

describe('textProblem', () => {
  it('refuses NUL and unpaired surrogates, accepts pairs', () => {
    expect(textProblem('fine é 😀')).toBeUndefined();
    expect(textProblem('a\u0000')).toMatch(/NUL/);
    expect(textProblem('\ud800')).toMatch(/surrogate/);
    expect(textProblem('\udc00\ud800')).toMatch(/surrogate/);
    expect(textProblem('x\ud83d')).toMatch(/surrogate/);
  });
});

describe('percent-encoded input', () => {
  it('accepts valid UTF-8, plus signs and plain text', () => {
    expect(percentEncodedProblem('a=%C3%A9&b=x+y&c')).toBeUndefined();
    expect(requestTargetProblem('/graphql?query=%7B%20a%20%7D')).toBeUndefined();
    expect(requestTargetProblem('/health')).toBeUndefined();
  });

  it('refuses bytes that are not UTF-8, encoded surrogates, overlong forms, truncated sequences and NUL', () => {
    for (const bad of ['a=%FF', 'a=%ED%A0%80', 'a=%C0%80', 'a=%E2%82', 'a=%', 'a=%00', '%00=1']) expect(percentEncodedProblem(bad)).toBeDefined();
  });

  it('refuses raw characters that must be encoded in a request target', () => {
    expect(requestTargetProblem('/graphql?q=é')).toBeDefined();
    expect(requestTargetProblem('/graphql?q=\u00ff')).toBeDefined();
  });
});
