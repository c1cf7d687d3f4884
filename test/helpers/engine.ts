/** Shared by the engine's unit tests. */
import { createHash } from 'node:crypto';
import { getEvaluationResult, type EvaluationContext } from '../../src/engine/index.js';

/** Independent reference: md5 → full 128-bit BigInt → % 9999 / 9998 * 100, with the rehash rule. */
export function referencePercentage(ids: string[]): number {
  for (let it = 1; ; it++) {
    const toHash = Array.from({ length: it }, () => ids).flat().join(',');
    const hex = createHash('md5').update(toHash, 'utf8').digest('hex');
    const value = (Number(BigInt('0x' + hex) % 9999n) / 9998) * 100;
    if (value !== 100) return value;
  }
}

/** Whether a one-condition segment matches identity "someone" with these traits. */
export function segmentMatches(
  condition: { property?: string; operator: string; value?: unknown },
  traits: Record<string, unknown> = {},
  identity: Record<string, unknown> = {},
): boolean {
  const result = getEvaluationResult({
    environment: { key: 'env', name: 'Production' },
    identity: { identifier: 'someone', ...identity, traits } as EvaluationContext['identity'],
    segments: {
      '1': { key: '1', name: 's', rules: [{ type: 'ALL', conditions: [condition as never] }] },
    },
  });
  return result.segments.length === 1;
}
