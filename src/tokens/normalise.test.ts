import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/app-errors.js';
import { normaliseTokenInput, SCOPES_PER_INPUT_MAX } from './normalise.js';

describe('token input', () => {
  it('trims the name and drops repeated scopes', () => {
    expect(normaliseTokenInput({ name: '  ci  ', scopes: ['ADMIN', 'ADMIN', 'ANALYTICS'] })).toEqual({ name: 'ci', scopes: ['ADMIN', 'ANALYTICS'] });
  });

  it.each([
    { input: { name: '   ', scopes: ['ADMIN' as const] }, code: 'INVALID_NAME', path: ['name'] },
    { input: { name: 'x'.repeat(101), scopes: ['ADMIN' as const] }, code: 'INVALID_NAME', path: ['name'] },
    { input: { name: 'ok', scopes: [] }, code: 'INVALID_INPUT', path: ['scopes'] },
    { input: { name: 'ok', scopes: Array.from({ length: SCOPES_PER_INPUT_MAX + 1 }, () => 'ADMIN' as const) }, code: 'INVALID_INPUT', path: ['scopes'] },
  ])('refuses $code at $path', ({ input, code, path }) => {
    let thrown: unknown;
    try {
      normaliseTokenInput(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown).toMatchObject({ code, path });
  });
});
