import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateTimeScalar, isValidTime } from './date-time.js';

describe('DateTime scalar', () => {
  it('parses ISO-8601 date-times, and lets invalid strings through as Invalid Date', () => {
    expect(DateTimeScalar.parseValue('2026-01-02T03:04:05.678Z')).toEqual(new Date('2026-01-02T03:04:05.678Z'));
    for (const bad of ['2026-13-45', '10000-01-01T00:00:00Z', 'now', '']) {
      expect(isValidTime(DateTimeScalar.parseValue(bad))).toBe(false);
      expect(isValidTime(DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: bad }, {}))).toBe(false);
    }
  });

  it('still refuses values that are no strings', () => {
    expect(() => DateTimeScalar.parseValue({})).toThrow();
    expect(() => DateTimeScalar.parseLiteral({ kind: Kind.BOOLEAN, value: true }, {})).toThrow();
  });

  it('serialises dates as ISO-8601', () => {
    expect(JSON.stringify(DateTimeScalar.serialize(new Date('2026-01-02T03:04:05.678Z')))).toBe('"2026-01-02T03:04:05.678Z"');
  });
});
