import { describe, expect, it } from 'vitest';
import { auditSnapshot, auditTargetId } from './normalise.js';

describe('auditSnapshot', () => {
  it('keeps a row as plain JSON: dates as ISO text, BigInts as decimal text', () => {
    const at = new Date('2026-12-17T10:00:00.123Z');
    expect(auditSnapshot({ id: 3, at, big: 9007199254740993n, value: { a: [1, null, 'x'] }, gone: undefined })).toEqual({
      id: 3,
      at: '2026-12-17T10:00:00.123Z',
      big: '9007199254740993',
      value: { a: [1, null, 'x'] },
    });
  });

  it('drops secret fields at any depth', () => {
    expect(auditSnapshot({ id: 1, name: 'job', tokenHash: 'ab12', nested: [{ tokenHash: 'cd34', ok: true }] })).toEqual({
      id: 1,
      name: 'job',
      nested: [{ ok: true }],
    });
  });

  it('keeps a missing row as null', () => {
    expect(auditSnapshot(null)).toBeNull();
    expect(auditSnapshot(undefined)).toBeNull();
  });
});

describe('auditTargetId', () => {
  it('is the id of the row after the change, else before it', () => {
    expect(auditTargetId(null, { id: 7 })).toBe(7);
    expect(auditTargetId({ id: 8 }, null)).toBe(8);
    expect(auditTargetId({ id: 8 }, { id: 9 })).toBe(9);
  });

  it('refuses a change without a row', () => {
    expect(() => auditTargetId(null, null)).toThrow();
    expect(() => auditTargetId({ id: '1' }, null)).toThrow();
  });
});
