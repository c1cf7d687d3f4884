import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors/app-errors.js';
import { controlWeight, normaliseWeight, totalWeight } from './weights.js';

describe('weights', () => {
  it('takes 0-100 with at most two decimals', () => {
    for (const ok of [0, 0.01, 33.33, 33.34, 50, 99.99, 100, 12.5, 0.1, 0.7]) expect(normaliseWeight(ok, ['w'])).toBe(ok);
    for (const bad of [-0.01, 100.01, 33.333, 0.001, 100.0000000004, 1e-9, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => normaliseWeight(bad, ['w'])).toThrow(ValidationError);
    }
  });

  it('sums exactly in hundredths', () => {
    expect(totalWeight([{ weight: 33.33 }, { weight: 33.33 }, { weight: 33.34 }])).toBe(100);
    expect(totalWeight([{ weight: 0.1 }, { weight: 0.2 }])).toBe(0.3);
    expect(controlWeight([{ weight: 0.1 }, { weight: 0.2 }])).toBe(99.7);
    expect(controlWeight([{ weight: 60 }, { weight: 40 }])).toBe(0);
    // Stored before the two-decimal rule: counted to the hundredth, so 100.0000000004 is 100.
    expect(totalWeight([{ weight: 50.0000000002 }, { weight: 50.0000000002 }])).toBe(100);
  });
});
