/**
 * Case folding as Python 3.11's `re` does it under IGNORECASE (Unicode 14.0): the simple
 * lowercase and uppercase mappings (`_PyUnicode_ToLowercase`/`_ToUppercase`, one code point
 * to one) and `re._casefix._EXTRA_CASES` (lowercase letters sharing an uppercase, such as
 * `i`/`ı` and `s`/`ſ`). JavaScript's `i` flag folds differently (simple case folding, a
 * newer Unicode), so case-insensitive patterns are expanded with these tables instead.
 *
 * Tables: runs `start.count.stride.delta` (hex; each of `count` code points from `start`,
 * `stride` apart, maps to itself plus `delta`), made from CPython 3.11.7 with
 * `_sre.unicode_tolower` and `ctypes.pythonapi._PyUnicode_ToUppercase`.
 */

const LOWER_RUNS =
  '41.1a.1.20 c0.17.1.20 d8.7.1.20 100.18.2.1 130.1.1.-c7 132.3.2.1 139.8.2.1 14a.17.2.1 178.1.1.-79 ' +
  '179.3.2.1 181.1.1.d2 182.2.2.1 186.1.1.ce 187.1.1.1 189.2.1.cd 18b.1.1.1 18e.1.1.4f 18f.1.1.ca ' +
  '190.1.1.cb 191.1.1.1 193.1.1.cd 194.1.1.cf 196.1.1.d3 197.1.1.d1 198.1.1.1 19c.1.1.d3 19d.1.1.d5 ' +
  '19f.1.1.d6 1a0.3.2.1 1a6.1.1.da 1a7.1.1.1 1a9.1.1.da 1ac.1.1.1 1ae.1.1.da 1af.1.1.1 1b1.2.1.d9 ' +
  '1b3.2.2.1 1b7.1.1.db 1b8.1.1.1 1bc.1.1.1 1c4.1.1.2 1c5.1.1.1 1c7.1.1.2 1c8.1.1.1 1ca.1.1.2 1cb.9.2.1 ' +
  '1de.9.2.1 1f1.1.1.2 1f2.2.2.1 1f6.1.1.-61 1f7.1.1.-38 1f8.14.2.1 220.1.1.-82 222.9.2.1 23a.1.1.2a2b ' +
  '23b.1.1.1 23d.1.1.-a3 23e.1.1.2a28 241.1.1.1 243.1.1.-c3 244.1.1.45 245.1.1.47 246.5.2.1 370.2.2.1 ' +
  '376.1.1.1 37f.1.1.74 386.1.1.26 388.3.1.25 38c.1.1.40 38e.2.1.3f 391.11.1.20 3a3.9.1.20 3cf.1.1.8 ' +
  '3d8.c.2.1 3f4.1.1.-3c 3f7.1.1.1 3f9.1.1.-7 3fa.1.1.1 3fd.3.1.-82 400.10.1.50 410.20.1.20 460.11.2.1 ' +
  '48a.1b.2.1 4c0.1.1.f 4c1.7.2.1 4d0.30.2.1 531.26.1.30 10a0.26.1.1c60 10c7.1.1.1c60 10cd.1.1.1c60 ' +
  '13a0.50.1.97d0 13f0.6.1.8 1c90.2b.1.-bc0 1cbd.3.1.-bc0 1e00.4b.2.1 1e9e.1.1.-1dbf 1ea0.30.2.1 ' +
  '1f08.8.1.-8 1f18.6.1.-8 1f28.8.1.-8 1f38.8.1.-8 1f48.6.1.-8 1f59.4.2.-8 1f68.8.1.-8 1f88.8.1.-8 ' +
  '1f98.8.1.-8 1fa8.8.1.-8 1fb8.2.1.-8 1fba.2.1.-4a 1fbc.1.1.-9 1fc8.4.1.-56 1fcc.1.1.-9 1fd8.2.1.-8 ' +
  '1fda.2.1.-64 1fe8.2.1.-8 1fea.2.1.-70 1fec.1.1.-7 1ff8.2.1.-80 1ffa.2.1.-7e 1ffc.1.1.-9 ' +
  '2126.1.1.-1d5d 212a.1.1.-20bf 212b.1.1.-2046 2132.1.1.1c 2160.10.1.10 2183.1.1.1 24b6.1a.1.1a ' +
  '2c00.30.1.30 2c60.1.1.1 2c62.1.1.-29f7 2c63.1.1.-ee6 2c64.1.1.-29e7 2c67.3.2.1 2c6d.1.1.-2a1c ' +
  '2c6e.1.1.-29fd 2c6f.1.1.-2a1f 2c70.1.1.-2a1e 2c72.1.1.1 2c75.1.1.1 2c7e.2.1.-2a3f 2c80.32.2.1 ' +
  '2ceb.2.2.1 2cf2.1.1.1 a640.17.2.1 a680.e.2.1 a722.7.2.1 a732.1f.2.1 a779.2.2.1 a77d.1.1.-8a04 ' +
  'a77e.5.2.1 a78b.1.1.1 a78d.1.1.-a528 a790.2.2.1 a796.a.2.1 a7aa.1.1.-a544 a7ab.1.1.-a54f ' +
  'a7ac.1.1.-a54b a7ad.1.1.-a541 a7ae.1.1.-a544 a7b0.1.1.-a512 a7b1.1.1.-a52a a7b2.1.1.-a515 ' +
  'a7b3.1.1.3a0 a7b4.8.2.1 a7c4.1.1.-30 a7c5.1.1.-a543 a7c6.1.1.-8a38 a7c7.2.2.1 a7d0.1.1.1 a7d6.2.2.1 ' +
  'a7f5.1.1.1 ff21.1a.1.20 10400.28.1.28 104b0.24.1.28 10570.b.1.27 1057c.f.1.27 1058c.7.1.27 ' +
  '10594.2.1.27 10c80.33.1.40 118a0.20.1.20 16e40.20.1.20 1e900.22.1.22 ';

