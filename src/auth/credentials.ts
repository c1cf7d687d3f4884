// Who is calling: resolved once per request from the headers (SPEC.md section 4).
import { createHash, randomBytes } from 'node:crypto';
import type { ApiScope } from '../generated/prisma/enums.js';

export type Caller =
  | { kind: 'anonymous'; rejected: boolean }
  | { kind: 'client'; environmentId: number; projectId: number }
  | { kind: 'token'; tokenId: number; tokenName: string; scopes: ApiScope[] };

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniformly random base62 text (rejection sampling avoids modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function newEnvironmentKey(): string {
  return `env_${randomBase62(22)}`;
}

export function newTokenSecret(): string {
  return `flt_${randomBase62(40)}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
