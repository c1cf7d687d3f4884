import { describe, expect, it } from 'vitest';
import { getEvaluationResult } from './index.js';

describe('rules', () => {
  it.each([
    ['ALL', 0],
    ['ANY', 1],
    ['NONE', 0],
  ] as const)('combines sub-rules with the parent rule type %s', (type, matched) => {
    const result = getEvaluationResult({
      environment: { key: 'env', name: 'Production' },
      identity: { identifier: 'u', traits: { a: 1 } },
      segments: {
        '1': {
          key: '1',
          name: 's',
          rules: [
            {
              type,
              rules: [
                { type: 'ALL', conditions: [{ property: 'a', operator: 'EQUAL', value: '1' }] },
                { type: 'ALL', conditions: [{ property: 'a', operator: 'EQUAL', value: '2' }] },
              ],
            },
          ],
        },
      },
    }).segments.length;
    expect(result).toBe(matched);
  });
});
