import { describe, expect, it, vi } from 'vitest';
import { getHashedPercentageForObjectIds, hashedPercentageForPair, hexMod9999, percentageOfString } from './hashing.js';
import { referencePercentage } from '../../test/helpers/engine.js';

describe('hashing', () => {
  it.each([
    [['78986', 'test_env_foobar'], 54.53090618123625],
    [['12345', 'test_env_foobar'], 51.990398079615915],
    [['1', 'user'], 51.29025805161033],
    [['feature', 'ünïcode-✓'], 8.461692338467694], // UTF-8 bytes
  ])('matches the md5 percentage of %j computed with Python hashlib', (ids, expected) => {
    expect(getHashedPercentageForObjectIds(ids)).toBe(expected);
  });

  it('agrees with a BigInt computation over the full 128-bit digest', () => {
    for (let i = 0; i < 2000; i++) {
      const ids = [`feature-${i % 37}`, `identity-${i}-${(i * 7919) % 1000}`];
      expect(getHashedPercentageForObjectIds(ids)).toBe(referencePercentage(ids));
      expect(hashedPercentageForPair(ids[0], ids[1])).toBe(referencePercentage(ids));
    }
  });

  it.each(['ffffffffffffffffffffffffffffffff', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'])('takes %s modulo 9999 exactly', (hex) => {
    expect(hexMod9999(hex)).toBe(Number(BigInt('0x' + hex) % 9999n));
  });

  it('rehashes with the id list repeated when the percentage is exactly 100', () => {
    // md5("rehash,identity_6196") % 9999 == 9998 (found by search, checked with Python).
    const ids = ['rehash', 'identity_6196'];
    expect(percentageOfString('rehash,identity_6196')).toBe(100);
    const expected = percentageOfString('rehash,identity_6196,rehash,identity_6196');
    expect(expected).toBe(64.10282056411283);
    expect(getHashedPercentageForObjectIds(ids)).toBe(expected);
    expect(hashedPercentageForPair(ids[0], ids[1])).toBe(expected);
  });

  it('keeps repeating (three times, ...) while the result is 100, with an injected hash', () => {
    const hex9998 = (9998).toString(16).padStart(32, '0'); // % 9999 == 9998 → 100
    const hex42 = (42).toString(16).padStart(32, '0');
    const hash = vi.fn((s: string) => (s.split(',').length < 6 ? hex9998 : hex42));
    expect(getHashedPercentageForObjectIds(['a', 'b'], 1, hash)).toBe((42 / 9998) * 100);
    expect(hash.mock.calls.map((c) => c[0])).toEqual(['a,b', 'a,b,a,b', 'a,b,a,b,a,b']);
  });

  it('is deterministic', () => {
    const a = getHashedPercentageForObjectIds(['f', 'id']);
    for (let i = 0; i < 10; i++) expect(getHashedPercentageForObjectIds(['f', 'id'])).toBe(a);
  });
});
