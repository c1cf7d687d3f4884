/**
 * Semantic versions as the reference compares them (python-semver 3 `Version`): strict
 * SemVer 2.0 parsing (no `v` prefix, no leading zeros, no whitespace; Python's `$` also
 * accepts one trailing newline), ordering by major.minor.patch then prerelease, build
 * metadata ignored.
 */

export interface SemVer {
  readonly major: string; // decimal digits without leading zeros (exact, any size)
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: string | null;
  readonly build: string | null;
}

const NUM = '(0|[1-9][0-9]*)';
const PRE_ID = '(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER_RE = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?\\n?$`,
);

export const SEMVER_SUFFIX = ':semver';

export function parseSemver(s: string): SemVer | undefined {
  const m = SEMVER_RE.exec(s);
  if (m === null) return undefined;
  return { major: m[1], minor: m[2], patch: m[3], prerelease: m[4] ?? null, build: m[5] ?? null };
}

/** Compare two non-negative decimal strings without leading zeros. */
function cmpDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

const ALL_DIGITS = /^[0-9]+$/;

/** python-semver's `_nat_cmp` on prerelease strings ('' when absent). */
function natCmp(a: string, b: string): number {
  const ap = a.split('.');
  const bp = b.split('.');
  const n = Math.min(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const x = ap[i];
    const y = bp[i];
    const xNum = ALL_DIGITS.test(x);
    const yNum = ALL_DIGITS.test(y);
    let c: number;
    if (xNum && yNum) {
      const xi = BigInt(x);
      const yi = BigInt(y);
      c = xi === yi ? 0 : xi < yi ? -1 : 1;
    } else if (xNum) c = -1;
    else if (yNum) c = 1;
    else c = x === y ? 0 : x < y ? -1 : 1; // ASCII only: code-unit order is code-point order
    if (c !== 0) return c;
  }
  // The reference compares the lengths of the whole strings here, not the part counts.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** python-semver's `Version.compare`: -1, 0 or 1. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const c = cmpDigits(a.major, b.major) || cmpDigits(a.minor, b.minor) || cmpDigits(a.patch, b.patch);
  if (c !== 0) return c;
  const ra = a.prerelease ?? '';
  const rb = b.prerelease ?? '';
  const rc = natCmp(ra, rb);
  if (rc === 0) return 0;
  if (ra === '') return 1;
  if (rb === '') return -1;
  return rc;
}

/**
 * `other in version`: python-semver's `Version` iterates over
 * (major, minor, patch, prerelease, build); only the string parts can equal a str.
 */
export function semverContains(v: SemVer, s: string): boolean {
  return v.prerelease === s || v.build === s;
}
