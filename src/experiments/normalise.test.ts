import { describe, expect, it } from 'vitest';
import { normaliseExperimentName, normaliseHypothesis } from './normalise.js';

describe('experiment inputs', () => {
  it('trims names and refuses blank, long or control characters', () => {
    expect(normaliseExperimentName('  button colour ')).toBe('button colour');
    for (const bad of ['', '   ', 'a'.repeat(101), 'a\nb']) {
      expect(() => normaliseExperimentName(bad)).toThrow(expect.objectContaining({ code: 'INVALID_NAME', path: ['name'] }));
    }
  });

  it('keeps a hypothesis trimmed, blank as none, and refuses one too long', () => {
    expect(normaliseHypothesis(' green sells more ')).toBe('green sells more');
    expect(normaliseHypothesis('  ')).toBeNull();
    expect(normaliseHypothesis(undefined)).toBeNull();
    expect(() => normaliseHypothesis('x'.repeat(2001))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