const UPPER_RUNS =
  '61.1a.1.-20 b5.1.1.2e7 df.1.1.-8c e0.17.1.-20 f8.7.1.-20 ff.1.1.79 101.18.2.-1 131.1.1.-e8 ' +
  '133.3.2.-1 13a.8.2.-1 149.1.1.173 14b.17.2.-1 17a.3.2.-1 17f.1.1.-12c 180.1.1.c3 183.2.2.-1 ' +
  '188.1.1.-1 18c.1.1.-1 192.1.1.-1 195.1.1.61 199.1.1.-1 19a.1.1.a3 19e.1.1.82 1a1.3.2.-1 1a8.1.1.-1 ' +
  '1ad.1.1.-1 1b0.1.1.-1 1b4.2.2.-1 1b9.1.1.-1 1bd.1.1.-1 1bf.1.1.38 1c5.1.1.-1 1c6.1.1.-2 1c8.1.1.-1 ' +
  '1c9.1.1.-2 1cb.1.1.-1 1cc.1.1.-2 1ce.8.2.-1 1dd.1.1.-4f 1df.9.2.-1 1f0.1.1.-1a6 1f2.1.1.-1 ' +
  '1f3.1.1.-2 1f5.1.1.-1 1f9.14.2.-1 223.9.2.-1 23c.1.1.-1 23f.2.1.2a3f 242.1.1.-1 247.5.2.-1 ' +
  '250.1.1.2a1f 251.1.1.2a1c 252.1.1.2a1e 253.1.1.-d2 254.1.1.-ce 256.2.1.-cd 259.1.1.-ca 25b.1.1.-cb ' +
  '25c.1.1.a54f 260.1.1.-cd 261.1.1.a54b 263.1.1.-cf 265.1.1.a528 266.1.1.a544 268.1.1.-d1 269.1.1.-d3 ' +
  '26a.1.1.a544 26b.1.1.29f7 26c.1.1.a541 26f.1.1.-d3 271.1.1.29fd 272.1.1.-d5 275.1.1.-d6 27d.1.1.29e7 ' +
  '280.1.1.-da 282.1.1.a543 283.1.1.-da 287.1.1.a52a 288.1.1.-da 289.1.1.-45 28a.2.1.-d9 28c.1.1.-47 ' +
  '292.1.1.-db 29d.1.1.a515 29e.1.1.a512 345.1.1.54 371.2.2.-1 377.1.1.-1 37b.3.1.82 390.1.1.9 ' +
  '3ac.1.1.-26 3ad.3.1.-25 3b0.1.1.-b 3b1.11.1.-20 3c2.1.1.-1f 3c3.9.1.-20 3cc.1.1.-40 3cd.2.1.-3f ' +
  '3d0.1.1.-3e 3d1.1.1.-39 3d5.1.1.-2f 3d6.1.1.-36 3d7.1.1.-8 3d9.c.2.-1 3f0.1.1.-56 3f1.1.1.-50 ' +
  '3f2.1.1.7 3f3.1.1.-74 3f5.1.1.-60 3f8.1.1.-1 3fb.1.1.-1 430.20.1.-20 450.10.1.-50 461.11.2.-1 ' +
  '48b.1b.2.-1 4c2.7.2.-1 4cf.1.1.-f 4d1.30.2.-1 561.26.1.-30 587.1.1.-52 10d0.2b.1.bc0 10fd.3.1.bc0 ' +
  '13f8.6.1.-8 1c80.1.1.-186e 1c81.1.1.-186d 1c82.1.1.-1864 1c83.2.1.-1862 1c85.1.1.-1863 ' +
  '1c86.1.1.-185c 1c87.1.1.-1825 1c88.1.1.89c2 1d79.1.1.8a04 1d7d.1.1.ee6 1d8e.1.1.8a38 1e01.4b.2.-1 ' +
  '1e96.1.1.-1e4e 1e97.1.1.-1e43 1e98.1.1.-1e41 1e99.1.1.-1e40 1e9a.1.1.-1e59 1e9b.1.1.-3b 1ea1.30.2.-1 ' +
  '1f00.8.1.8 1f10.6.1.8 1f20.8.1.8 1f30.8.1.8 1f40.6.1.8 1f50.1.1.-1bab 1f51.1.1.8 1f52.1.1.-1bad ' +
  '1f53.1.1.8 1f54.1.1.-1baf 1f55.1.1.8 1f56.1.1.-1bb1 1f57.1.1.8 1f60.8.1.8 1f70.2.1.4a 1f72.4.1.56 ' +
  '1f76.2.1.64 1f78.2.1.80 1f7a.2.1.70 1f7c.2.1.7e 1f80.8.1.-78 1f88.8.1.-80 1f90.8.1.-68 1f98.8.1.-70 ' +
  '1fa0.8.1.-38 1fa8.8.1.-40 1fb0.3.1.8 1fb3.1.1.-1c22 1fb4.1.1.-1c2e 1fb6.1.1.-1c25 1fb7.1.1.-1c26 ' +
  '1fbc.1.1.-1c2b 1fbe.1.1.-1c25 1fc2.1.1.8 1fc3.1.1.-1c2c 1fc4.1.1.-1c3b 1fc6.1.1.-1c2f 1fc7.1.1.-1c30 ' +
  '1fcc.1.1.-1c35 1fd0.2.1.8 1fd2.1.1.-1c39 1fd3.1.1.-1c3a 1fd6.1.1.-1c3d 1fd7.1.1.-1c3e 1fe0.2.1.8 ' +
  '1fe2.1.1.-1c3d 1fe3.1.1.-1c3e 1fe4.1.1.-1c43 1fe5.1.1.7 1fe6.1.1.-1c41 1fe7.1.1.-1c42 1ff2.1.1.8 ' +
  '1ff3.1.1.-1c4a 1ff4.1.1.-1c65 1ff6.1.1.-1c4d 1ff7.1.1.-1c4e 1ffc.1.1.-1c53 214e.1.1.-1c ' +
  '2170.10.1.-10 2184.1.1.-1 24d0.1a.1.-1a 2c30.30.1.-30 2c61.1.1.-1 2c65.1.1.-2a2b 2c66.1.1.-2a28 ' +
  '2c68.3.2.-1 2c73.1.1.-1 2c76.1.1.-1 2c81.32.2.-1 2cec.2.2.-1 2cf3.1.1.-1 2d00.26.1.-1c60 ' +
  '2d27.1.1.-1c60 2d2d.1.1.-1c60 a641.17.2.-1 a681.e.2.-1 a723.7.2.-1 a733.1f.2.-1 a77a.2.2.-1 ' +
  'a77f.5.2.-1 a78c.1.1.-1 a791.2.2.-1 a794.1.1.30 a797.a.2.-1 a7b5.8.2.-1 a7c8.2.2.-1 a7d1.1.1.-1 ' +
  'a7d7.2.2.-1 a7f6.1.1.-1 ab53.1.1.-3a0 ab70.50.1.-97d0 fb00.1.1.-faba fb01.1.1.-fabb fb02.1.1.-fabc ' +
  'fb03.1.1.-fabd fb04.1.1.-fabe fb05.1.1.-fab2 fb06.1.1.-fab3 fb13.1.1.-f5cf fb14.1.1.-f5d0 ' +
  'fb15.1.1.-f5d1 fb16.1.1.-f5c8 fb17.1.1.-f5d3 ff41.1a.1.-20 10428.28.1.-28 104d8.24.1.-28 ' +
  '10597.b.1.-27 105a3.f.1.-27 105b3.7.1.-27 105bb.2.1.-27 10cc0.33.1.-40 118c0.20.1.-20 16e60.20.1.-20 ' +
  '1e922.22.1.-22 ';

