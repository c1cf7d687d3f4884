import { describe, expect, it } from 'vitest';
import { newRequestId, requestIdOf } from './request-id.js';

describe('request ids', () => {
  it('makes UUID-shaped ids, distinct from one request to the next', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // One process prefix, a counter after it.
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
    expect(parseInt(ids[1].slice(24), 16) - parseInt(ids[0].slice(24), 16)).toBe(1);
  });

  it('keeps a sane X-Request-Id and replaces anything else', () => {
    expect(requestIdOf('abc-123')).toBe('abc-123');
    expect(requestIdOf('a.b_c-9')).toBe('a.b_c-9');
    for (const bad of [undefined, '', 'x'.repeat(101), 'a b', 'a/b', ['abc', 'def']]) {
      const made = requestIdOf(bad);
      expect(made).not.toBe(bad);
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
