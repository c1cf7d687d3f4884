/**
 * Deterministic bucketing, as Flagsmith's `flag_engine/utils/hashing.py`:
 *
 *   to_hash = ",".join(str(id) for id in object_ids * iterations)
 *   value = (int(md5(to_hash).hexdigest(), 16) % 9999) / 9998 * 100
 *   if value == 100: retry with iterations + 1
 *
 * The md5 digest is read as the whole 128-bit integer. Instead of allocating a BigInt we
 * reduce the hex digits modulo 9999 one by one (Horner's rule), which yields exactly
 * `BigInt('0x' + hex) % 9999n`.
 */
import * as crypto from 'node:crypto';

export type HexDigest = (input: string) => string;

/** md5 hex digest of the UTF-8 bytes of `input`; `crypto.hash` when available (Node ≥ 20.12). */
export const md5Hex: HexDigest =
  typeof crypto.hash === 'function'
    ? (input) => crypto.hash('md5', input, 'hex')
    : (input) => crypto.createHash('md5').update(input, 'utf8').digest('hex');

/** `BigInt('0x' + hex) % 9999n`, without BigInt. */
export function hexMod9999(hex: string): number {
  let r = 0;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    // '0'-'9' → 0-9, 'a'-'f' → 10-15, 'A'-'F' → 10-15
    const d = c <= 57 ? c - 48 : (c | 0x20) - 87;
    r = (r * 16 + d) % 9999;
  }
  return r;
}

/** The bucket for one string to hash: in [0, 100], 100 only when the residue is 9998. */
export function percentageOfString(toHash: string, hash: HexDigest = md5Hex): number {
  return (hexMod9999(hash(toHash)) / 9998) * 100;
}

/**
 * Percentage in [0, 100) for a list of ids (already rendered as strings, i.e. Python
 * `str()` of each id). `iterations` repeats the list, as the reference's recursion does.
 */
export function getHashedPercentageForObjectIds(
  objectIds: readonly string[],
  iterations = 1,
  hash: HexDigest = md5Hex,
): number {
  for (let it = iterations; ; it++) {
    let toHash = '';
    for (let r = 0; r < it; r++) {
      for (let i = 0; i < objectIds.length; i++) {
        toHash += r === 0 && i === 0 ? objectIds[i] : ',' + objectIds[i];
      }
    }
    const value = percentageOfString(toHash, hash);
    if (value !== 100) return value;
  }
}

/** Fast path for the common two-id case: `[first, second]`. */
export function hashedPercentageForPair(first: string, second: string, hash: HexDigest = md5Hex): number {
  const value = percentageOfString(first + ',' + second, hash);
  return value !== 100 ? value : getHashedPercentageForObjectIds([first, second], 2, hash);
}