/** `re._casefix._EXTRA_CASES` of CPython 3.11. */
const EXTRA_CASES: Record<number, number[]> = { 0x69: [0x131], 0x73: [0x17f], 0xb5: [0x3bc], 0x131: [0x69], 0x17f: [0x73], 0x345: [0x3b9, 0x1fbe], 0x390: [0x1fd3], 0x3b0: [0x1fe3], 0x3b2: [0x3d0], 0x3b5: [0x3f5], 0x3b8: [0x3d1], 0x3b9: [0x345, 0x1fbe], 0x3ba: [0x3f0], 0x3bc: [0xb5], 0x3c0: [0x3d6], 0x3c1: [0x3f1], 0x3c2: [0x3c3], 0x3c3: [0x3c2], 0x3c6: [0x3d5], 0x3d0: [0x3b2], 0x3d1: [0x3b8], 0x3d5: [0x3c6], 0x3d6: [0x3c0], 0x3f0: [0x3ba], 0x3f1: [0x3c1], 0x3f5: [0x3b5], 0x432: [0x1c80], 0x434: [0x1c81], 0x43e: [0x1c82], 0x441: [0x1c83], 0x442: [0x1c84, 0x1c85], 0x44a: [0x1c86], 0x463: [0x1c87], 0x1c80: [0x432], 0x1c81: [0x434], 0x1c82: [0x43e], 0x1c83: [0x441], 0x1c84: [0x442, 0x1c85], 0x1c85: [0x442, 0x1c84], 0x1c86: [0x44a], 0x1c87: [0x463], 0x1c88: [0xa64b], 0x1e61: [0x1e9b], 0x1e9b: [0x1e61], 0x1fbe: [0x345, 0x3b9], 0x1fd3: [0x390], 0x1fe3: [0x3b0], 0xa64b: [0x1c88], 0xfb05: [0xfb06], 0xfb06: [0xfb05] };

