import { describe, expect, it } from 'vitest';
import { DuplicateNameError, ValidationError } from '../errors/app-errors.js';
import { normaliseName, normaliseNewProject } from './normalise.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('normaliseName', () => {
  it.each([
    ['Shop', 'Shop'],
    ['  padded  ', 'padded'],
    ['émoji 😀 ok', 'émoji 😀 ok'],
    ['x'.repeat(100), 'x'.repeat(100)],
  ])('takes %j as %j', (raw, name) => {
    expect(normaliseName(raw, ['name'], 'A project')).toBe(name);
  });

  it.each(['', '   ', 'x'.repeat(101), 'a\u0000b', 'tab\there', 'del\u007f'])('refuses %j with INVALID_NAME', (raw) => {
    expect(thrown(() => normaliseName(raw, ['environments', 1], 'An environment'))).toMatchObject({
      constructor: ValidationError,
      code: 'INVALID_NAME',
      message: 'An environment name must be 1-100 printable characters.',
      path: ['environments', 1],
    });
  });
});

describe('normaliseNewProject', () => {
  it.each([
    [{ name: 'p' }, { name: 'p', environments: ['development', 'production'] }],
    [{ name: 'p', environments: null }, { name: 'p', environments: ['development', 'production'] }],
    [{ name: ' p ', environments: [' staging '] }, { name: 'p', environments: ['staging'] }],
  ])('takes %j', (input, project) => {
    expect(normaliseNewProject(input)).toEqual(project);
  });

  it.each([
    [{ name: '' }, ValidationError, 'INVALID_NAME', ['name']],
    [{ name: 'p', environments: [] }, ValidationError, 'INVALID_INPUT', ['environments']],
    [{ name: 'p', environments: Array.from({ length: 101 }, (_, i) => `e${i}`) }, ValidationError, 'INVALID_INPUT', ['environments']],
    [{ name: 'p', environments: ['ok', ''] }, ValidationError, 'INVALID_NAME', ['environments', 1]],
    [{ name: 'p', environments: ['a', 'b', ' a'] }, DuplicateNameError, 'DUPLICATE_NAME', ['environments', 2]],
  ])('refuses %#: %s %s at %j', (input, type, code, path) => {
    expect(thrown(() => normaliseNewProject(input))).toMatchObject({ constructor: type, code, path });
  });
});
