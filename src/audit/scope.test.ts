// The audit scope is switched off between audited actions (a promise hook on every promise
// otherwise): overlapping actions must each keep their own scope to the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentAuditScope, runAudited } from './scope.js';

const actor = { tokenId: 1, name: 'tester' };

describe('runAudited', () => {
  it('keeps each overlapping action its scope after the other one ends, and none outside', async () => {
    const seen: (string | undefined)[] = [];
    const first = runAudited({ action: 'first', actor }, async () => {
      await sleep(5);
      seen.push(currentAuditScope()?.action);
    });
    const second = runAudited({ action: 'second', actor }, async () => {
      await sleep(20); // still running when `first` has ended
      seen.push(currentAuditScope()?.action);
      await Promise.resolve();
      seen.push(currentAuditScope()?.action);
    });
    expect(currentAuditScope()).toBeUndefined();
    await first;
    await second;
    expect(seen).toEqual(['first', 'second', 'second']);
    expect(currentAuditScope()).toBeUndefined();

    // Switched on again for the next action, also after a failing one.
    await expect(runAudited({ action: 'failing', actor }, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(() => runAudited({ action: 'throwing', actor }, () => { throw new Error('sync'); })).toThrow('sync');
    expect(await runAudited({ action: 'third', actor }, async () => { await sleep(1); return currentAuditScope()?.action; })).toBe('third');
    expect(runAudited({ action: 'sync', actor }, () => currentAuditScope()?.action)).toBe('sync');
  });
});