function decode(runs: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const run of runs.trim().split(' ')) {
    const [start, count, stride, delta] = run.split('.').map((h) => parseInt(h, 16));
    for (let k = 0; k < count; k++) map.set(start + k * stride, start + k * stride + delta);
  }
  return map;
}

let lowerMap: Map<number, number> | undefined;
let upperMap: Map<number, number> | undefined;
let lowerPreimages: Map<number, number[]> | undefined;

function lowers(): Map<number, number> {
  return (lowerMap ??= decode(LOWER_RUNS));
}

function uppers(): Map<number, number> {
  return (upperMap ??= decode(UPPER_RUNS));
}

/** `_sre.unicode_tolower`. */
export function pyLower(cp: number): number {
  return lowers().get(cp) ?? cp;
}

/** CPython's `_PyUnicode_ToUppercase`. */
export function pyUpper(cp: number): number {
  return uppers().get(cp) ?? cp;
}

/** `_sre.unicode_iscased`. */
export function pyIsCased(cp: number): boolean {
  return lowers().has(cp) || uppers().has(cp);
}

/** Other lowercase letters with the same uppercase as `lower` (`_EXTRA_CASES`). */
export function extraCases(lower: number): readonly number[] {
  return EXTRA_CASES[lower] ?? [];
}

/** The lowercase letters that have `_EXTRA_CASES`. */
export function extraCaseKeys(): number[] {
  return Object.keys(EXTRA_CASES).map(Number);
}

/** The code points whose lowercase is not themselves, with their lowercase. */
export function loweringCodePoints(): ReadonlyMap<number, number> {
  return lowers();
}

/** The code points whose uppercase is not themselves, with their uppercase. */
export function upperingCodePoints(): ReadonlyMap<number, number> {
  return uppers();
}

/** Every code point whose lowercase is `lower` (itself included when it is its own lowercase). */
export function lowerPreimage(lower: number): readonly number[] {
  if (lowerPreimages === undefined) {
    lowerPreimages = new Map();
    for (const [cp, lo] of lowers()) {
      const list = lowerPreimages.get(lo) ?? [];
      list.push(cp);
      lowerPreimages.set(lo, list);
    }
  }
  const others = lowerPreimages.get(lower) ?? [];
  return lowers().has(lower) ? others : [lower, ...others];
}
