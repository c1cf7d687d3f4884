import { describe, expect, it } from 'vitest';
import { escapeLike } from './like.js';

describe('escapeLike', () => {
  it('escapes the pattern characters and the escape character, nothing else', () => {
    expect(escapeLike('a_b')).toBe('a\\_b');
    expect(escapeLike('100%')).toBe('100\\%');
    expect(escapeLike('back\\slash')).toBe('back\\\\slash');
    expect(escapeLike('\\%_')).toBe('\\\\\\%\\_');
    expect(escapeLike('plain.name-1')).toBe('plain.name-1');
  });
});
